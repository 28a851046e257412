"""The discovery suite and server reflection: the cases against our server, on every grpcio release
built here (server and client of the same release), each discovery fault breaking its cases there,
and what the reflection service itself answers (checked with grpcio-reflection's v1alpha stub).

No grpcio-reflection built here (1.62.3, 1.70.0, 1.85.1) has grpc.reflection.v1: the server serves
v1alpha only, and the client's v1 cases fail saying so (REFLECTION_V1_CASES). Their checks are run
here through v1alpha instead, to show they pass, catch reflection-incomplete, and (the end of
reflection_file_containing_symbol) catch a reflection service that describes an unknown symbol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2
from google.protobuf.descriptor import FileDescriptor
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from peers import (
    CLIENT_TRANSPORT_FLAGS,
    DISCOVERY_CASES,
    REFLECTION_V1_CASES,
    RunningServer,
    release_pythons,
    run_client,
    running_server,
)
from test_faults import BREAKS
from test_interop import assert_well_formed

from interop_peer import client_main  # noqa: F401, I001  (registers every suite's cases in the client's order)
from interop_peer import discovery_cases
from interop_peer.cases import Peer
from interop_peer.checks import CaseFailure
from interop_peer.faults import Fault
from interop_peer.protos import helloworld_pb2, server_info_pb2_grpc
from interop_peer.support import SERVED_SERVICES

V1ALPHA_SERVICE = "grpc.reflection.v1alpha.ServerReflection"
V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
# What list_services answers, on every release: the names the server gives grpcio-reflection, sorted.
LISTED = sorted([*SERVED_SERVICES, V1ALPHA_SERVICE])
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
DISCOVERY_FAULTS = (
    Fault.REFLECTION_INCOMPLETE,
    Fault.HEALTH_WATCH_SILENT,
    Fault.HEALTH_SERVICES_NOT_SERVING,
    Fault.HEALTH_WATCH_NO_UPDATES,
)
# The discovery faults' cases, with the seeds case the health faults break too.
FAULT_CASES = (*DISCOVERY_CASES, "health_unknown_service")
Request = reflection_pb2.ServerReflectionRequest


def assert_v1_cases_only_fail(run_records: list[dict[str, object]], cases: tuple[str, ...]) -> None:
    """Every case passed except the v1 ones, which failed naming the missing module."""
    assert_well_formed(run_records, cases)
    failed = {str(record["case"]): str(record["error"]) for record in run_records if record["status"] == "failed"}
    assert set(failed) == set(REFLECTION_V1_CASES) & set(cases)
    for case, reason in failed.items():
        assert reason.startswith(REFLECTION_V1_CASES[case]) and "has no v1 module" in reason, reason


def test_discovery_cases_pass(transport: tuple[str, RunningServer]) -> None:
    """Insecure (one process), TLS and mTLS (four workers each)."""
    name, server = transport
    run = run_client(server.port, DISCOVERY_CASES, *CLIENT_TRANSPORT_FLAGS[name])
    assert_v1_cases_only_fail(run.records, DISCOVERY_CASES)
    assert run.returncode == 1


@pytest.mark.parametrize("python", release_pythons())
def test_discovery_cases_on_every_release(python: Path) -> None:
    with running_server(python=python) as server:
        run = run_client(server.port, DISCOVERY_CASES, python=python)
    assert_v1_cases_only_fail(run.records, DISCOVERY_CASES)
    assert run.returncode == 1


@pytest.mark.parametrize("fault", DISCOVERY_FAULTS, ids=str)
@pytest.mark.parametrize("python", release_pythons())
def test_discovery_fault_breaks_its_cases_on_every_release(python: Path, fault: Fault) -> None:
    with running_server(f"--fault={fault}", python=python) as server:
        run = run_client(server.port, FAULT_CASES, "--rpc_timeout_ms=1000", python=python)
    failed = {str(record["case"]): str(record["error"]) for record in run.records if record["status"] == "failed"}
    assert set(failed) == BREAKS[fault] | set(REFLECTION_V1_CASES), run.stderr
    if fault is Fault.REFLECTION_INCOMPLETE:
        assert 'missing ["interop.scripted.Scripted"]' in failed["reflection_list_v1alpha"]
    elif fault is Fault.HEALTH_WATCH_SILENT:
        for case in ("health_watch_serving", "health_unknown_service", "health_watch_updates"):
            assert ", waiting for the first message: expected status OK, got status DEADLINE_EXCEEDED" in failed[case]
    elif fault is Fault.HEALTH_WATCH_NO_UPDATES:
        # The first message came; the one set_health SERVING should have sent never did.
        expected = ", waiting for the message after set_health SERVING: expected status OK, got status DEADLINE_"
        assert failed["health_watch_updates"].startswith('Health/Watch("interop.watched.'), failed
        assert expected in failed["health_watch_updates"], failed
    else:
        # "" passes (the first check): the first served service named is the one that fails.
        for case in ("health_check_every_service", "health_unknown_service"):
            expected = 'Health/Check("helloworld.Greeter"): expected status "SERVING", got "NOT_SERVING"'
            assert expected in failed[case], failed[case]


# --- the reflection service itself, on every release -------------------------------------------


@pytest.fixture(params=release_pythons())
def release_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with running_server(python=request.param) as server:
        yield server


def reflect(port: int, *requests: Request) -> list[reflection_pb2.ServerReflectionResponse]:
    """The responses to `requests`, sent on one v1alpha stream that then half-closes."""
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)]) as channel:
        return list(reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(iter(requests), timeout=5))


def listed(response: reflection_pb2.ServerReflectionResponse) -> list[str]:
    return [service.name for service in response.list_services_response.service]


def files(response: reflection_pb2.ServerReflectionResponse) -> list[descriptor_pb2.FileDescriptorProto]:
    assert response.WhichOneof("message_response") == "file_descriptor_response", response
    serialized = response.file_descriptor_response.file_descriptor_proto
    return [descriptor_pb2.FileDescriptorProto.FromString(data) for data in serialized]


def declares(file: descriptor_pb2.FileDescriptorProto, symbol: str) -> bool:
    """Whether file declares the top-level service or message `symbol` (a full name)."""
    package, _, name = symbol.rpartition(".")
    names = [item.name for item in (*file.service, *file.message_type)]
    return file.package == package and name in names


def test_list_services_names_the_served_services_and_v1alpha_only(release_server: RunningServer) -> None:
    (response,) = reflect(release_server.port, Request(list_services=""))
    assert listed(response) == LISTED


def test_v1_is_not_served(release_server: RunningServer) -> None:
    """grpcio-reflection registers grpc.reflection.v1alpha.ServerReflection only."""
    with grpc.insecure_channel(f"127.0.0.1:{release_server.port}", options=[("grpc.enable_http_proxy", 0)]) as channel:
        # v1's messages are v1alpha's on the wire: list_services (field 7) = "".
        call = channel.stream_stream(V1_METHOD)(iter([Request(list_services="").SerializeToString()]), timeout=5)
        with pytest.raises(grpc.RpcError) as error:
            list(call)
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_every_served_service_is_described_with_every_file_it_imports(release_server: RunningServer) -> None:
    symbols = [*SERVED_SERVICES, "helloworld.HelloRequest"]
    responses = reflect(release_server.port, *(Request(file_containing_symbol=symbol) for symbol in symbols))
    assert len(responses) == len(symbols)
    for symbol, response in zip(symbols, responses, strict=True):
        described = files(response)
        assert declares(described[0], symbol), (symbol, described[0].name)
        names = {file.name for file in described}
        assert {dependency for file in described for dependency in file.dependency} <= names, symbol
    scripted = files(responses[SERVED_SERVICES.index("interop.scripted.Scripted")])
    assert [file.name for file in scripted] == ["interop/scripted.proto", "google/protobuf/any.proto"]


def test_unknown_symbol_is_not_found_and_the_stream_goes_on(release_server: RunningServer) -> None:
    unknown, after = reflect(
        release_server.port, Request(file_containing_symbol="no.such.Service"), Request(list_services="")
    )
    assert unknown.error_response.error_code == NOT_FOUND
    assert listed(after) == LISTED


@pytest.mark.parametrize("python", release_pythons())
def test_reflection_incomplete_hides_the_scripted_package_only(python: Path) -> None:
    hidden = ("interop.scripted.Scripted", "interop.scripted.ScriptedRequest", "interop.scripted.Scripted.Unary")
    shown = ("helloworld.HelloRequest", "helloworld.Greeter", "grpc.health.v1.Health")
    requests = [Request(list_services="")] + [Request(file_containing_symbol=symbol) for symbol in (*hidden, *shown)]
    with running_server(f"--fault={Fault.REFLECTION_INCOMPLETE}", python=python) as server:
        responses = reflect(server.port, *requests)
    assert listed(responses[0]) == [name for name in LISTED if name != "interop.scripted.Scripted"]
    for symbol, response in zip(hidden, responses[1 : 1 + len(hidden)], strict=True):
        assert response.error_response.error_code == NOT_FOUND, symbol
    for symbol, response in zip(shown, responses[1 + len(hidden) :], strict=True):
        assert declares(files(response)[0], symbol), symbol


def test_every_worker_serves_reflection() -> None:
    with running_server("--workers=2") as server:
        pids = set()
        for _ in range(12):
            # A local subchannel pool: each channel opens its own connection, reaching either worker.
            options = [("grpc.enable_http_proxy", 0), ("grpc.use_local_subchannel_pool", 1)]
            with grpc.insecure_channel(f"127.0.0.1:{server.port}", options=options) as channel:
                pids.add(server_info_pb2_grpc.ServerInfoStub(channel).GetInfo(empty_pb2.Empty(), timeout=5).pid)
                stub = reflection_pb2_grpc.ServerReflectionStub(channel)
                (response,) = stub.ServerReflectionInfo(iter([Request(list_services="")]), timeout=5)
                assert listed(response) == LISTED
        assert len(pids) == 2


# --- the v1 cases' checks, run through v1alpha -------------------------------------------------

Checks = Callable[[Peer, discovery_cases.ReflectionApi], None]
CHECKS: tuple[Checks, ...] = (
    discovery_cases.list_services_checks,
    discovery_cases.file_containing_symbol_checks,
)


@pytest.mark.parametrize("checks", CHECKS, ids=lambda checks: checks.__name__)
def test_the_v1_checks_pass_through_v1alpha(server: RunningServer, checks: Checks) -> None:
    checks(Peer("127.0.0.1", server.port, 5.0), discovery_cases.V1ALPHA)


def test_the_v1_checks_catch_reflection_incomplete_through_v1alpha() -> None:
    with running_server(f"--fault={Fault.REFLECTION_INCOMPLETE}") as server:
        peer = Peer("127.0.0.1", server.port, 5.0)
        api = discovery_cases.V1ALPHA
        with pytest.raises(CaseFailure, match=r'missing \["interop.scripted.Scripted"\]'):
            discovery_cases.list_services_checks(peer, api)
        expected = (
            f'{V1ALPHA_SERVICE}/ServerReflectionInfo: file_containing_symbol="interop.scripted.Scripted": '
            "expected a response with file_descriptor_response, got {"
        )
        with pytest.raises(CaseFailure) as failure:
            discovery_cases.file_containing_symbol_checks(peer, api)
        assert str(failure.value).startswith(expected) and "error_code: 5" in str(failure.value)


class PoolFindingEverything:
    """protobuf's default pool, except that a symbol no file declares is "found" in helloworld's file."""

    def FindFileContainingSymbol(self, symbol: str) -> FileDescriptor:  # noqa: N802 (the pool's API)
        try:
            return descriptor_pool.Default().FindFileContainingSymbol(symbol)
        except KeyError:
            return helloworld_pb2.DESCRIPTOR

    def __getattr__(self, name: str) -> object:
        return getattr(descriptor_pool.Default(), name)


def test_the_file_containing_symbol_checks_end_with_an_unknown_symbol_through_v1alpha() -> None:
    """The end of reflection_file_containing_symbol: no.such.Service must be NOT_FOUND. Against a
    reflection service (grpcio-reflection's, in this process) that describes it, the check fails there."""
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    reflection.enable_server_reflection(SERVED_SERVICES, server, pool=PoolFindingEverything())
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        expected = (
            f'{V1ALPHA_SERVICE}/ServerReflectionInfo: file_containing_symbol="no.such.Service": '
            "expected a response with error_response, got {"
        )
        with pytest.raises(CaseFailure) as failure:
            discovery_cases.file_containing_symbol_checks(Peer("127.0.0.1", port, 5.0), discovery_cases.V1ALPHA)
        assert str(failure.value).startswith(expected) and "file_descriptor_response" in str(failure.value)
    finally:
        server.stop(None)
