"""The security suite: over mTLS, a client without a certificate is turned away."""

from __future__ import annotations

from peers import CLIENT_CERT_FLAGS, TLS_CLIENT_FLAGS, RunningServer, run_client

CASE = "mtls_client_without_certificate"


def test_the_case_passes_against_an_mtls_server(mtls_workers_server: RunningServer) -> None:
    run = run_client(mtls_workers_server.port, [CASE], *TLS_CLIENT_FLAGS, *CLIENT_CERT_FLAGS)
    assert run.by_case()[CASE]["status"] == "passed"


def test_the_case_fails_against_a_server_that_does_not_demand_a_certificate(tls_workers_server: RunningServer) -> None:
    run = run_client(tls_workers_server.port, [CASE], *TLS_CLIENT_FLAGS, *CLIENT_CERT_FLAGS)
    assert run.by_case()[CASE]["status"] == "failed"
    assert "expected status UNAVAILABLE, got status OK" in str(run.by_case()[CASE]["error"])


def test_client_fault_with_certificate_breaks_the_case(mtls_workers_server: RunningServer) -> None:
    run = run_client(mtls_workers_server.port, [CASE], *TLS_CLIENT_FLAGS, *CLIENT_CERT_FLAGS, "--client_fault=with-certificate")
    assert run.by_case()[CASE]["status"] == "failed"


def test_the_case_needs_tls(server: RunningServer) -> None:
    run = run_client(server.port, [CASE])
    assert "needs --use_tls=true" in str(run.by_case()[CASE]["error"])
