"""The netrpc suite's cases (interop_peer/netrpc_cases.py) against the real net/rpc server, build/netrpc/server
(interop/netrpc; `npm test` builds it before pytest runs): they pass against it, each server fault breaks exactly
its cases, no-checks passes them all, and a silent server fails them in bounded time."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from peers import PEER_DIR, _listening_port, closed_port, run_client, stop
from test_interop import assert_well_formed

from interop_peer.cases import Peer
from interop_peer.checks import CaseFailure
from interop_peer.netrpc_cases import JsonRpcConnection

NETRPC_SERVER = PEER_DIR.parent.parent / "build" / "netrpc" / "server"
# The netrpc suite as the Python client runs it (the gob cases are the Go client's only).
NETRPC_CASES = (
    "netrpc_jsonrpc_getinfo",
    "netrpc_jsonrpc_beyond_2_53",
    "netrpc_jsonrpc_int64_edges",
    "netrpc_jsonrpc_wraps",
    "netrpc_jsonrpc_not_an_int",
    "netrpc_jsonrpc_unknown_method",
    "netrpc_jsonrpc_pipelined",
    "netrpc_http_panda",
)
# The contract's faults and the cases each breaks (of NETRPC_CASES); every other case passes.
BROKEN = {
    "reply-plus-two": {
        "netrpc_jsonrpc_getinfo",
        "netrpc_jsonrpc_beyond_2_53",
        "netrpc_jsonrpc_int64_edges",
        "netrpc_jsonrpc_wraps",
        "netrpc_jsonrpc_pipelined",
    },
    # float64(2^63-1) + 1 is 2^63, which the fault turns into MinInt64 (as amd64 does): what the wrap gives,
    # so netrpc_jsonrpc_wraps passes.
    "reply-float64": {"netrpc_jsonrpc_beyond_2_53", "netrpc_jsonrpc_int64_edges"},
    "reply-saturate": {"netrpc_jsonrpc_wraps"},
    "panda-text": {"netrpc_http_panda"},
    "unknown-method-ok": {"netrpc_jsonrpc_unknown_method"},
    "ids-swapped": {"netrpc_jsonrpc_pipelined"},
    "params-coerced": {"netrpc_jsonrpc_not_an_int"},
}


@contextmanager
def netrpc_server(*flags: str) -> Iterator[int]:
    """build/netrpc/server --port=0 with flags; its port. Fails (never skips) when it is not built."""
    if not NETRPC_SERVER.is_file():
        pytest.fail(f"{NETRPC_SERVER} is missing: build it with `bash interop/netrpc/build.sh` (npm test builds it)")
    process = subprocess.Popen(
        [str(NETRPC_SERVER), "--port=0", *flags], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        yield _listening_port(process)
    finally:
        assert stop(process) == 0


def test_every_case_passes_against_the_netrpc_server() -> None:
    with netrpc_server() as port:
        run = run_client(port, NETRPC_CASES, "--use_tls=false")
    assert_well_formed(run.records, NETRPC_CASES)
    assert [record for record in run.records if record["status"] != "passed"] == []
    assert run.returncode == 0 and run.stderr == ""


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_each_fault_breaks_exactly_its_cases_and_no_checks_misses_it(fault: str) -> None:
    with netrpc_server(f"--fault={fault}") as port:
        run = run_client(port, NETRPC_CASES)
        unchecked = run_client(port, NETRPC_CASES, "--client_fault=no-checks")
    failed = {str(record["case"]) for record in run.records if record["status"] == "failed"}
    assert failed == BROKEN[fault], run.stderr
    assert run.returncode == 1
    assert [record["status"] for record in unchecked.records] == ["passed"] * len(NETRPC_CASES)
    assert unchecked.returncode == 0 and unchecked.stderr == ""


def test_failures_name_the_call_the_input_what_was_expected_and_what_came() -> None:
    with netrpc_server("--fault=reply-plus-two,panda-text,unknown-method-ok") as port:
        run = run_client(port, NETRPC_CASES)
    errors = {name: record.get("error") for name, record in run.by_case().items()}
    assert errors["netrpc_jsonrpc_getinfo"] == (
        'JSON-RPC Panda.Getinfo(123): expected result 124 and error null, got {"id":1,"result":125,"error":null}'
    )
    assert errors["netrpc_jsonrpc_wraps"] == (
        "JSON-RPC Panda.Getinfo(9223372036854775807): expected result -9223372036854775808 and error null, "
        'got {"id":1,"result":-9223372036854775807,"error":null}'
    )
    assert errors["netrpc_jsonrpc_unknown_method"] == (
        'JSON-RPC Panda.Nope(123): expected error "rpc: can\'t find method Panda.Nope" and a null result, '
        'got {"id":1,"result":125,"error":null}'
    )
    assert errors["netrpc_jsonrpc_pipelined"] == (
        "JSON-RPC Panda.Getinfo(1099511627777), request id 1 of 16 pipelined: expected result 1099511627778 and error null, "
        'got {"id":1,"result":1099511627779,"error":null}'
    )
    assert errors["netrpc_http_panda"] == (
        f'GET http://127.0.0.1:{port}/panda: expected status 200 and body "panda", got status 200 and body "Panda"'
    )
    assert errors["netrpc_jsonrpc_not_an_int"] is None


@contextmanager
def scripted_server(answer: bytes | None, split: bool = False) -> Iterator[int]:
    """A loopback server that reads whatever comes and writes `answer` once per connection (None: never),
    byte by byte when split; its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connections.append(connection)
            if answer is not None:
                try:
                    connection.recv(65536)
                    for i in range(len(answer) if split else 1):
                        connection.sendall(answer[i : i + 1] if split else answer)
                        if split:
                            time.sleep(0.001)
                except OSError:
                    pass  # the test closed the connection

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for connection in connections:
            connection.close()
        thread.join(5)


def test_answers_are_read_as_a_stream_not_one_per_read() -> None:
    two = b'{"id":1,"result":9007199254740994,"error":null}\n{"id":2,"result":-9223372036854775808,"error":null}\n'
    for split in (False, True):
        with scripted_server(two, split=split) as port, JsonRpcConnection(Peer("127.0.0.1", port, 5.0)) as connection:
            first = connection.call("Panda.Getinfo", 9007199254740993, "x")
            second = connection.read_answer(time.monotonic() + 5)
        assert first.value == {"id": 1, "result": 9007199254740994, "error": None}
        assert second.value["result"] == -(2**63) and type(second.value["result"]) is int


def test_a_float_result_is_not_an_int() -> None:
    with scripted_server(b'{"id":1,"result":124.0,"error":null}\n') as port:
        run = run_client(port, ["netrpc_jsonrpc_getinfo"])
    assert run.records[0]["error"] == (
        'JSON-RPC Panda.Getinfo(123): expected result 124 and error null, got {"id":1,"result":124.0,"error":null}'
    )


def test_a_silent_server_fails_every_case_at_its_deadline() -> None:
    with scripted_server(None) as port:
        started = time.monotonic()
        run = run_client(port, NETRPC_CASES, "--rpc_timeout_ms=300")
        elapsed = time.monotonic() - started
    assert [record["status"] for record in run.records] == ["failed"] * len(NETRPC_CASES)
    assert all("timed out" in str(record["error"]) for record in run.records), run.records
    assert elapsed < 15


def test_no_server_fails_with_the_reason() -> None:
    run = run_client(closed_port(), ["netrpc_jsonrpc_getinfo", "netrpc_http_panda"], "--rpc_timeout_ms=500")
    assert [record["status"] for record in run.records] == ["failed", "failed"]
    assert "Connection refused" in str(run.records[0]["error"]) and "Connection refused" in str(run.records[1]["error"])


def test_the_server_refuses_tls_and_unknown_faults() -> None:
    for flags, reason in (
        ("--use_tls=true", "netrpc: TLS is not part of net/rpc"),
        ("--fault=nope", 'netrpc: --fault: unknown fault "nope"'),
    ):
        if not NETRPC_SERVER.is_file():
            pytest.fail(f"{NETRPC_SERVER} is missing: build it with `bash interop/netrpc/build.sh`")
        result = subprocess.run([str(NETRPC_SERVER), "--port=0", flags], capture_output=True, text=True, timeout=10)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.startswith(reason) and result.stderr.count("\n") == 1


def test_a_case_failure_is_a_case_failure_for_no_checks() -> None:
    """Every way a netrpc case fails is a CaseFailure (client_main.run_case drops it under no-checks)."""
    with pytest.raises(CaseFailure):
        JsonRpcConnection(Peer("127.0.0.1", closed_port(), 0.5))


