"""Every grpc.testing case can fail: each testing-* fault of the grpc.testing suite breaks the cases
the contract lists (the testing-edges suite's faults are in test_edges.py)."""

from __future__ import annotations

import pytest
from peers import PYTHON_CLIENT_CANNOT, TESTING_CASES, run_client, running_server
from test_edges import EDGES_BREAKS

from interop_peer.faults import Fault

# docs/peer-contract.md, "Faults for the grpc.testing self-test": the cases each fault must break.
BREAKS: dict[Fault, set[str]] = {
    Fault.TESTING_EMPTY_PAYLOAD: {
        "large_unary",
        "client_compressed_unary",
        "server_compressed_unary",
        "custom_metadata",
    },
    Fault.TESTING_AGGREGATE_OFF: {"client_streaming", "client_compressed_streaming"},
    Fault.TESTING_STREAM_DROP_LAST: {"server_streaming", "server_compressed_streaming"},
    Fault.TESTING_DUPLEX_BUFFERED: {"ping_pong", "cancel_after_first_response"},
    Fault.TESTING_DUPLEX_EXTRA: {"empty_stream", "ping_pong"},
    Fault.TESTING_NO_ECHO_METADATA: {"custom_metadata"},
    Fault.TESTING_STATUS_IGNORED: {"status_code_and_message", "special_status_message"},
    Fault.TESTING_STATUS_MESSAGE_TRIMMED: {"special_status_message"},
    Fault.TESTING_IMPLEMENT_EVERYTHING: {"unimplemented_method", "unimplemented_service"},
    Fault.TESTING_EMPTY_CALL_ERROR: {"empty_unary"},
    Fault.TESTING_COMPRESSION_UNCHECKED: {"client_compressed_unary", "client_compressed_streaming"},
}
# Cases that also break, beyond the contract's list (allowed by the self-test): custom_metadata's
# FullDuplexCall also checks that the stream ends after its one response.
ALSO_BREAKS: dict[Fault, set[str]] = {Fault.TESTING_DUPLEX_EXTRA: {"custom_metadata"}}
TESTING_FAULTS = [fault for fault in Fault if fault.startswith("testing-") and fault not in EDGES_BREAKS]


def test_every_testing_fault_is_covered() -> None:
    assert set(BREAKS) == set(TESTING_FAULTS) and len(TESTING_FAULTS) == 11
    assert set().union(*BREAKS.values()) <= set(TESTING_CASES)


@pytest.mark.parametrize("fault", TESTING_FAULTS, ids=str)
def test_testing_fault_breaks_its_cases(fault: Fault) -> None:
    with running_server(f"--fault={fault}") as server:
        run = run_client(server.port, TESTING_CASES, "--rpc_timeout_ms=1000")
    failed = {str(record["case"]) for record in run.records if record["status"] == "failed"}
    assert BREAKS[fault] <= failed, run.stderr
    assert failed - BREAKS[fault] <= ALSO_BREAKS.get(fault, set()) | set(PYTHON_CLIENT_CANNOT), run.stderr
    assert run.returncode == 1
