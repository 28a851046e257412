"""Every seeds case and every discovery case can fail: against a server with one
fault, exactly the cases the contract lists turn red (the Python client's, that is: not the grpcurl
and grpc-health-probe ones). (The testing-* faults are in test_testing_faults.py and test_edges.py;
the discovery faults on the older grpcio releases in test_discovery.py.)"""

from __future__ import annotations

import pytest
from peers import DISCOVERY_CASES, REFLECTION_V1_CASES, SEED_CASES, SINGLE_PROCESS_CASES, run_client, running_server

from interop_peer.faults import Fault

# docs/peer-contract.md, "Faults": the cases each fault must break.
BREAKS: dict[Fault, set[str]] = {
    Fault.GREETING_PUNCTUATION: {
        "greeter_say_hello",
        "greeter_say_hello_again",
        "concurrent_unary",
        "multi_address_failover",
    },
    Fault.AGAIN_WRONG: {"greeter_say_hello_again"},
    Fault.SERVICE_WRONG: {"helloworld_service"},
    Fault.LENGTH_UTF16: {"compute_length"},
    Fault.LENGTH_BYTES: {"compute_length"},
    Fault.RECOMMEND_SHARE_SET: {"user_recommend"},
    Fault.RECOMMEND_NO_VALIDATION: {"user_recommend"},
    Fault.RANDOM_CONSTANT: {"random_get"},
    Fault.PANDA_FLOAT64: {"panda_getinfo"},
    Fault.STREAM_TRUNCATE: {"stream_server"},
    Fault.GREETINGS_REVERSED: {"stream_client"},
    Fault.BIDI_BUFFERED: {"stream_bidi"},
    Fault.UNARY_EVERY_10TH_UNAVAILABLE: {"concurrent_unary"},
    Fault.SINGLE_WORKER: {"reuseport_workers"},
    Fault.COUNT_LIMIT_LOW: {"stream_server_max_count"},
    Fault.COUNT_LIMIT_NONE: {"stream_server_max_count"},
    Fault.ARTICLE_LIMIT_LOW: {"user_recommend_max_articles"},
    Fault.HEALTH_SERVING_ANY: {"health_unknown_service"},
    Fault.VERSION_WRONG: {"server_info_version"},
    Fault.REFLECTION_INCOMPLETE: {"reflection_list_v1", "reflection_list_v1alpha", "reflection_file_containing_symbol"},
    Fault.HEALTH_WATCH_SILENT: {"health_unknown_service", "health_watch_serving", "health_watch_updates"},
    Fault.HEALTH_SERVICES_NOT_SERVING: {"health_unknown_service", "health_check_every_service"},
    Fault.HEALTH_WATCH_NO_UPDATES: {"health_watch_updates"},
}
# Cases that also break, beyond the contract's list (allowed by the self-test): health-serving-any
# calls health_watch_updates' fresh name SERVING, whose first Watch message must be SERVICE_UNKNOWN
# (the runner's self-test does not run health-serving-any against the discovery suite).
ALSO_BREAKS: dict[Fault, set[str]] = {Fault.HEALTH_SERVING_ANY: {"health_watch_updates"}}
# Broken in the runner's eyes, not the client's: the case passes and reports what it got
# ("observed"), and the runner compares the version with the installed library's.
RUNNER_JUDGED: dict[Fault, tuple[str, dict[str, object]]] = {
    Fault.VERSION_WRONG: (
        "server_info_version",
        {"language": "python", "implementation": "grpcio", "version": "0.0.0-fault"},
    ),
}
# A generous deadline for a loaded machine.
RPC_TIMEOUT = "--rpc_timeout_ms=5000"

SEED_FAULTS = [fault for fault in Fault if not fault.startswith(("testing-", "scripted-"))]


def test_every_fault_is_covered() -> None:
    assert set(BREAKS) == set(SEED_FAULTS) and len(SEED_FAULTS) == 23
    assert set().union(*BREAKS.values()) == set(SEED_CASES) | set(DISCOVERY_CASES)


@pytest.mark.parametrize("fault", SEED_FAULTS, ids=str)
def test_fault_breaks_exactly_its_cases(fault: Fault) -> None:
    # single-worker is checked with --workers=4 (which it must defeat) and the full suite.
    workers = fault is Fault.SINGLE_WORKER
    cases = (*(SEED_CASES if workers else SINGLE_PROCESS_CASES), *DISCOVERY_CASES)
    flags = [f"--fault={fault}", *(["--workers=4"] if workers else [])]
    with running_server(*flags) as server:
        run = run_client(server.port, cases, RPC_TIMEOUT)
    failed = {str(record["case"]) for record in run.records if record["status"] == "failed"}
    judged, observed = RUNNER_JUDGED.get(fault, ("", {}))
    # The grpc.reflection.v1 cases fail whatever the fault: the Python client cannot call v1.
    assert failed == (BREAKS[fault] | ALSO_BREAKS.get(fault, set())) - {judged} | set(REFLECTION_V1_CASES), run.stderr
    if judged:
        assert run.by_case()[judged]["observed"] == observed
    assert run.returncode == 1
    for case in failed:
        assert f"client: {case} failed: " in run.stderr
