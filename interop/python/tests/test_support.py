"""Health, ServerInfo, and every service in protos/ being served (checked over the wire)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import empty_pb2
from google.protobuf.descriptor import MethodDescriptor
from peers import RunningServer, running_server

from interop_peer.protos import GEN, health_pb2, health_pb2_grpc, server_info_pb2_grpc
from interop_peer.support import SERVED_SERVICES

HealthCheckResponse = health_pb2.HealthCheckResponse


@pytest.fixture
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}", options=[("grpc.enable_http_proxy", 0)]) as channel:
        yield channel


def proto_methods() -> list[MethodDescriptor]:
    """Every method of every service generated from protos/ (found by scanning gen/)."""
    methods = []
    for path in sorted(GEN.rglob("*_pb2.py")):
        module = importlib.import_module(".".join(path.relative_to(GEN).with_suffix("").parts))
        for service in module.DESCRIPTOR.services_by_name.values():
            methods.extend(service.methods)
    return methods


# Not implemented on purpose (grpc.testing): UNIMPLEMENTED, and not reported by Health.
UNIMPLEMENTED_SERVICE = "grpc.testing.UnimplementedService"
UNIMPLEMENTED_METHODS = {
    "/grpc.testing.TestService/UnimplementedCall",
    "/grpc.testing.UnimplementedService/UnimplementedCall",
}


def test_health_check(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    names = {"", *(method.containing_service.full_name for method in proto_methods())} - {UNIMPLEMENTED_SERVICE}
    assert {
        "helloworld.Greeter",
        "UserRecommend",
        "TestServer",
        "interop.ServerInfo",
        "grpc.health.v1.Health",
        "grpc.testing.TestService",
    } <= names
    for name in names:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == HealthCheckResponse.SERVING, name
    for name in ("no.Such", UNIMPLEMENTED_SERVICE):
        with pytest.raises(grpc.RpcError) as error:
            stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND, name


@pytest.mark.parametrize(("service", "status"), [("", "SERVING"), ("no.Such", "SERVICE_UNKNOWN")])
def test_health_watch_sends_once_then_holds_the_stream(channel: grpc.Channel, service: str, status: str) -> None:
    stream = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=service), timeout=0.5)
    assert HealthCheckResponse.ServingStatus.Name(next(stream).status) == status
    with pytest.raises(grpc.RpcError) as error:
        next(stream)  # nothing more: the stream stays open until the deadline
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_server_info(channel: grpc.Channel, server: RunningServer) -> None:
    reply = server_info_pb2_grpc.ServerInfoStub(channel).GetInfo(empty_pb2.Empty(), timeout=5)
    assert (reply.language, reply.implementation, reply.version) == ("python", "grpcio", grpc.__version__)
    assert reply.pid == server.process.pid


def test_every_proto_method_is_implemented_except_the_unimplemented_ones(channel: grpc.Channel) -> None:
    paths = {f"/{method.containing_service.full_name}/{method.name}" for method in proto_methods()}
    assert UNIMPLEMENTED_METHODS <= paths
    for method in proto_methods():
        path = f"/{method.containing_service.full_name}/{method.name}"
        kind = ("unary" if not method.client_streaming else "stream") + (
            "_stream" if method.server_streaming else "_unary"
        )
        # Raw bytes in and out: an empty request is the default message of any type.
        callable_ = getattr(channel, kind)(path)
        request = iter([b""]) if method.client_streaming else b""
        try:
            result = callable_(request, timeout=0.5)
            if method.server_streaming:
                list(result)
        except grpc.RpcError as error:
            assert (error.code() == grpc.StatusCode.UNIMPLEMENTED) == (path in UNIMPLEMENTED_METHODS), path
        else:
            assert path not in UNIMPLEMENTED_METHODS, path


def test_faults_health_serving_any_and_version_wrong_apply_in_every_worker() -> None:
    with running_server("--workers=2", "--fault=health-serving-any,version-wrong") as server:
        pids = set()
        for _ in range(12):
            # A local subchannel pool: each channel opens its own connection, reaching either worker.
            options = [("grpc.enable_http_proxy", 0), ("grpc.use_local_subchannel_pool", 1)]
            with grpc.insecure_channel(f"127.0.0.1:{server.port}", options=options) as channel:
                reply = server_info_pb2_grpc.ServerInfoStub(channel).GetInfo(empty_pb2.Empty(), timeout=5)
                assert (reply.language, reply.implementation, reply.version) == ("python", "grpcio", "0.0.0-fault")
                pids.add(reply.pid)
                health = health_pb2_grpc.HealthStub(channel)
                for name in ("", "helloworld.Greeter", "no.such.Service"):
                    check = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
                    assert check.status == HealthCheckResponse.SERVING, name
                watch = health.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
                assert next(watch).status == HealthCheckResponse.SERVING
                watch.cancel()
        assert len(pids) == 2


def test_fault_health_services_not_serving_spares_the_whole_server_and_unknown_names() -> None:
    """Every served service named is NOT_SERVING, in Check and Watch; "" stays SERVING (the runner's
    readiness probe) and an unknown name stays unknown."""
    with running_server("--fault=health-services-not-serving") as server:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}", options=[("grpc.enable_http_proxy", 0)]) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for name, status in (("", "SERVING"), *((served, "NOT_SERVING") for served in SERVED_SERVICES)):
                check = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
                assert HealthCheckResponse.ServingStatus.Name(check.status) == status, name
            with pytest.raises(grpc.RpcError) as error:
                health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
            assert error.value.code() == grpc.StatusCode.NOT_FOUND
            watched = (("", "SERVING"), ("helloworld.Greeter", "NOT_SERVING"), ("no.Such", "SERVICE_UNKNOWN"))
            for name, status in watched:
                watch = health.Watch(health_pb2.HealthCheckRequest(service=name), timeout=5)
                assert HealthCheckResponse.ServingStatus.Name(next(watch).status) == status, name
                watch.cancel()
