"""Support services every server exposes (SPEC §1.4): grpc.health.v1.Health and interop.ServerInfo,
with the health-serving-any, health-watch-silent, health-services-not-serving and version-wrong
faults wired in; and the served
services' list of docs/peer-contract.md (SERVED_SERVICES), shared by the client's discovery cases
and the tests."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator

import grpc
from google.protobuf import empty_pb2

from .faults import Fault, Faults
from .protos import health_pb2, health_pb2_grpc, server_info_pb2, server_info_pb2_grpc
from .services import register

FAULT_VERSION = "0.0.0-fault"  # what ServerInfo reports under version-wrong
HealthCheckResponse = health_pb2.HealthCheckResponse

# docs/peer-contract.md, "Server": the served services, in the contract's order. Health calls each
# of them SERVING and reflection describes each; the server derives its own list from what it
# registers (serving.py), which the tests compare with this one.
SERVED_SERVICES = (
    "helloworld.Greeter",
    "helloworld.StreamingGreeter",
    "rpc_package.HelloWorldService",
    "compute.Compute",
    "UserRecommend",
    "TestServer",
    "panda.Panda",
    "grpc.testing.TestService",
    "grpc.health.v1.Health",
    "interop.ServerInfo",
    "interop.scripted.Scripted",
)


class Health(health_pb2_grpc.HealthServicer):
    """Every served service (and "") is SERVING for the whole life of the server; any other name
    is unknown, except under health-serving-any, which calls every name SERVING. Under
    health-services-not-serving every served service named is NOT_SERVING ("" stays SERVING: the
    runner's readiness probe asks for it). Watch sends the status once, then holds the stream;
    under health-watch-silent it sends nothing at all."""

    def __init__(self, served: Iterable[str], faults: Faults) -> None:
        self._served = frozenset(served)
        self._serving_any = Fault.HEALTH_SERVING_ANY in faults
        self._silent = Fault.HEALTH_WATCH_SILENT in faults
        named = Fault.HEALTH_SERVICES_NOT_SERVING in faults
        self._named_status = HealthCheckResponse.NOT_SERVING if named else HealthCheckResponse.SERVING

    def _status(self, service: str) -> HealthCheckResponse.ServingStatus | None:
        """The status of `service`, None for an unknown one."""
        if service == "":
            return HealthCheckResponse.SERVING
        if service in self._served:
            return self._named_status
        return HealthCheckResponse.SERVING if self._serving_any else None

    def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        status = self._status(request.service)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return HealthCheckResponse(status=status)

    def Watch(
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> Iterator[health_pb2.HealthCheckResponse]:
        if not self._silent:
            status = self._status(request.service)
            yield HealthCheckResponse(status=HealthCheckResponse.SERVICE_UNKNOWN if status is None else status)
        # The status never changes: hold the stream open until the call ends (client cancel,
        # deadline, or the server's shutdown cancelling it).
        ended = threading.Event()
        if context.add_callback(ended.set):
            ended.wait()


class ServerInfo(server_info_pb2_grpc.ServerInfoServicer):
    def __init__(self, faults: Faults) -> None:
        self._version = FAULT_VERSION if Fault.VERSION_WRONG in faults else grpc.__version__

    def GetInfo(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> server_info_pb2.ServerInfoReply:
        return server_info_pb2.ServerInfoReply(
            language="python", implementation="grpcio", version=self._version, pid=os.getpid()
        )


def add_support_services(server: grpc.Server, served: Iterable[str], faults: Faults) -> list[str]:
    """Registers ServerInfo and Health; Health reports `served`, ServerInfo and itself as SERVING.
    Returns those names: every service the server serves (reflection aside)."""
    info = register(server, server_info_pb2, server_info_pb2_grpc, "ServerInfo", ServerInfo(faults))
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    every = [*served, health_name, info]
    register(server, health_pb2, health_pb2_grpc, "Health", Health(every, faults))
    return every
