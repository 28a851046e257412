"""The scripted server's restart (docs/peer-contract.md, the scripted server's "Restart":
script.restart_server_after_ms; the fault scripted-shutdown-abrupt).

Every case runs the real server (server.py, its stderr in a file the test reads) and the real client
(client.py with a cases file) over loopback. What is timed is only ever bounded from one side, with
room for a loaded machine: the follow-ups that must find the server back come seconds after its
downtime, and the waits for the server's own lines on stderr are bounded. The graceful restart and
the abrupt one also run on the older grpcio releases (server and client of the same release;
skipped when build/versions/python/VERSION is not built)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from peers import TLS_CLIENT_FLAGS, RunningServer, code, info, observe, release_pythons, running_server, stop

from interop_peer import serving
from interop_peer.faults import Fault

Observed = dict[str, Any]
OK = 0
SHUTDOWN_ABRUPT = f"--fault={Fault.SCRIPTED_SHUTDOWN_ABRUPT}"
# The longest a test waits for a line of the server's, or for the server to exit.
WAIT_SECONDS = 10.0
# How soon a server exits after SIGTERM: its 1 s of grace, and room for a loaded machine.
EXIT_SECONDS = 5.0


@contextmanager
def restartable_server(tmp_path: Path, *flags: str, python: Any = sys.executable) -> Iterator[tuple[RunningServer, Path]]:
    """server.py with flags, its stderr in a file: (the server, that file)."""
    log = tmp_path / f"server-{time.monotonic_ns()}.log"
    with log.open("w") as stderr, running_server(*flags, python=python, stderr=stderr) as server:
        yield server, log


def wait_for_line(log: Path, text: str, timeout: float = WAIT_SECONDS) -> str:
    """The first line of the server's stderr containing text, once it is there (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in log.read_text().splitlines():
            if text in line:
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no {text!r} on the server's stderr within {timeout} s:\n{log.read_text()}")
        time.sleep(0.02)


def stop_and_read(server: RunningServer) -> tuple[int, str, float]:
    """SIGTERM: the exit code, what the server printed on stdout after its listening line, and how
    long it took to exit."""
    started = time.monotonic()
    server.process.terminate()
    try:
        rest, _ = server.process.communicate(timeout=EXIT_SECONDS * 2)
    except subprocess.TimeoutExpired:
        rest = ""
    took = time.monotonic() - started
    return stop(server.process), rest, took


def unary(script: dict[str, Any] | None = None, **instruction: Any) -> dict[str, Any]:
    return {"method": "Unary", "requests": [{"script": script or {}}], **instruction}


# A server stream of about 800 ms whose server shuts down gracefully at once, and is back 300 ms
# after the stream ended; then, 2.5 s after the stream, a unary call on the same channel, which asks
# the new server how the stream ended (the call records outlive the server that kept them).
REPLIES = [{"values": {"i32": n}, "delay_ms": 200} for n in (1, 2, 3, 4)]
RESTART_CASES = {
    "restart": {
        "method": "ServerStream",
        "requests": [{"script": {"restart_server_after_ms": 300, "replies": REPLIES, "call_id": "restart-{run}"}}],
        "timeout_ms": 10000,
        "followups": [unary({"report_call": "restart-{run}"}, after_ms=2500, timeout_ms=10000)],
    }
}


@pytest.mark.parametrize("python", release_pythons())
def test_graceful_restart_lets_the_stream_finish(python: Path, tmp_path: Path) -> None:
    with restartable_server(tmp_path, python=python) as (server, log):
        observed = observe(server.port, tmp_path, RESTART_CASES, python=python)["restart"]
        # The server stopped gracefully while the stream was in flight, and is back on its port.
        wait_for_line(log, "restart: stopping gracefully")
        back = wait_for_line(log, "restart: serving again on")
        returncode, stdout, _ = stop_and_read(server)
    assert code(observed) == OK, observed
    assert [response["values"]["i32"] for response in observed["responses"]] == ["1", "2", "3", "4"]
    [followup] = observed["followups"]
    assert code(followup) == OK, followup
    # A new connection, to the same port (not a new ephemeral one).
    first, then = info(observed)["peer"], info(followup)["peer"]
    assert first.startswith("ipv4:127.0.0.1:") and then.startswith("ipv4:127.0.0.1:") and first != then
    assert info(followup)["authority"] == f"127.0.0.1:{server.port}"
    assert info(followup)["reported_call"] == {"ended": "completed", "replies_sent": "4"}
    assert back.endswith(f"serving again on 127.0.0.1:{server.port}"), back
    # No second listening line; SIGTERM stops the restarted server cleanly.
    assert returncode == 0 and stdout == ""


@pytest.mark.parametrize("python", release_pythons())
def test_shutdown_abrupt_fault_cancels_the_stream(python: Path, tmp_path: Path) -> None:
    with restartable_server(tmp_path, SHUTDOWN_ABRUPT, python=python) as (server, log):
        observed = observe(server.port, tmp_path, RESTART_CASES, python=python)["restart"]
        wait_for_line(log, "restart: stopping at once")
        wait_for_line(log, f"restart: serving again on 127.0.0.1:{server.port}")
    # server.stop(None) cancelled the stream in flight (the client sees UNAVAILABLE "Cancelling all
    # calls"), before its replies were all sent; the server came back all the same.
    assert code(observed) != OK and len(observed.get("responses", [])) < len(REPLIES), observed
    [followup] = observed["followups"]
    assert code(followup) == OK, followup
    # The handler saw its call cancelled, and stopped.
    assert info(followup)["reported_call"]["ended"] == "cancelled", followup
    assert int(info(followup)["reported_call"].get("replies_sent", 0)) < len(REPLIES)


def test_sigterm_after_a_restart_exits_cleanly(tmp_path: Path) -> None:
    cases = {"restart": unary({"restart_server_after_ms": 100}, followups=[unary(after_ms=2500)])}
    with restartable_server(tmp_path) as (server, log):
        observed = observe(server.port, tmp_path, cases)["restart"]
        wait_for_line(log, "restart: serving again on")
        returncode, stdout, took = stop_and_read(server)
    assert code(observed) == OK and code(observed["followups"][0]) == OK, observed
    assert returncode == 0 and stdout == "" and took < EXIT_SECONDS, (returncode, stdout, took)
    wait_for_line(log, "SIGTERM: stopping")


def test_sigterm_during_the_downtime_exits_cleanly(tmp_path: Path) -> None:
    # 20 s of downtime: the process stops at SIGTERM all the same, and never serves again.
    cases = {"restart": unary({"restart_server_after_ms": 20000})}
    with restartable_server(tmp_path) as (server, log):
        assert code(observe(server.port, tmp_path, cases)["restart"]) == OK
        wait_for_line(log, "restart: stopped")
        returncode, stdout, took = stop_and_read(server)
    assert returncode == 0 and stdout == "" and took < EXIT_SECONDS, (returncode, stdout, took)
    assert "serving again" not in log.read_text()


def test_sigterm_during_the_graceful_stop_exits_cleanly(tmp_path: Path) -> None:
    # A stream that would run 20 s holds the graceful stop (30 s of grace): SIGTERM cuts it to the
    # process's 1 s of grace, and the stream ends cancelled.
    cases = {
        "restart": {
            "method": "ServerStream",
            "requests": [{"script": {"restart_server_after_ms": 100, "replies": [{"delay_ms": 20000}]}}],
            "timeout_ms": 30000,
        }
    }
    with restartable_server(tmp_path) as (server, log):
        result: dict[str, Observed] = {}
        client = threading.Thread(target=lambda: result.update(observe(server.port, tmp_path, cases)))
        client.start()
        try:
            wait_for_line(log, "restart: stopping gracefully")
            returncode, stdout, took = stop_and_read(server)
        finally:
            client.join(WAIT_SECONDS * 2)
    assert returncode == 0 and stdout == "" and took < EXIT_SECONDS, (returncode, stdout, took)
    assert code(result["restart"]) != OK and not result["restart"].get("responses"), result


@pytest.fixture
def socket_path() -> Iterator[Path]:
    """A Unix socket path short enough (at most 107 bytes), in a directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="rs") as directory:
        yield Path(directory) / "s.sock"


def test_restart_serves_every_address_again(tmp_path: Path, socket_path: Path) -> None:
    # TLS, [::1], the second host and the Unix socket: the restarted server has the same
    # credentials and addresses.
    cases = {
        "restart": unary({"restart_server_after_ms": 200}, followups=[unary(after_ms=2500)]),
        "ipv6": unary(channel={"target": "ipv6:[::1]:{port}"}),
        "second_host": unary(channel={"target": "ipv4:127.0.0.2:{port}"}),
        "unix": unary(channel={"target": "unix:{unix_socket}"}),
    }
    flags = ("--use_tls=true", "--ipv6_loopback=true", "--second_host=127.0.0.2", f"--unix_socket={socket_path}")
    with restartable_server(tmp_path, *flags) as (server, log):
        observed = observe(server.port, tmp_path, cases, f"--server_unix_socket={socket_path}", *TLS_CLIENT_FLAGS)
        back = wait_for_line(log, "restart: serving again on")
    port = server.port
    assert back.endswith(f"on 127.0.0.1:{port}, [::1]:{port}, 127.0.0.2:{port}, unix:{socket_path}"), back
    assert info(observed["second_host"])["authority"] == "foo.test.google.fr"  # the TLS flag's server name
    assert all(code(call) == OK for call in (*observed.values(), observed["restart"]["followups"][0])), observed
    assert info(observed["ipv6"])["peer"].startswith("ipv6:%5B::1%5D:")
    assert info(observed["unix"])["peer"].startswith("unix:")


def test_a_restart_that_cannot_bind_exits_1(tmp_path: Path) -> None:
    # While the server is down, something else takes its port: the restart cannot bind it.
    cases = {"restart": unary({"restart_server_after_ms": 3000})}
    with restartable_server(tmp_path) as (server, log):
        assert code(observe(server.port, tmp_path, cases)["restart"]) == OK
        wait_for_line(log, "restart: stopped")
        with socket.socket() as squatter:
            # SO_REUSEADDR: the port's connections in TIME_WAIT do not keep this socket off it.
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", server.port))
            squatter.listen()
            returncode = server.process.wait(WAIT_SECONDS)
    assert returncode == 1
    line = wait_for_line(log, "restart: cannot listen on")
    assert f"cannot listen on 127.0.0.1:{server.port}" in line, line


def test_a_worker_ignores_the_restart(tmp_path: Path) -> None:
    cases = {"restart": unary({"restart_server_after_ms": 100}, followups=[unary(after_ms=1000)])}
    with restartable_server(tmp_path, "--workers=2") as (server, log):
        observed = observe(server.port, tmp_path, cases)["restart"]
        wait_for_line(log, "restart_server_after_ms=100 ignored: a worker of --workers does not restart")
    [followup] = observed["followups"]
    assert code(observed) == OK and code(followup) == OK
    assert info(observed)["peer"] == info(followup)["peer"]  # the same connection: nothing stopped
    assert "restart: stopping" not in log.read_text()


def test_remove_stale_socket_units(tmp_path: Path, socket_path: Path) -> None:
    serving.remove_stale_socket(None)
    serving.remove_stale_socket(str(socket_path))  # nothing there
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(socket_path))
    assert socket_path.exists()
    serving.remove_stale_socket(str(socket_path))
    assert not socket_path.exists()
    # A file that is not a socket stays: binding there then fails, as it should.
    regular = tmp_path / "not-a-socket"
    regular.write_text("x")
    serving.remove_stale_socket(str(regular))
    assert regular.exists()
