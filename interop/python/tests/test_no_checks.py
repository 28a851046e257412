"""--client_fault=no-checks (docs/peer-contract.md, "A client that skips its checks"): every case
still makes its calls but checks nothing and reports passed, in every suite."""

from __future__ import annotations

from peers import (
    DISCOVERY_CASES,
    EDGES_CASES,
    SINGLE_PROCESS_CASES,
    TESTING_CASES,
    RunningServer,
    closed_port,
    run_client,
    running_server,
)
from test_interop import assert_well_formed

NO_CHECKS = "--client_fault=no-checks"
# One fault per suite's kind of check: values, lengths, status codes, streams, timing, the version.
FAULTS = (
    "greeting-punctuation,stream-truncate,count-limit-low,article-limit-low,health-serving-any,version-wrong,"
    "testing-empty-payload,testing-status-ignored,testing-duplex-extra,testing-implement-everything,"
    "testing-status-unknown,testing-interval-ignored,reflection-incomplete"
)
SECURITY_CASE = "mtls_client_without_certificate"


def test_no_checks_makes_stream_server_pass_against_stream_truncate() -> None:
    with running_server("--fault=stream-truncate") as server:
        assert run_client(server.port, ["stream_server"]).records[0]["status"] == "failed"
        run = run_client(server.port, ["stream_server"], NO_CHECKS)
    assert run.records[0]["status"] == "passed" and run.returncode == 0 and run.stderr == ""


def test_every_case_of_every_suite_passes_against_a_faulty_server() -> None:
    cases = (*SINGLE_PROCESS_CASES, *TESTING_CASES, *EDGES_CASES, SECURITY_CASE, *DISCOVERY_CASES)
    with running_server(f"--fault={FAULTS}") as server:
        checked = run_client(server.port, cases)
        run = run_client(server.port, cases, NO_CHECKS)
    # Without no-checks, most of them fail (the security case too: it needs TLS).
    assert sum(record["status"] == "failed" for record in checked.records) >= 15
    assert_well_formed(run.records, cases)
    assert [record for record in run.records if record["status"] != "passed"] == []
    assert run.returncode == 0 and run.stderr == ""
    # The calls are still made, and what they got is still reported for the runner.
    assert run.by_case()["server_info_version"]["observed"] == {
        "language": "python",
        "implementation": "grpcio",
        "version": "0.0.0-fault",
    }


def test_no_checks_against_no_server_still_passes_in_bounded_time() -> None:
    run = run_client(closed_port(), ["greeter_say_hello", "stream_bidi", "ping_pong"], NO_CHECKS, "--rpc_timeout_ms=500")
    assert [record["status"] for record in run.records] == ["passed"] * 3 and run.returncode == 0


def test_an_unknown_case_is_still_a_failure(server: RunningServer) -> None:
    run = run_client(server.port, ["no_such_case"], NO_CHECKS)
    assert run.records[0]["status"] == "failed" and run.returncode == 1
