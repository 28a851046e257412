"""Stopping: SIGTERM/SIGINT end the server with exit 0, and --workers leaves no process behind."""

from __future__ import annotations

import signal
import time

import grpc
import pytest
from peers import child_pids, kill_all, running_server, stop, wait_until_gone

from interop_peer.protos import health_pb2, health_pb2_grpc


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: signal.Signals(s).name)
def test_signal_stops_the_server_with_exit_0_despite_an_open_stream(signum: int) -> None:
    with running_server() as server, grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=30)
        next(watch)  # the stream is now held open by the server
        started = time.monotonic()
        assert stop(server.process, signum) == 0
        assert time.monotonic() - started < 5  # in-flight calls get at most the 1 s grace
        with pytest.raises(grpc.RpcError):
            next(watch)


def _workers_of(parent: int) -> list[int]:
    workers = child_pids(parent)
    assert len(workers) == 4, workers
    return workers


def test_sigterm_to_the_workers_parent_stops_every_worker() -> None:
    with running_server("--workers=4") as server:
        workers = _workers_of(server.process.pid)
        try:
            assert stop(server.process) == 0
            assert wait_until_gone(workers, timeout=1) == []  # the parent waited for them
        finally:
            kill_all(workers)


def test_workers_die_with_a_killed_parent() -> None:
    with running_server("--workers=4") as server:
        workers = _workers_of(server.process.pid)
        try:
            stop(server.process, signal.SIGKILL)
            assert wait_until_gone(workers) == []
        finally:
            kill_all(workers)


def test_a_dead_worker_stops_the_others_and_the_parent_exits_1() -> None:
    with running_server("--workers=4") as server:
        workers = _workers_of(server.process.pid)
        try:
            kill_all(workers[:1])
            assert server.process.wait(timeout=10) == 1
            assert wait_until_gone(workers, timeout=1) == []
        finally:
            kill_all(workers)
