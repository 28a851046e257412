"""The grpc.testing suite and the TLS/mTLS transports: the real client against the real server."""

from __future__ import annotations

import pytest
from peers import (
    CLIENT_CERT_FLAGS,
    CLIENT_TRANSPORT_FLAGS,
    PYTHON_CLIENT_CANNOT,
    SEED_CASES,
    TESTING_CASES,
    TLS_CLIENT_FLAGS,
    RunningServer,
    run_client,
)
from test_interop import assert_well_formed

CANCEL_CASES = ("cancel_after_begin", "cancel_after_first_response", "timeout_on_sleeping_server")


def test_every_testing_case_passes_except_what_the_python_client_cannot_do(
    transport: tuple[str, RunningServer],
) -> None:
    name, server = transport
    run = run_client(server.port, TESTING_CASES, *CLIENT_TRANSPORT_FLAGS[name])
    assert_well_formed(run.records, TESTING_CASES)
    failed = {str(record["case"]): str(record.get("error")) for record in run.records if record["status"] != "passed"}
    assert set(failed) == set(PYTHON_CLIENT_CANNOT), run.stderr
    for case, limitation in PYTHON_CLIENT_CANNOT.items():
        assert limitation in failed[case]
    assert run.returncode == 1


@pytest.mark.parametrize("name", ["tls", "mtls"])
def test_every_seeds_case_passes_over_tls(name: str, request: pytest.FixtureRequest) -> None:
    server: RunningServer = request.getfixturevalue(f"{name}_workers_server")
    run = run_client(server.port, SEED_CASES, *CLIENT_TRANSPORT_FLAGS[name])
    assert_well_formed(run.records, SEED_CASES)
    assert [record for record in run.records if record["status"] != "passed"] == []
    assert run.returncode == 0 and run.stderr == ""


def test_mtls_server_rejects_a_client_without_certificate(mtls_workers_server: RunningServer) -> None:
    run = run_client(mtls_workers_server.port, ["empty_unary", "greeter_say_hello"], *TLS_CLIENT_FLAGS)
    assert [record["status"] for record in run.records] == ["failed", "failed"]
    assert all("UNAVAILABLE" in str(record["error"]) for record in run.records)
    assert run.returncode == 1


def test_tls_client_with_the_wrong_server_name_fails(tls_workers_server: RunningServer) -> None:
    # multi_address_failover's ipv4: target checks the overridden name too.
    flags = ("--use_tls=true", "--use_test_ca=true", "--server_host_override=wrong.example.com")
    run = run_client(tls_workers_server.port, ["empty_unary", "multi_address_failover"], *flags)
    assert [record["status"] for record in run.records] == ["failed", "failed"]
    assert all("UNAVAILABLE" in str(record["error"]) for record in run.records)
    assert run.returncode == 1


def test_tls_client_without_the_test_ca_fails(tls_workers_server: RunningServer) -> None:
    # The system roots do not trust the project's CA.
    flags = ("--use_tls=true", "--server_host_override=foo.test.google.fr")
    run = run_client(tls_workers_server.port, ["empty_unary"], *flags)
    assert run.records[0]["status"] == "failed" and "UNAVAILABLE" in str(run.records[0]["error"])


def test_tls_client_against_an_insecure_server_fails(server: RunningServer) -> None:
    run = run_client(server.port, ["empty_unary"], *TLS_CLIENT_FLAGS, *CLIENT_CERT_FLAGS)
    assert run.records[0]["status"] == "failed" and "UNAVAILABLE" in str(run.records[0]["error"])


def test_client_fault_no_cancel_breaks_the_cancel_and_deadline_cases(server: RunningServer) -> None:
    cases = (*CANCEL_CASES, "ping_pong", "empty_unary")
    run = run_client(server.port, cases, "--client_fault=no-cancel")
    assert_well_formed(run.records, cases)
    status = {str(record["case"]): record["status"] for record in run.records}
    assert status == {**dict.fromkeys(CANCEL_CASES, "failed"), "ping_pong": "passed", "empty_unary": "passed"}
    errors = [str(record["error"]) for record in run.records if record["status"] == "failed"]
    assert "expected status CANCELLED, got status OK" in errors[0]
    assert "expected status CANCELLED, got status OK" in errors[1]
    assert "expected status DEADLINE_EXCEEDED, got status OK" in errors[2]
