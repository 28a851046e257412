"""Helpers to run the real server and client as subprocesses, with bounded waits and cleanup."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PEER_DIR = Path(__file__).resolve().parent.parent
SERVER = PEER_DIR / "server.py"
CLIENT = PEER_DIR / "client.py"
START_TIMEOUT_SECONDS = 30.0

# The seeds suite in the contract's order.
SEED_CASES = (
    "greeter_say_hello",
    "greeter_say_hello_again",
    "helloworld_service",
    "compute_length",
    "user_recommend",
    "random_get",
    "panda_getinfo",
    "stream_server",
    "stream_client",
    "stream_bidi",
    "concurrent_unary",
    "multi_address_failover",
    "reuseport_workers",
    "stream_server_max_count",
    "user_recommend_max_articles",
    "health_unknown_service",
    "server_info_version",
)
# reuseport_workers needs a server started with --workers=4 (matrix.yaml's server_args).
SINGLE_PROCESS_CASES = tuple(case for case in SEED_CASES if case != "reuseport_workers")
# The grpc.testing suite in the contract's order.
TESTING_CASES = (
    "empty_unary",
    "large_unary",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_streaming",
    "client_compressed_streaming",
    "server_streaming",
    "server_compressed_streaming",
    "ping_pong",
    "empty_stream",
    "cancel_after_begin",
    "cancel_after_first_response",
    "timeout_on_sleeping_server",
    "custom_metadata",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
)
# The testing-edges suite in the contract's order.
EDGES_CASES = (
    "status_unary_non_unknown",
    "status_server_streaming_non_unknown",
    "status_bidi_non_unknown",
    "streaming_output_interval",
)
# The discovery suite in the contract's order.
DISCOVERY_CASES = (
    "reflection_list_v1",
    "reflection_list_v1alpha",
    "reflection_file_containing_symbol",
    "health_watch_serving",
    "health_watch_updates",
    "health_check_every_service",
)
# The discovery cases of grpc.reflection.v1, which no grpcio-reflection built here has a module for
# (interop_peer/discovery_cases.py): they fail against every server, without a call, saying so.
REFLECTION_V1_CASES = {
    case: "the grpcio (Python) client cannot call grpc.reflection.v1.ServerReflection"
    for case in ("reflection_list_v1", "reflection_file_containing_symbol")
}
# Cases whose result line carries "observed" when they pass (for the runner to judge).
OBSERVING_CASES = frozenset({"server_info_version"})
# What grpcio's Python client cannot do (interop_peer/testing_cases.py): this case fails against
# every server, with a message naming the limitation.
PYTHON_CLIENT_CANNOT = {"client_compressed_streaming": "cannot pass with the grpcio (Python) client"}

CERTS = PEER_DIR.parent.parent / "certs"
# docs/peer-contract.md, "Transports": the flags of each side.
SERVER_TRANSPORT_FLAGS = {
    "insecure": (),
    "tls": ("--use_tls=true",),
    "mtls": ("--use_tls=true", "--require_client_cert=true"),
}
TLS_CLIENT_FLAGS = ("--use_tls=true", "--use_test_ca=true", "--server_host_override=foo.test.google.fr")
CLIENT_CERT_FLAGS = (f"--client_cert_file={CERTS / 'client.pem'}", f"--client_key_file={CERTS / 'client.key'}")
CLIENT_TRANSPORT_FLAGS = {
    "insecure": (),
    "tls": TLS_CLIENT_FLAGS,
    "mtls": TLS_CLIENT_FLAGS + CLIENT_CERT_FLAGS,
}


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    port: int


@contextmanager
def running_server(*flags: str, python: str | Path = sys.executable, stderr: Any = None) -> Iterator[RunningServer]:
    """Starts server.py --port=0 with flags, waits for its listening line, stops it afterwards.
    python: the interpreter (another build's venv, e.g. build/versions/python/VERSION/venv);
    stderr: where the server's stderr goes (None: this process's)."""
    process = subprocess.Popen(
        [str(python), str(SERVER), "--port=0", *flags],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        yield RunningServer(process, _listening_port(process))
    finally:
        stop(process)


def _listening_port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(START_TIMEOUT_SECONDS):
            raise AssertionError(f"server printed nothing within {START_TIMEOUT_SECONDS} s")
    line = process.stdout.readline()
    record = json.loads(line)
    assert set(record) == {"event", "port"} and record["event"] == "listening", line
    assert line == json.dumps(record, separators=(",", ":")) + "\n", "listening line must be compact JSON"
    return int(record["port"])


def stop(process: subprocess.Popen[str], signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
    """Sends signum (if still running) and returns the exit code; kills after timeout."""
    if process.poll() is None:
        process.send_signal(signum)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"server {process.pid} did not exit within {timeout} s of signal {signum}") from None
    finally:
        if process.stdout is not None:
            process.stdout.close()


@dataclass
class ClientRun:
    returncode: int
    records: list[dict[str, object]]
    stderr: str

    def by_case(self) -> dict[str, dict[str, object]]:
        return {str(record["case"]): record for record in self.records}


def run_client(
    port: int, cases: tuple[str, ...] | list[str], *flags: str, timeout: float = 60.0, python: str | Path = sys.executable
) -> ClientRun:
    return run_client_with(port, f"--test_case={','.join(cases)}", *flags, timeout=timeout, python=python)


def run_cases(port: int, tmp_path: Path, cases: dict[str, Any], *flags: str, python: str | Path = sys.executable) -> dict[str, dict[str, Any]]:
    """Runs scripted cases (written to a cases file) with client.py; every one must pass (be run). Their result lines."""
    path = tmp_path / f"cases-{time.monotonic_ns()}.json"
    path.write_text(json.dumps({"cases": cases}))
    run = run_client(port, list(cases), f"--cases_file={path}", "--rpc_timeout_ms=10000", *flags, timeout=60, python=python)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [record["case"] for record in run.records] == list(cases)
    return {str(record["case"]): record for record in run.records}


def observe(port: int, tmp_path: Path, cases: dict[str, Any], *flags: str, python: str | Path = sys.executable) -> dict[str, dict[str, Any]]:
    """run_cases: what the client observed, by case."""
    return {name: record["observed"] for name, record in run_cases(port, tmp_path, cases, *flags, python=python).items()}


def code(observed: dict[str, Any]) -> int:
    return int(observed["status"]["code"])


def info(observed: dict[str, Any]) -> dict[str, Any]:
    """The server's RequestInfo: in the last response of an OK call, else in the trailer."""
    if "request_info" in observed:
        return observed["request_info"]  # type: ignore[no-any-return]
    return observed["responses"][-1]["request_info"]  # type: ignore[no-any-return]


def run_client_with(port: int, *flags: str, timeout: float = 60.0, python: str | Path = sys.executable) -> ClientRun:
    """client.py against 127.0.0.1:port with these flags only (cases, load mode, or bad flags),
    run by python (this venv's interpreter unless told)."""
    result = subprocess.run(
        [str(python), str(CLIENT), "--server_host=127.0.0.1", f"--server_port={port}", *flags],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return ClientRun(result.returncode, [json.loads(line) for line in result.stdout.splitlines()], result.stderr)


def child_pids(parent: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def is_alive(pid: int) -> bool:
    """True while pid runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """Waits (bounded) for every pid to end; returns the ones still alive."""
    deadline = time.monotonic() + timeout
    while (alive := [pid for pid in pids if is_alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The grpcio releases besides the default one, by the interpreter of their venv (built by
# build.py --version; a test that needs one it does not find is skipped, saying so).
OLD_PYTHONS = {
    version: PEER_DIR.parent.parent / "build" / "versions" / "python" / version / "venv" / "bin" / "python"
    for version in ("1.62.3", "1.70.0")
}


def release_pythons() -> list[Any]:
    """pytest params: the default interpreter, then each old release's (skipped when not built)."""
    pythons: list[Any] = [pytest.param(Path(sys.executable), id="default")]
    for version, python in OLD_PYTHONS.items():
        marks = [] if python.is_file() else [pytest.mark.skip(reason=f"build/versions/python/{version} not built")]
        pythons.append(pytest.param(python, id=version, marks=marks))
    return pythons
