"""The real client against the real server: every seeds case passes, the output follows the contract."""

from __future__ import annotations

import subprocess
import sys

import grpc
from peers import (
    CLIENT,
    OBSERVING_CASES,
    SEED_CASES,
    SERVER,
    SINGLE_PROCESS_CASES,
    RunningServer,
    closed_port,
    run_client,
)


def assert_well_formed(records: list[dict[str, object]], cases: tuple[str, ...] | list[str]) -> None:
    assert [record["case"] for record in records] == list(cases)
    for record in records:
        assert set(record) - {"observed", "error"} == {"case", "status", "ms"}, record
        assert record["status"] in ("passed", "failed")
        assert isinstance(record["ms"], float) and record["ms"] >= 0
        assert ("error" in record) == (record["status"] == "failed")
        # "observed" is what a passed case got for the runner to judge (server_info_version).
        assert ("observed" in record) == (record["case"] in OBSERVING_CASES and record["status"] == "passed"), record


def test_all_single_process_cases_pass(server: RunningServer) -> None:
    run = run_client(server.port, SINGLE_PROCESS_CASES)
    assert_well_formed(run.records, SINGLE_PROCESS_CASES)
    assert [record for record in run.records if record["status"] != "passed"] == []
    assert run.returncode == 0 and run.stderr == ""


def test_every_case_passes_against_four_workers(workers_server: RunningServer) -> None:
    run = run_client(workers_server.port, SEED_CASES)
    assert_well_formed(run.records, SEED_CASES)
    assert [record for record in run.records if record["status"] != "passed"] == []
    assert run.returncode == 0 and run.stderr == ""


def test_server_info_version_reports_exactly_what_getinfo_returned(server: RunningServer) -> None:
    run = run_client(server.port, ["server_info_version"])
    observed = {"language": "python", "implementation": "grpcio", "version": grpc.__version__}
    assert run.records[0]["status"] == "passed" and run.records[0]["observed"] == observed


def test_server_info_version_fails_only_when_getinfo_fails() -> None:
    run = run_client(closed_port(), ["server_info_version"], "--rpc_timeout_ms=500", timeout=20)
    assert_well_formed(run.records, ["server_info_version"])
    assert "GetInfo(): expected status OK, got status UNAVAILABLE" in str(run.records[0]["error"])


def test_reuseport_workers_fails_against_one_process(server: RunningServer) -> None:
    run = run_client(server.port, ["reuseport_workers"])
    assert run.returncode == 1
    assert "at least 2 distinct pids" in str(run.records[0]["error"])


def test_unknown_case_is_a_failed_line_and_the_rest_still_runs(server: RunningServer) -> None:
    run = run_client(server.port, ["no_such_case", "greeter_say_hello"])
    assert_well_formed(run.records, ["no_such_case", "greeter_say_hello"])
    assert run.records[0]["status"] == "failed" and run.records[0]["error"] == "unknown test case: no_such_case"
    assert run.records[1]["status"] == "passed"
    assert run.returncode == 1 and "unknown test case: no_such_case" in run.stderr


def test_unreachable_server_fails_every_case_in_bounded_time() -> None:
    run = run_client(closed_port(), ["greeter_say_hello", "stream_bidi"], "--rpc_timeout_ms=500", timeout=20)
    assert_well_formed(run.records, ["greeter_say_hello", "stream_bidi"])
    assert all(record["status"] == "failed" for record in run.records)
    assert "UNAVAILABLE" in str(run.records[0]["error"]) and run.returncode == 1


def test_bad_flags_exit_2() -> None:
    for script, argv in (
        (SERVER, ["--port=-1"]),
        (SERVER, ["--port=0", "--fault=nope"]),
        (CLIENT, ["--server_host=h"]),
    ):
        result = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, (script, argv)
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
