"""Where the scripted server listens and how the executor dials it (docs/peer-contract.md): the
server's --ipv6_loopback and --unix_socket, RequestInfo's authority and peer, the instruction's
channel.target and channel.authority, the client's --server_unix_socket, and the faults
scripted-peer-ipv4, scripted-authority-dropped, scripted-request-info-empty (server),
scripted-target-ignored and scripted-authority-ignored (client).

The real server (server.py) and client (client.py with a cases file) run over loopback and a Unix
domain socket in a temporary directory, on this venv's grpcio and, when built, on the older
releases' (build/versions/python/VERSION/venv: server and client of that release). What grpcio
reports is the same on 1.62.3, 1.70.0 and 1.85.1:
- authority: the host:port of an ipv4/ipv6 target as written (`127.0.0.1:P`, `[::1]:P`); for
  `unix:/a/b` and `unix:///a/b` the path without its leading slash, each `/` as `%2F` (`a%2Fb`);
  grpc.default_authority (channel.authority, the TLS flag's server name) in place of either;
- peer: `ipv4:127.0.0.1:EPHEMERAL`, `ipv6:%5B::1%5D:EPHEMERAL` (brackets percent-encoded),
  `unix:` (a client's end of a Unix domain socket has no name).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from peers import CLIENT, SERVER, TLS_CLIENT_FLAGS, RunningServer, release_pythons, run_client, running_server

from interop_peer import scripted_executor
from interop_peer.client_main import make_peer
from interop_peer.faults import Fault
from interop_peer.flags import (
    SCRIPTED_AUTHORITY_IGNORED,
    SCRIPTED_TARGET_IGNORED,
    FlagError,
    parse_client_flags,
    parse_server_flags,
)
from interop_peer.scripted_executor import ChannelSpec, ExecutorFaults, InstructionError

Observed = dict[str, Any]
AUTHORITY = "override.example:443"
TLS_NAME = "foo.test.google.fr"  # the TLS client flags' --server_host_override
IPV4_PEER = re.compile(r"ipv4:127\.0\.0\.1:[0-9]+")
IPV6_PEER = re.compile(r"ipv6:%5B::1%5D:[0-9]+")
UNIX_PEER = "unix:"
FAULTY_PEER = "ipv4:127.0.0.1:1"
OK, UNAVAILABLE, UNAUTHENTICATED = 0, 14, 16


def unary(**channel: str) -> dict[str, Any]:
    instruction: dict[str, Any] = {"method": "Unary", "requests": [{"script": {}}]}
    if channel:
        instruction["channel"] = channel
    return instruction


# One case per kind of target (the shared channel last), each with and without channel.authority.
CASES = {
    "unix": unary(target="unix:{unix_socket}"),
    "unix_uri": unary(target="unix://{unix_socket}"),  # unix:///abs/path
    "ipv6": unary(target="ipv6:[::1]:{port}"),
    "ipv4": unary(target="ipv4:{host}:{port}"),
    "unix_authority": unary(target="unix:{unix_socket}", authority=AUTHORITY),
    "ipv6_authority": unary(target="ipv6:[::1]:{port}", authority=AUTHORITY),
    "ipv4_authority": unary(target="ipv4:{host}:{port}", authority=AUTHORITY),
    "authority_only": unary(authority=AUTHORITY),
    "shared": unary(),
}
UNIX_CASES = ("unix", "unix_uri", "unix_authority")
IPV6_CASES = ("ipv6", "ipv6_authority")


def unix_authority(path: Path) -> str:
    """What grpcio sends as the :authority of a unix: target (for a path of URI-safe characters)."""
    assert re.fullmatch(r"[A-Za-z0-9/._-]+", str(path)), path
    return str(path).removeprefix("/").replace("/", "%2F")


def expected_addressing(
    name: str, port: int, path: Path, override: str | None = None, authority_ignored: bool = False
) -> tuple[str, Any]:
    """(authority, peer) RequestInfo reports for the case `name` (the peer: a pattern or the text).
    override: the grpc.default_authority every channel has (the TLS flag's server name);
    authority_ignored: under scripted-authority-ignored."""
    if name in UNIX_CASES:
        authority, peer = unix_authority(path), UNIX_PEER
    elif name in IPV6_CASES:
        authority, peer = f"[::1]:{port}", IPV6_PEER
    else:
        authority, peer = f"127.0.0.1:{port}", IPV4_PEER
    if "authority" in CASES[name].get("channel", {}) and not authority_ignored:
        authority = AUTHORITY
    elif override is not None:
        authority = override
    return authority, peer


def request_info(observed: Observed) -> dict[str, Any]:
    """RequestInfo of a call that ended OK with its one response."""
    assert observed["status"] == {"code": 0, "message": ""}, observed
    return observed["responses"][-1]["request_info"]  # type: ignore[no-any-return]


def addressing(observed: Observed) -> tuple[str | None, str | None]:
    info = request_info(observed)
    return info.get("authority"), info.get("peer")


def assert_peer(peer: str | None, expected: Any) -> None:
    if isinstance(expected, re.Pattern):
        assert peer is not None and expected.fullmatch(peer), (peer, expected.pattern)
    else:
        assert peer == expected


def observe(
    port: int, tmp_path: Path, cases: dict[str, Any], *flags: str, python: str | Path = sys.executable
) -> dict[str, Observed]:
    """Runs the cases with client.py; every one must pass (be run), in order."""
    path = tmp_path / f"cases-{time.monotonic_ns()}.json"
    path.write_text(json.dumps({"cases": cases}))
    run = run_client(port, list(cases), f"--cases_file={path}", *flags, python=python)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [record["case"] for record in run.records] == list(cases)
    return {str(record["case"]): record["observed"] for record in run.records}  # type: ignore[misc]


@pytest.fixture(scope="module")
def socket_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short directory for the sockets (a Unix socket path has at most 107 bytes)."""
    return tmp_path_factory.mktemp("sock")


def fresh_socket(socket_dir: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix="s", dir=socket_dir)) / "s.sock"


@contextmanager
def addressed_server(path: Path, *flags: str, python: str | Path = sys.executable) -> Iterator[RunningServer]:
    """server.py also listening on [::1] and on the Unix domain socket at path."""
    with running_server("--ipv6_loopback=true", f"--unix_socket={path}", *flags, python=python) as server:
        yield server


@pytest.fixture(scope="module")
def insecure_socket(socket_dir: Path) -> Path:
    return fresh_socket(socket_dir)


@pytest.fixture(scope="module")
def server(insecure_socket: Path) -> Iterator[RunningServer]:
    with addressed_server(insecure_socket) as running:
        yield running



# --- flags -----------------------------------------------------------------------------------


def test_server_flags() -> None:
    options = parse_server_flags(["--port=0", "--ipv6_loopback=true", "--unix_socket=/tmp/x/s.sock"])
    assert options.ipv6_loopback and options.unix_socket == "/tmp/x/s.sock"
    plain = parse_server_flags(["--port=0"])
    assert not plain.ipv6_loopback and plain.unix_socket is None and plain.second_host is None
    assert parse_server_flags(["--port=0", "--ipv6_loopback", "--workers=1"]).ipv6_loopback
    assert parse_server_flags(["--port=0", "--second_host=127.0.0.2", "--workers=1"]).second_host == "127.0.0.2"
    assert parse_server_flags(["--port=0", "--second_host", "127.0.0.3"]).second_host == "127.0.0.3"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ipv6_loopback=true", "--workers=2"], "argument --ipv6_loopback: not allowed with --workers > 1"),
        (["--unix_socket=/tmp/x.sock", "--workers=4"], "argument --unix_socket: not allowed with --workers > 1"),
        (["--unix_socket="], "argument --unix_socket: invalid path: must not be empty"),
        (["--ipv6_loopback=maybe"], "argument --ipv6_loopback: invalid boolean"),
        (["--second_host=127.0.0.2", "--workers=2"], "argument --second_host: not allowed with --workers > 1"),
        (["--second_host="], "argument --second_host: invalid address: must not be empty"),
    ],
)
def test_bad_server_flags_exit_2(flags: list[str], message: str) -> None:
    with pytest.raises(FlagError, match=re.escape(message)):
        parse_server_flags(["--port=0", *flags])
    result = subprocess.run(
        [sys.executable, str(SERVER), "--port=0", *flags],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (2, "") and message in result.stderr, result.stderr


def test_client_flags() -> None:
    base = ["--server_host=127.0.0.1", "--server_port=1", "--test_case=x"]
    options = parse_client_flags([*base, "--server_unix_socket=/tmp/x/s.sock"])
    assert options.server_unix_socket == "/tmp/x/s.sock"
    assert make_peer(options).unix_socket == "/tmp/x/s.sock"
    assert make_peer(parse_client_flags(base)).unix_socket is None
    with pytest.raises(FlagError, match="--server_unix_socket: invalid path: must not be empty"):
        parse_client_flags([*base, "--server_unix_socket="])
    for fault in (SCRIPTED_TARGET_IGNORED, SCRIPTED_AUTHORITY_IGNORED):
        assert parse_client_flags([*base, f"--client_fault={fault}"]).client_fault == fault
    assert ExecutorFaults.of(SCRIPTED_TARGET_IGNORED) == ExecutorFaults(target_ignored=True)
    assert ExecutorFaults.of(SCRIPTED_AUTHORITY_IGNORED) == ExecutorFaults(authority_ignored=True)


def test_the_server_faults_are_known() -> None:
    assert Fault("scripted-peer-ipv4") is Fault.SCRIPTED_PEER_IPV4
    assert Fault("scripted-authority-dropped") is Fault.SCRIPTED_AUTHORITY_DROPPED


# --- parsing and the channel's making --------------------------------------------------------


def test_target_and_authority_are_kept_exactly_as_written() -> None:
    for text in ("unix:{unix_socket}", " ipv6:[::1]:{port} ", "dns:///{host}:{port}", "é:{other}"):
        spec = scripted_executor.parse_channel({"target": text, "authority": text})
        assert spec == ChannelSpec(target=text, authority=text), text
    assert scripted_executor.parse_channel({}) == ChannelSpec()


@pytest.mark.parametrize("member", ["target", "authority"])
@pytest.mark.parametrize("value", ["", 1, None, True, ["a"], {"a": "b"}])
def test_target_or_authority_that_is_not_a_non_empty_string_is_a_bad_instruction(member: str, value: Any) -> None:
    with pytest.raises(InstructionError, match=rf"^channel\.{member}: expected a non-empty string, got "):
        scripted_executor.parse_channel({member: value})


def test_unknown_channel_member_names_target_and_authority_among_the_expected() -> None:
    expected = (
        "compression, server_name, target, authority, keepalive_time_ms, keepalive_timeout_ms, "
        "keepalive_permit_without_calls, addresses, lb_policy"
    )
    with pytest.raises(InstructionError, match=f"{expected}\\)$"):
        scripted_executor.parse_channel({"address": "x"})


def client_peer(*flags: str) -> scripted_executor.Peer:
    return make_peer(parse_client_flags(["--server_host=127.0.0.1", "--server_port=50051", "--test_case=x", *flags]))


def test_the_placeholders_are_replaced_in_one_pass() -> None:
    peer = client_peer("--server_unix_socket=/run/{port}/s.sock")
    dialled = ChannelSpec(target="unix:{unix_socket} {host}:{port} {port}{other}{HOST}").dialled(peer)
    # The socket path's own "{port}" is left as it is; unknown placeholders too.
    assert dialled == "unix:/run/{port}/s.sock 127.0.0.1:50051 50051{other}{HOST}"
    assert ChannelSpec(target="ipv6:[::1]:{port}").dialled(peer) == "ipv6:[::1]:50051"
    assert ChannelSpec().dialled(peer) is None  # the peer's --server_host:--server_port
    assert ChannelSpec(target="unix:{unix_socket}").dialled(peer, target_ignored=True) is None


def test_a_unix_socket_target_without_the_flag_cannot_be_run() -> None:
    peer = client_peer()
    with pytest.raises(InstructionError) as refused:
        ChannelSpec(target="unix://{unix_socket}").dialled(peer)
    assert str(refused.value) == (
        'channel.target "unix://{unix_socket}" names {unix_socket}, and the client was given no --server_unix_socket'
    )
    assert ChannelSpec(target="ipv4:{host}:{port}").dialled(peer) == "ipv4:127.0.0.1:50051"


def test_the_authority_takes_the_place_of_any_other() -> None:
    insecure = client_peer()
    assert ChannelSpec(authority="a.example").peer(insecure).tls_options == (("grpc.default_authority", "a.example"),)
    tls = client_peer(*TLS_CLIENT_FLAGS)
    # gRPC core takes the first of two grpc.default_authority: the flag's is replaced, never followed.
    assert ChannelSpec(authority="a.example").peer(tls).tls_options == (
        ("grpc.ssl_target_name_override", TLS_NAME),
        ("grpc.default_authority", "a.example"),
    )
    both = ChannelSpec(server_name="other.test.google.fr", authority="a.example").peer(tls)
    assert both.tls_options == (
        ("grpc.ssl_target_name_override", "other.test.google.fr"),
        ("grpc.default_authority", "a.example"),
    )
    # The fault, or no authority: the peer as the flags (and server_name) made it.
    assert ChannelSpec(authority="a.example").peer(tls, authority_ignored=True) is tls
    assert ChannelSpec(authority="a.example").peer(insecure, authority_ignored=True) is insecure
    assert ChannelSpec(target="unix:/x").peer(insecure) is insecure


# --- the server and the client, on every grpcio built here -----------------------------------


@pytest.mark.parametrize("python", release_pythons())
def test_every_target_kind_reaches_the_server(socket_dir: Path, tmp_path: Path, python: Path) -> None:
    """This grpcio's server and client (the older releases' too)."""
    path = fresh_socket(socket_dir)
    with addressed_server(path, python=python) as server:
        observed = observe(server.port, tmp_path, CASES, f"--server_unix_socket={path}", python=python)
    for name in CASES:
        authority, peer = addressing(observed[name])
        expected_authority, expected_peer = expected_addressing(name, server.port, path)
        assert authority == expected_authority, (name, observed[name])
        assert_peer(peer, expected_peer)
        print(f"{python}: {name}: authority {authority!r}, peer {peer!r}")


@pytest.mark.parametrize("python", release_pythons())
def test_each_own_channel_has_a_connection_of_its_own(server: RunningServer, tmp_path: Path, python: Path) -> None:
    """Instructions with a channel of their own, made with the same target and options one after
    the other (each closed before the next is made), reach the server over different connections: grpcio's global subchannel pool would
    hand the second channel the first one's connection (and with it any state a misbehaving peer
    left there, such as its HPACK table), so the executor gives each such channel a local pool."""
    own = {"channel": {}, "method": "Unary", "requests": [{"script": {}}]}
    cases = {f"own_{n}": own for n in range(40)} | {"target": unary(target="ipv4:{host}:{port}")}
    observed = observe(server.port, tmp_path, cases, python=python)
    peers = [addressing(observed[name])[1] for name in cases]
    for peer in peers:
        assert_peer(peer, IPV4_PEER)
    assert len(set(peers)) == len(peers), peers


# channel.authority on TLS (the flag's server name override kept). gRPC core lets a call go when its
# :authority is the channel's own name (grpc.default_authority without its port) or matches the
# server's certificate (its port left out); else the call fails before it is sent, UNAUTHENTICATED
# "call host does not match SSL server name" (grpcio 1.62.3, 1.70.0 and 1.85.1 alike).
TLS_AUTHORITIES = {
    "x.example": OK,
    "other.test.google.fr:443": OK,  # the certificate's *.test.google.fr
    AUTHORITY: UNAUTHENTICATED,  # override.example:443: neither
}
TLS_TARGETS = {"unix": "unix:{unix_socket}", "ipv6": "ipv6:[::1]:{port}", "ipv4": "ipv4:{host}:{port}"}


@pytest.mark.parametrize("python", release_pythons())
def test_tls_over_every_target_kind(socket_dir: Path, tmp_path: Path, python: Path) -> None:
    """The transport's credentials and server name apply to a target's channel: the TLS flag's
    server name is the authority, unless channel.authority replaces it."""
    cases = dict(CASES)
    for kind, target in TLS_TARGETS.items():
        for index, authority in enumerate(TLS_AUTHORITIES):
            cases[f"{kind}_tls_authority_{index}"] = unary(target=target, authority=authority)
    path = fresh_socket(socket_dir)
    with addressed_server(path, "--use_tls=true", python=python) as server:
        observed = observe(server.port, tmp_path, cases, f"--server_unix_socket={path}", *TLS_CLIENT_FLAGS, python=python)
    for name in CASES:
        if "authority" in CASES[name].get("channel", {}):
            continue  # override.example:443, below
        authority, peer = addressing(observed[name])
        expected_authority, expected_peer = expected_addressing(name, server.port, path, override=TLS_NAME)
        assert authority == expected_authority, (name, observed[name])
        assert_peer(peer, expected_peer)
    for kind in TLS_TARGETS:
        for index, (authority, code) in enumerate(TLS_AUTHORITIES.items()):
            case = observed[f"{kind}_tls_authority_{index}"]
            if code == OK:
                sent, peer = addressing(case)
                assert sent == authority, (kind, authority, case)
                assert_peer(peer, expected_addressing(kind, server.port, path)[1])
            else:
                assert case == {"status": {"code": code, "message": "call host does not match SSL server name"}}


def test_the_ipv6_listener_has_the_port_bound_for_host(server: RunningServer, tmp_path: Path) -> None:
    # Dialled through other resolvers than ipv6:, the same [::1] port answers.
    cases = {"bracketed": unary(target="[::1]:{port}"), "dns": unary(target="dns:///[::1]:{port}")}
    observed = observe(server.port, tmp_path, cases)
    for name in cases:
        authority, peer = addressing(observed[name])
        assert authority == f"[::1]:{server.port}", observed[name]
        assert_peer(peer, IPV6_PEER)


def test_a_server_without_the_flags_does_not_listen_there(socket_dir: Path, tmp_path: Path) -> None:
    path = fresh_socket(socket_dir)
    with running_server() as plain:
        observed = observe(plain.port, tmp_path, {"unix": CASES["unix"]}, f"--server_unix_socket={path}")
        assert not path.exists()
    assert observed["unix"]["status"]["code"] == UNAVAILABLE, observed  # an ordinary call's status


def test_a_unix_target_without_the_flag_fails_the_case(server: RunningServer, tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": {"unix": CASES["unix"], "shared": CASES["shared"]}}))
    run = run_client(server.port, ["unix", "shared"], f"--cases_file={path}")
    assert run.returncode == 1 and [record["status"] for record in run.records] == ["failed", "passed"]
    assert run.records[0]["error"] == (
        'unix: cannot run the instruction: channel.target "unix:{unix_socket}" names {unix_socket}, and the '
        "client was given no --server_unix_socket"
    )
    assert "observed" not in run.records[0]


def test_executor_mode_takes_the_flag_per_run(server: RunningServer, insecure_socket: Path, tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": {"unix": CASES["unix"]}}))
    base = ["--server_host=127.0.0.1", f"--server_port={server.port}", "--test_case=unix", f"--cases_file={path}"]
    requests = [
        {"run": 1, "args": [*base, f"--server_unix_socket={insecure_socket}"]},
        {"run": 2, "args": base},  # the flag of run 1 does not outlive it
    ]
    result = subprocess.run(
        [sys.executable, str(CLIENT), "--executor"],
        input="".join(json.dumps(request) + "\n" for request in requests),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    first, end1, second, end2 = (json.loads(line) for line in result.stdout.splitlines())
    assert first["status"] == "passed" and end1 == {"run": 1, "exit_code": 0}
    assert addressing(first["observed"])[1] == UNIX_PEER
    assert second["status"] == "failed" and "no --server_unix_socket" in second["error"]
    assert end2 == {"run": 2, "exit_code": 1}


# --- start-up failures -----------------------------------------------------------------------


def start_failure(*flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SERVER), *flags], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )


def test_a_taken_ipv6_port_is_a_start_up_failure() -> None:
    with socket.socket(socket.AF_INET6) as taken:
        taken.bind(("::1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = start_failure(f"--port={port}", "--ipv6_loopback=true")
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert f"cannot listen on [::1]:{port}" in result.stderr


def test_an_unusable_unix_socket_path_is_a_start_up_failure(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "s.sock"
    result = start_failure("--port=0", f"--unix_socket={path}")
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert f"cannot listen on unix:{path}" in result.stderr


# --- the faults ------------------------------------------------------------------------------

FAULT_CASES = {name: CASES[name] for name in ("unix", "ipv6", "ipv4_authority", "shared")}


@pytest.mark.parametrize(
    "fault", [Fault.SCRIPTED_PEER_IPV4, Fault.SCRIPTED_AUTHORITY_DROPPED, Fault.SCRIPTED_REQUEST_INFO_EMPTY], ids=str
)
def test_server_fault(fault: Fault, socket_dir: Path, tmp_path: Path) -> None:
    path = fresh_socket(socket_dir)
    with addressed_server(path, f"--fault={fault}") as faulty:
        observed = observe(faulty.port, tmp_path, FAULT_CASES, f"--server_unix_socket={path}")
    for name in FAULT_CASES:
        info = request_info(observed[name])
        authority, peer = expected_addressing(name, faulty.port, path)
        if fault == Fault.SCRIPTED_REQUEST_INFO_EMPTY:
            assert info == {}, (name, info)
            continue
        if fault == Fault.SCRIPTED_PEER_IPV4:
            assert info["peer"] == FAULTY_PEER and info["authority"] == authority, (name, info)
        else:
            assert "authority" not in info, (name, info)
            assert_peer(info["peer"], peer)
        assert len(info["requests"]) == 1 and "timeout_ms" in info, (name, info)  # the rest as usual


def test_target_ignored_fault_dials_the_flags(server: RunningServer, insecure_socket: Path, tmp_path: Path) -> None:
    fault = f"--client_fault={SCRIPTED_TARGET_IGNORED}"
    observed = observe(server.port, tmp_path, CASES, f"--server_unix_socket={insecure_socket}", fault)
    for name in CASES:
        authority, peer = addressing(observed[name])
        # Every channel dials --server_host:--server_port; channel.authority still applies.
        assert authority == (AUTHORITY if "authority" in CASES[name].get("channel", {}) else f"127.0.0.1:{server.port}")
        assert_peer(peer, IPV4_PEER)
    # Nor does a target naming {unix_socket} fail without the flag: it is not looked at.
    unflagged = observe(server.port, tmp_path, {"unix": CASES["unix"]}, fault)
    assert addressing(unflagged["unix"])[0] == f"127.0.0.1:{server.port}"


def test_authority_ignored_fault_sends_the_derived_authority(
    server: RunningServer, insecure_socket: Path, tmp_path: Path
) -> None:
    fault = f"--client_fault={SCRIPTED_AUTHORITY_IGNORED}"
    observed = observe(server.port, tmp_path, CASES, f"--server_unix_socket={insecure_socket}", fault)
    for name in CASES:
        authority, peer = addressing(observed[name])
        expected_authority, expected_peer = expected_addressing(
            name, server.port, insecure_socket, authority_ignored=True
        )
        assert authority == expected_authority and authority != AUTHORITY, (name, authority)
        assert_peer(peer, expected_peer)
