from __future__ import annotations

from collections.abc import Iterator

import pytest
from peers import RunningServer, running_server


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


@pytest.fixture(scope="session")
def workers_server() -> Iterator[RunningServer]:
    with running_server("--workers=4") as running:
        yield running
