"""The instruction's `channel.server_name` and the client fault scripted-server-name-ignored
(docs/peer-contract.md, "Client: the generic executor").

On TLS the instruction's own channel checks the server certificate against server_name, given to
grpcio exactly as written (grpc.ssl_target_name_override, as --server_host_override), instead of
the flag's name; the channel still dials --server_host:--server_port. On insecure it is ignored. A
certificate that does not match is the call's status as grpcio gives it (UNAVAILABLE), never an
executor failure.

The server is a real grpcio server in this process, serving interop.scripted.Scripted with the
repository's certs/server.pem (DNS foo.test.google.fr, *.test.google.fr, localhost; IP 127.0.0.1,
::1). The executor runs in process, and as client.py (this venv's grpcio and, when built, the
older releases' under build/versions/python/VERSION/venv) for the flag's wiring.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from peers import CERTS, CLIENT_CERT_FLAGS, TLS_CLIENT_FLAGS, release_pythons, run_client

from interop_peer import scripted_executor
from interop_peer.cases import Peer
from interop_peer.client_main import make_peer
from interop_peer.flags import SCRIPTED_SERVER_NAME_IGNORED, parse_client_flags
from interop_peer.scripted_executor import ChannelSpec, ExecutorFaults, InstructionError
from interop_peer.scripted_service import add_scripted_service
from interop_peer.tls import ServerPem, server_credentials

Observed = dict[str, Any]
OK, UNAVAILABLE = 0, 14
FLAG_NAME = "foo.test.google.fr"  # the tls transport's --server_host_override
FAULT = ExecutorFaults.of(SCRIPTED_SERVER_NAME_IGNORED)
FAULT_FLAG = f"--client_fault={SCRIPTED_SERVER_NAME_IGNORED}"
# What grpcio (1.62.3, 1.70.0 and 1.85.1 alike) makes of each name against certs/server.pem.
EXPECTED = {
    "wrong.example.com": UNAVAILABLE,
    "other.test.google.fr": OK,  # *.test.google.fr
    "a.b.test.google.fr": UNAVAILABLE,  # a wildcard covers one label
    "foo.test.google.fr.evil.example": UNAVAILABLE,
    "FOO.TEST.GOOGLE.FR": OK,  # DNS names compare without case
    "127.0.0.1": OK,  # the certificate's IP SAN
    "localhost": OK,
}


def unary(**instruction: Any) -> dict[str, Any]:
    return {"method": "Unary", "requests": [{"script": {}}], **instruction}


def named(name: str) -> dict[str, Any]:
    return unary(channel={"server_name": name})


def code(observed: Observed) -> int:
    return int(observed["status"]["code"])


def reached_the_server(observed: Observed) -> bool:
    """The server's RequestInfo came back (in the last response of a call that ended OK, else in
    the trailer)."""
    responses = observed.get("responses") or [{}]
    return "request_info" in observed or "request_info" in (responses[-1] or {})


def serve(tls: ServerPem | None) -> tuple[grpc.Server, int]:
    server = grpc.server(ThreadPoolExecutor(4))
    add_scripted_service(server, frozenset())
    address = "127.0.0.1:0"
    if tls is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, server_credentials(tls))
    server.start()
    return server, port


def server_pem(mtls: bool) -> ServerPem:
    return ServerPem(
        cert=(CERTS / "server.pem").read_bytes(),
        key=(CERTS / "server.key").read_bytes(),
        client_ca=(CERTS / "ca.pem").read_bytes() if mtls else None,
    )


def _serving(pem: ServerPem | None) -> Iterator[int]:
    """The port of a scripted server with `pem` (None: insecure), stopped when the fixture ends."""
    server, port = serve(pem)
    try:
        yield port
    finally:
        server.stop(None)


@pytest.fixture(scope="module")
def tls_port() -> Iterator[int]:
    yield from _serving(server_pem(mtls=False))


@pytest.fixture(scope="module")
def mtls_port() -> Iterator[int]:
    yield from _serving(server_pem(mtls=True))


@pytest.fixture(scope="module")
def insecure_port() -> Iterator[int]:
    yield from _serving(None)


def client_peer(port: int, *flags: str) -> Peer:
    """The peer client.py makes of these transport flags."""
    argv = ["--server_host=127.0.0.1", f"--server_port={port}", "--test_case=x", *flags]
    return make_peer(parse_client_flags(argv))


def execute(peer: Peer, instruction: dict[str, Any], faults: ExecutorFaults = scripted_executor.NO_FAULTS) -> Observed:
    try:
        return scripted_executor.execute(peer, instruction, faults)
    finally:
        scripted_executor.close_channels()


# --- parsing ---------------------------------------------------------------------------------


def test_server_name_is_kept_exactly_as_written() -> None:
    for name in ("other.test.google.fr", "FOO.TEST.GOOGLE.FR", " foo.test.google.fr ", "127.0.0.1", "é.example"):
        spec = scripted_executor.parse_channel({"server_name": name})
        assert spec == ChannelSpec(server_name=name), name
    both = scripted_executor.parse_channel({"server_name": "x", "max_receive_message_length": 5, "compression": "gzip"})
    assert both == ChannelSpec(max_receive_message_length=5, compression=grpc.Compression.Gzip, server_name="x")
    assert scripted_executor.parse_channel({}).server_name is None


@pytest.mark.parametrize("value", ["", 1, None, True, ["a"], {"name": "a"}])
def test_server_name_that_is_not_a_non_empty_string_is_a_bad_instruction(value: Any) -> None:
    with pytest.raises(InstructionError, match=r"^channel\.server_name: expected a non-empty string, got "):
        scripted_executor.parse_channel({"server_name": value})


def test_unknown_channel_member_names_server_name_among_the_expected() -> None:
    expected = "expected max_receive_message_length, max_send_message_length, compression, server_name"
    with pytest.raises(InstructionError, match=expected):
        scripted_executor.parse_channel({"sni": "x"})


def test_a_bad_server_name_fails_the_case_and_makes_no_call(tls_port: int) -> None:
    peer = client_peer(tls_port, *TLS_CLIENT_FLAGS)
    with pytest.raises(InstructionError):
        execute(peer, named(""))


def test_the_fault_is_a_client_fault_flag() -> None:
    assert FAULT == ExecutorFaults(server_name_ignored=True)
    assert ExecutorFaults.of("scripted-client-limits-ignored").server_name_ignored is False
    options = parse_client_flags(["--server_host=h", "--server_port=1", "--test_case=x", FAULT_FLAG])
    assert options.client_fault == SCRIPTED_SERVER_NAME_IGNORED


# --- the channel's options -------------------------------------------------------------------


def test_the_name_takes_the_place_of_the_flag_in_the_channel_options() -> None:
    tls = client_peer(1, *TLS_CLIENT_FLAGS)
    assert tls.tls_options == (("grpc.ssl_target_name_override", FLAG_NAME), ("grpc.default_authority", FLAG_NAME))
    spec = ChannelSpec(server_name=" Other.Test.Google.FR")
    own = spec.peer(tls)
    # Replaced, not appended after the flag's: grpcio is never given two names.
    assert own.tls_options == (
        ("grpc.ssl_target_name_override", " Other.Test.Google.FR"),
        ("grpc.default_authority", " Other.Test.Google.FR"),
    )
    # Same credentials (the client certificate on mtls), same address.
    assert (own.credentials, own.host, own.port, own.timeout) == (tls.credentials, tls.host, tls.port, tls.timeout)
    # Without --server_host_override the name is still given.
    bare = client_peer(1, "--use_tls=true", "--use_test_ca=true")
    assert bare.tls_options == () and spec.peer(bare).tls_options == own.tls_options
    # The fault, insecure, or no server_name: the peer as the flags made it.
    assert spec.peer(tls, server_name_ignored=True) is tls
    insecure = client_peer(1)
    assert spec.peer(insecure) is insecure
    assert ChannelSpec().peer(tls) is tls


def test_the_executor_gives_grpcio_the_name_as_written(tls_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, Any]] = []
    real = grpc.secure_channel

    def secure_channel(target: str, credentials: Any, options: Any = None, **kwargs: Any) -> grpc.Channel:
        made.append((target, list(options or ())))
        return real(target, credentials, options=options, **kwargs)

    monkeypatch.setattr(grpc, "secure_channel", secure_channel)
    peer = client_peer(tls_port, *TLS_CLIENT_FLAGS)
    assert code(execute(peer, named("FOO.TEST.GOOGLE.FR"))) == OK
    [(target, options)] = made
    assert target == f"127.0.0.1:{tls_port}"  # still --server_host:--server_port
    names = [value for key, value in options if key in ("grpc.ssl_target_name_override", "grpc.default_authority")]
    assert names == ["FOO.TEST.GOOGLE.FR", "FOO.TEST.GOOGLE.FR"]


# --- against a TLS server --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_each_name_against_the_test_certificate(tls_port: int, name: str, expected: int) -> None:
    observed = execute(client_peer(tls_port, *TLS_CLIENT_FLAGS), named(name))
    assert code(observed) == expected, observed
    # A refused certificate: the handshake failed, the call never reached the server.
    assert reached_the_server(observed) == (expected == OK), observed
    if expected == UNAVAILABLE:
        assert set(observed) == {"status"}, observed
        assert observed["status"]["message"].startswith("failed to connect to all addresses"), observed
    print(f"grpcio {grpc.__version__}: server_name {name!r} -> {json.dumps(observed['status'])}")


@pytest.mark.parametrize("method", ["Unary", "ServerStream", "ClientStream", "BidiStream"])
def test_a_refused_certificate_is_every_method_s_status(tls_port: int, method: str) -> None:
    peer = client_peer(tls_port, *TLS_CLIENT_FLAGS)
    instruction = {"method": method, "channel": {"server_name": "wrong.example.com"}, "requests": [{"script": {}}]}
    assert code(execute(peer, instruction)) == UNAVAILABLE
    instruction["channel"] = {"server_name": "other.test.google.fr"}
    assert code(execute(peer, instruction)) == OK


def test_mtls_checks_the_name_too(mtls_port: int) -> None:
    peer = client_peer(mtls_port, *TLS_CLIENT_FLAGS, *CLIENT_CERT_FLAGS)
    assert code(execute(peer, named("wrong.example.com"))) == UNAVAILABLE
    assert code(execute(peer, named("other.test.google.fr"))) == OK


def test_the_fault_checks_the_flag_s_name(tls_port: int) -> None:
    peer = client_peer(tls_port, *TLS_CLIENT_FLAGS)
    for name in EXPECTED:
        observed = execute(peer, named(name), FAULT)
        assert code(observed) == OK and reached_the_server(observed), (name, observed)


def test_insecure_ignores_the_name(insecure_port: int) -> None:
    peer = client_peer(insecure_port)
    for name in ("wrong.example.com", "a.b.test.google.fr"):
        observed = execute(peer, named(name))
        assert code(observed) == OK and reached_the_server(observed), (name, observed)


def test_the_shared_channel_keeps_the_flag_s_name(tls_port: int) -> None:
    """A refused name leaves the run's shared channel (and the next case) alone."""
    peer = client_peer(tls_port, *TLS_CLIENT_FLAGS)
    try:
        assert code(scripted_executor.execute(peer, unary())) == OK
        shared = scripted_executor.shared_channel(peer)
        assert code(scripted_executor.execute(peer, named("wrong.example.com"))) == UNAVAILABLE
        assert scripted_executor.shared_channel(peer) is shared
        assert code(scripted_executor.execute(peer, unary())) == OK
    finally:
        scripted_executor.close_channels()


# --- client.py, on every grpcio built here ---------------------------------------------------

CLIENT_CASES = {
    "wrong": named("wrong.example.com"),
    "wildcard": named("other.test.google.fr"),
    "two_labels": named("a.b.test.google.fr"),
    "upper_case": named("FOO.TEST.GOOGLE.FR"),
    "ip": named("127.0.0.1"),
    "shared_after": unary(),
}
CLIENT_EXPECTED = {
    "wrong": UNAVAILABLE,
    "wildcard": OK,
    "two_labels": UNAVAILABLE,
    "upper_case": OK,
    "ip": OK,
    "shared_after": OK,
}



def client_observations(port: int, tmp_path: Path, python: Path, *flags: str) -> dict[str, Observed]:
    path = tmp_path / f"cases-{time.monotonic_ns()}.json"
    path.write_text(json.dumps({"cases": CLIENT_CASES}))
    run = run_client(port, list(CLIENT_CASES), f"--cases_file={path}", *TLS_CLIENT_FLAGS, *flags, python=python)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [record["case"] for record in run.records] == list(CLIENT_CASES)
    assert all(record["status"] == "passed" for record in run.records), run.records
    return {str(record["case"]): record["observed"] for record in run.records}  # type: ignore[misc]


@pytest.mark.parametrize("python", release_pythons())
def test_client_observes_each_name(tls_port: int, tmp_path: Path, python: Path) -> None:
    observed = client_observations(tls_port, tmp_path, python)
    for name, expected in CLIENT_EXPECTED.items():
        assert code(observed[name]) == expected, (name, observed[name])
        assert reached_the_server(observed[name]) == (expected == OK), (name, observed[name])
        print(f"{python}: {name} -> {json.dumps(observed[name]['status'])}")


@pytest.mark.parametrize("python", release_pythons())
def test_client_fault_makes_every_name_the_flag_s(tls_port: int, tmp_path: Path, python: Path) -> None:
    observed = client_observations(tls_port, tmp_path, python, FAULT_FLAG)
    for name, case in observed.items():
        assert code(case) == OK and reached_the_server(case), (name, case)
