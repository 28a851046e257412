"""The `netrpc` suite (docs/peer-contract.md, "The netrpc suite"): the reference document's Panda service
of Go's net/rpc (interop/netrpc), not gRPC. JSON-RPC 1.0 over a plain socket (stdlib socket + json: Python's
int keeps every integer exact, so no value goes through a double) and GET /panda with urllib.

Framing: one JSON object per request, `{"method":"Panda.Getinfo","params":[ARG],"id":N}`, ids 1, 2, 3, … per
connection; the answers `{"id":N,"result":R,"error":null}` are read as a stream of JSON values (Go's encoder
ends each with a newline, but an answer may come in several reads and several in one). Every call has the
peer's deadline (--rpc_timeout_ms) from its request to its answer. Every failure is a CaseFailure naming the
call, the input, what was expected and what came back, so --client_fault=no-checks covers it too.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

from .cases import Peer, case
from .checks import CaseFailure

GETINFO = "Panda.Getinfo"
# (arg, arg + 1 as Go's int computes it) for the value cases.
GETINFO_VALUES = ((123, 124), (0, 1), (-1, 0), (-124, -123))
BEYOND_2_53_VALUES = (
    (9007199254740992, 9007199254740993),
    (9007199254740993, 9007199254740994),
    (-9007199254740995, -9007199254740994),
)
INT64_EDGES_VALUES = ((2**63 - 2, 2**63 - 1), (-(2**63), -(2**63) + 1))
WRAPS_VALUES = ((2**63 - 1, -(2**63)),)
PIPELINED = 16


def pipelined_arg(i: int) -> int:
    """The arg of request i (1..16) of netrpc_jsonrpc_pipelined."""
    return i * 2**40 + i


def _text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def label(method: str, param: object) -> str:
    return f"JSON-RPC {method}({_text(param)})"


class Answer:
    """One answer: its members as parsed (ints exact), and its text as it came."""

    def __init__(self, value: Any, text: str) -> None:
        self.value = value
        self.text = text

    def member(self, name: str) -> Any:
        return self.value.get(name) if isinstance(self.value, dict) else None


class JsonRpcConnection:
    """One connection to the server: requests written as JSON text, answers read as a stream of JSON values."""

    def __init__(self, peer: Peer) -> None:
        self.timeout = peer.timeout
        self.next_id = 1
        self.pending = ""  # text read but not yet parsed into an answer
        self.raw = b""  # bytes read that are not yet whole UTF-8 text
        self.decoder = json.JSONDecoder()
        try:
            self.sock = socket.create_connection((peer.host, peer.port), timeout=peer.timeout)
        except OSError as error:
            raise CaseFailure(f"JSON-RPC connection to {peer.host}:{peer.port}: {error}") from None

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> JsonRpcConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, param: object) -> tuple[int, str]:
        """(id, text) of the next request."""
        request_id = self.next_id
        self.next_id += 1
        return request_id, _text({"method": method, "params": [param], "id": request_id})

    def send(self, texts: list[str], deadline: float) -> None:
        self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        self.sock.sendall("".join(texts).encode())

    def read_answer(self, deadline: float) -> Answer:
        """The next answer; OSError (a timeout included) or ValueError when none comes whole."""
        while True:
            stripped = self.pending.lstrip(" \t\r\n")
            if stripped:
                try:
                    value, end = self.decoder.raw_decode(stripped)
                except json.JSONDecodeError:
                    pass  # not whole yet: read on
                else:
                    self.pending = stripped[end:]
                    return Answer(value, stripped[:end])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"the server closed the connection (unparsed: {self.pending[:200]!r})")
            self.raw += chunk
            try:
                self.pending += self.raw.decode()
                self.raw = b""
            except UnicodeDecodeError:
                pass  # a character cut between reads: wait for the rest

    def call(self, method: str, param: object, wanted: str) -> Answer:
        """Calls method(param) within the deadline; a failure names the call, `wanted` and what came."""
        deadline = time.monotonic() + self.timeout
        _, text = self.request(method, param)
        try:
            self.send([text], deadline)
            return self.read_answer(deadline)
        except (OSError, ValueError) as error:
            reason = f"{type(error).__name__}: {error}"
            raise CaseFailure(f"{label(method, param)}: expected {wanted}, got no answer: {reason}") from None


def _is_int(value: object) -> bool:
    return type(value) is int  # not bool, not 1.0


def _expect_values(peer: Peer, values: tuple[tuple[int, int], ...]) -> None:
    with JsonRpcConnection(peer) as connection:
        for arg, expected in values:
            wanted = f"result {expected} and error null"
            answer = connection.call(GETINFO, arg, wanted)
            result = answer.member("result")
            error_null = isinstance(answer.value, dict) and "error" in answer.value and answer.value["error"] is None
            if not (_is_int(result) and result == expected and error_null):
                raise CaseFailure(f"{label(GETINFO, arg)}: expected {wanted}, got {answer.text}")


@case
def netrpc_jsonrpc_getinfo(peer: Peer) -> None:
    _expect_values(peer, GETINFO_VALUES)


@case
def netrpc_jsonrpc_beyond_2_53(peer: Peer) -> None:
    _expect_values(peer, BEYOND_2_53_VALUES)


@case
def netrpc_jsonrpc_int64_edges(peer: Peer) -> None:
    _expect_values(peer, INT64_EDGES_VALUES)


@case
def netrpc_jsonrpc_wraps(peer: Peer) -> None:
    _expect_values(peer, WRAPS_VALUES)


@case
def netrpc_jsonrpc_not_an_int(peer: Peer) -> None:
    """Params that are no Go int: a non-empty string error and a null (or absent) result."""
    wanted = "a non-empty string error and a null result"
    with JsonRpcConnection(peer) as connection:
        for param in (2**63, 1.5, "123"):
            answer = connection.call(GETINFO, param, wanted)
            error = answer.member("error")
            if not (isinstance(error, str) and error and answer.member("result") is None):
                raise CaseFailure(f"{label(GETINFO, param)}: expected {wanted}, got {answer.text}")


@case
def netrpc_jsonrpc_unknown_method(peer: Peer) -> None:
    """net/rpc's own errors (server.go, readRequestHeader)."""
    with JsonRpcConnection(peer) as connection:
        for method, message in (
            ("Panda.Nope", "rpc: can't find method Panda.Nope"),
            ("Nope.Getinfo", "rpc: can't find service Nope.Getinfo"),
        ):
            wanted = f"error {_text(message)} and a null result"
            answer = connection.call(method, 123, wanted)
            if not (answer.member("error") == message and answer.member("result") is None):
                raise CaseFailure(f"{label(method, 123)}: expected {wanted}, got {answer.text}")


@case
def netrpc_jsonrpc_pipelined(peer: Peer) -> None:
    """16 requests on one connection, ids 1..16, all written before any answer is read; each answer matched
    by its id must be that request's arg + 1."""
    with JsonRpcConnection(peer) as connection:
        deadline = time.monotonic() + connection.timeout
        requests = [connection.request(GETINFO, pipelined_arg(i)) for i in range(1, PIPELINED + 1)]
        what = f"{PIPELINED} pipelined JSON-RPC {GETINFO} requests (ids 1..{PIPELINED}, args i*2^40+i)"
        answers: dict[int, Answer] = {}
        try:
            connection.send([text for _, text in requests], deadline)
            for _ in range(PIPELINED):
                answer = connection.read_answer(deadline)
                answer_id = answer.member("id")
                if not _is_int(answer_id) or not 1 <= answer_id <= PIPELINED or answer_id in answers:
                    got = f"{answer.text} after {len(answers)} answers"
                    raise CaseFailure(f"{what}: expected each id 1..{PIPELINED} once, got {got}")
                answers[answer_id] = answer
        except (OSError, ValueError) as error:
            got = f"{len(answers)} and then {type(error).__name__}: {error}"
            raise CaseFailure(f"{what}: expected {PIPELINED} answers, got {got}") from None
        for request_id in range(1, PIPELINED + 1):
            arg = pipelined_arg(request_id)
            answer = answers[request_id]
            result = answer.member("result")
            if not (_is_int(result) and result == arg + 1 and answer.member("error") is None):
                raise CaseFailure(
                    f"{label(GETINFO, arg)}, request id {request_id} of {PIPELINED} pipelined: "
                    f"expected result {arg + 1} and error null, got {answer.text}"
                )


@case
def netrpc_http_panda(peer: Peer) -> None:
    url = f"http://{peer.target}/panda"
    wanted = 'status 200 and body "panda"'
    # The suite only dials loopback: no proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=peer.timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (OSError, ValueError) as error:
        raise CaseFailure(f"GET {url}: expected {wanted}, got {type(error).__name__}: {error}") from None
    if status != 200 or body != b"panda":
        got = f"status {status} and body {_text(body.decode(errors='replace'))}"
        raise CaseFailure(f"GET {url}: expected {wanted}, got {got}")
