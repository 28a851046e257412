from __future__ import annotations

from collections.abc import Iterator

import pytest
from peers import SERVER_TRANSPORT_FLAGS, RunningServer, running_server


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


@pytest.fixture(scope="session")
def workers_server() -> Iterator[RunningServer]:
    with running_server("--workers=4") as running:
        yield running


@pytest.fixture(scope="session")
def tls_workers_server() -> Iterator[RunningServer]:
    with running_server("--workers=4", *SERVER_TRANSPORT_FLAGS["tls"]) as running:
        yield running


@pytest.fixture(scope="session")
def mtls_workers_server() -> Iterator[RunningServer]:
    with running_server("--workers=4", *SERVER_TRANSPORT_FLAGS["mtls"]) as running:
        yield running


@pytest.fixture(params=["insecure", "tls", "mtls"])
def transport(request: pytest.FixtureRequest) -> tuple[str, RunningServer]:
    """(transport name, a server serving it): the single insecure server, or the TLS/mTLS workers servers."""
    fixture = {"insecure": "server", "tls": "tls_workers_server", "mtls": "mtls_workers_server"}[request.param]
    return request.param, request.getfixturevalue(fixture)
