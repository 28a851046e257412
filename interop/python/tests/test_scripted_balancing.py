"""Two backends at two addresses (docs/peer-contract.md): the server's --second_host (and the fault
scripted-second-host-ignored), and the generic executor's channel.addresses and channel.lb_policy
(and scripted-target-ignored, which ignores addresses too).

The real server (server.py) and client (client.py with a cases file) run over loopback, on this
venv's grpcio and, when built, on the older releases' (build/versions/python/VERSION/venv: server
and client of that release). A client's calls to 127.0.0.2 come from 127.0.0.1 (the kernel's
source address for the loopback route), so RequestInfo.peer tells the connections apart by their
ephemeral ports only: `ipv4:127.0.0.1:EPHEMERAL` for either backend. The channel of
`ipv4:A,B` sends `A,B` (the URI's path) as its :authority, on every release here.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from peers import SERVER, TLS_CLIENT_FLAGS, RunningServer, code, info, observe, release_pythons, running_server

from interop_peer import scripted_executor
from interop_peer.client_main import make_peer
from interop_peer.faults import Fault
from interop_peer.flags import SCRIPTED_TARGET_IGNORED, parse_client_flags
from interop_peer.protos import server_info_pb2_grpc
from interop_peer.scripted_executor import ChannelSpec, InstructionError

SECOND_HOST = "127.0.0.2"
SECOND_HOST_FLAG = f"--second_host={SECOND_HOST}"
SECOND_HOST_IGNORED = f"--fault={Fault.SCRIPTED_SECOND_HOST_IGNORED}"
OK, UNAVAILABLE = 0, 14
IPV4_PEER = re.compile(r"ipv4:127\.0\.0\.1:[0-9]+")
BOTH = ["{host}:{port}", f"{SECOND_HOST}:{{port}}"]
# Enough calls on one round_robin channel that both subchannels are READY long before the last one
# (round_robin picks among the READY ones: the first calls may all go to the first one connected).
CALLS = 20


def unary(**channel: Any) -> dict[str, Any]:
    instruction: dict[str, Any] = {"method": "Unary", "requests": [{"script": {}}]}
    if channel:
        instruction["channel"] = channel
    return instruction


def calls(**channel: Any) -> dict[str, Any]:
    """CALLS unary calls on one channel of the instruction's own: the call, then follow-ups."""
    return {**unary(**channel), "followups": [unary() for _ in range(CALLS - 1)]}


def every_call(observed: dict[str, Any]) -> list[dict[str, Any]]:
    return [observed, *observed["followups"]]


def peers_of(observed: dict[str, Any]) -> list[str]:
    """The client address the server saw for each call, every call having ended OK."""
    assert all(code(call) == OK for call in every_call(observed)), observed
    return [info(call)["peer"] for call in every_call(observed)]


def server_pid(address: str) -> int:
    with grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)]) as channel:
        return int(server_info_pb2_grpc.ServerInfoStub(channel).GetInfo(empty_pb2.Empty(), timeout=5).pid)


def accepts(host: str, port: int) -> bool:
    """Whether something listens at host:port (a plain TCP connect)."""
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(SECOND_HOST_FLAG) as running:
        yield running


# --- the server's --second_host ---------------------------------------------------------------


@pytest.mark.parametrize("python", release_pythons())
def test_the_second_host_serves_at_the_port_bound_for_host(python: Path, tmp_path: Path) -> None:
    """--port=0: the ephemeral port got on 127.0.0.1 is served on 127.0.0.2 too, by the same process."""
    with running_server(SECOND_HOST_FLAG, python=python) as server:
        assert server_pid(f"{SECOND_HOST}:{server.port}") == server.process.pid
        cases = {"second": unary(target=f"ipv4:{SECOND_HOST}:{{port}}")}
        observed = observe(server.port, tmp_path, cases, python=python)
    assert code(observed["second"]) == OK
    assert info(observed["second"])["authority"] == f"{SECOND_HOST}:{server.port}"
    assert IPV4_PEER.fullmatch(info(observed["second"])["peer"])


def test_the_second_host_has_the_same_credentials(tmp_path: Path) -> None:
    with running_server(SECOND_HOST_FLAG, "--use_tls=true") as server:
        cases = {"second": unary(target=f"ipv4:{SECOND_HOST}:{{port}}")}
        observed = observe(server.port, tmp_path, cases, *TLS_CLIENT_FLAGS)
        # Plaintext is refused there as on --host: the handshake fails.
        insecure = observe(server.port, tmp_path, cases)
    assert code(observed["second"]) == OK and info(observed["second"])["authority"] == "foo.test.google.fr"
    assert code(insecure["second"]) == UNAVAILABLE


def test_a_server_without_the_flag_does_not_listen_there(tmp_path: Path) -> None:
    with running_server() as plain:
        assert not accepts(SECOND_HOST, plain.port)
        observed = observe(plain.port, tmp_path, {"second": unary(target=f"ipv4:{SECOND_HOST}:{{port}}")})
    assert code(observed["second"]) == UNAVAILABLE


def start_failure(*flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SERVER), *flags], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )


def test_a_taken_second_host_port_is_a_start_up_failure() -> None:
    with socket.socket() as taken:
        taken.bind((SECOND_HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = start_failure(f"--port={port}", SECOND_HOST_FLAG)
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert f"cannot listen on {SECOND_HOST}:{port}" in result.stderr


@pytest.mark.parametrize("address", ["127.0.0.1", "192.0.2.1"], ids=["the-host-itself", "not-local"])
def test_an_address_that_cannot_be_bound_is_a_start_up_failure(address: str) -> None:
    result = start_failure("--port=0", f"--second_host={address}")
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert re.search(rf"cannot listen on {re.escape(address)}:[0-9]+", result.stderr), result.stderr


@pytest.mark.parametrize("python", release_pythons())
def test_second_host_ignored_fault_does_not_listen_there(python: Path, tmp_path: Path) -> None:
    cases = {
        "second": unary(target=f"ipv4:{SECOND_HOST}:{{port}}"),
        "round_robin": calls(addresses=BOTH, lb_policy="round_robin"),
    }
    log = tmp_path / "server.log"
    flags = (SECOND_HOST_FLAG, SECOND_HOST_IGNORED)
    with log.open("w") as stderr, running_server(*flags, python=python, stderr=stderr) as server:
        assert not accepts(SECOND_HOST, server.port)
        observed = observe(server.port, tmp_path, cases, python=python)
    assert code(observed["second"]) == UNAVAILABLE
    # 127.0.0.2 refuses: round_robin has only the one backend, every call on one connection.
    assert len(set(peers_of(observed["round_robin"]))) == 1
    assert f"serving insecure on 127.0.0.1:{server.port} (" in log.read_text()


# --- the executor's channel.addresses and channel.lb_policy: parsing --------------------------


def client_peer(*flags: str) -> scripted_executor.Peer:
    return make_peer(parse_client_flags(["--server_host=127.0.0.1", "--server_port=50051", "--test_case=x", *flags]))


def test_addresses_and_lb_policy_are_parsed() -> None:
    spec = scripted_executor.parse_channel({"addresses": BOTH, "lb_policy": "round_robin"})
    assert spec == ChannelSpec(addresses=tuple(BOTH), lb_policy="round_robin")
    assert scripted_executor.parse_channel({"lb_policy": "pick_first"}) == ChannelSpec(lb_policy="pick_first")
    assert scripted_executor.parse_channel({"addresses": ["a:1"]}) == ChannelSpec(addresses=("a:1",))


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ({"addresses": []}, "channel.addresses: expected a non-empty list of non-empty strings, got []"),
        ({"addresses": "a:1,b:1"}, 'channel.addresses: expected a non-empty list of non-empty strings, got "a:1,b:1"'),
        ({"addresses": ["a:1", ""]}, "channel.addresses: expected a non-empty list of non-empty strings, got"),
        ({"addresses": ["a:1", 2]}, "channel.addresses: expected a non-empty list of non-empty strings, got"),
        ({"addresses": None}, "channel.addresses: expected a non-empty list of non-empty strings, got null"),
        ({"addresses": ["a:1"], "target": "b:1"}, "channel.addresses: not allowed with channel.target"),
        ({"lb_policy": "grpclb"}, 'channel.lb_policy: expected one of pick_first, round_robin, got "grpclb"'),
        ({"lb_policy": None}, "channel.lb_policy: expected one of pick_first, round_robin, got null"),
        ({"lb_policy": ["round_robin"]}, "channel.lb_policy: expected one of pick_first, round_robin, got"),
    ],
)
def test_bad_addresses_or_lb_policy_is_a_bad_instruction(channel: dict[str, Any], message: str) -> None:
    with pytest.raises(InstructionError) as refused:
        scripted_executor.parse_channel(channel)
    assert str(refused.value).startswith(message), str(refused.value)


def test_the_addresses_are_one_ipv4_target() -> None:
    peer = client_peer("--server_unix_socket=/run/s.sock")
    spec = ChannelSpec(addresses=(*BOTH, "{unix_socket}:{other}"))
    # {host} and {port} only: any other placeholder is left as it is.
    assert spec.dialled(peer) == "ipv4:127.0.0.1:50051,127.0.0.2:50051,{unix_socket}:{other}"
    assert ChannelSpec(addresses=("{host}:{port}",)).dialled(peer) == "ipv4:127.0.0.1:50051"
    # scripted-target-ignored: the flags' --server_host:--server_port.
    assert spec.dialled(peer, target_ignored=True) is None


def test_the_lb_policy_is_the_default_service_config() -> None:
    for policy in ("pick_first", "round_robin"):
        config = f'{{"loadBalancingConfig":[{{"{policy}":{{}}}}]}}'
        assert ChannelSpec(lb_policy=policy).options() == (("grpc.service_config", config),)
        # Whatever the other options, and under scripted-client-limits-ignored too.
        limited = ChannelSpec(max_receive_message_length=5, lb_policy=policy).options(limits_ignored=True)
        assert ("grpc.service_config", config) in limited
    assert ChannelSpec(addresses=tuple(BOTH)).options() == ()


# --- the executor's channel.addresses and channel.lb_policy: against the server ---------------

LB_CASES = {
    "round_robin": calls(addresses=BOTH, lb_policy="round_robin"),
    "pick_first": calls(addresses=BOTH, lb_policy="pick_first"),
    "default_policy": calls(addresses=BOTH),  # grpcio's default: pick_first
    "round_robin_one_address": calls(addresses=["{host}:{port}"], lb_policy="round_robin"),
}


@pytest.mark.parametrize("python", release_pythons())
def test_round_robin_spreads_the_calls_and_pick_first_keeps_one_connection(python: Path, tmp_path: Path) -> None:
    with running_server(SECOND_HOST_FLAG, python=python) as server:
        observed = observe(server.port, tmp_path, LB_CASES, python=python)
    spread = peers_of(observed["round_robin"])
    assert len(set(spread)) == 2, spread  # a connection to each backend
    # Both subchannels READY by then: round_robin alternates.
    assert spread[-1] != spread[-2], spread
    for name in ("pick_first", "default_policy", "round_robin_one_address"):
        assert len(set(peers_of(observed[name]))) == 1, (name, peers_of(observed[name]))
    for name in LB_CASES:
        for call in every_call(observed[name]):
            assert IPV4_PEER.fullmatch(info(call)["peer"]), (name, call)
    port = server.port
    authority = info(observed["round_robin"])["authority"]
    assert authority == f"127.0.0.1:{port},{SECOND_HOST}:{port}", authority  # the ipv4: URI's path
    assert info(observed["round_robin_one_address"])["authority"] == f"127.0.0.1:{port}"


def test_the_transport_and_server_name_apply_to_the_addresses(tmp_path: Path) -> None:
    with running_server(SECOND_HOST_FLAG, "--use_tls=true") as server:
        observed = observe(server.port, tmp_path, {"round_robin": LB_CASES["round_robin"]}, *TLS_CLIENT_FLAGS)
    assert len(set(peers_of(observed["round_robin"]))) == 2
    assert {info(call)["authority"] for call in every_call(observed["round_robin"])} == {"foo.test.google.fr"}


def test_target_ignored_fault_ignores_the_addresses(server: RunningServer, tmp_path: Path) -> None:
    fault = f"--client_fault={SCRIPTED_TARGET_IGNORED}"
    observed = observe(server.port, tmp_path, {"round_robin": LB_CASES["round_robin"]}, fault)
    # The flags' --server_host:--server_port only: one backend, one connection (lb_policy still applies).
    assert len(set(peers_of(observed["round_robin"]))) == 1
    assert info(observed["round_robin"])["authority"] == f"127.0.0.1:{server.port}"
