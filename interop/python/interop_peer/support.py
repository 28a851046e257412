"""Support services every server exposes (SPEC §1.4): grpc.health.v1.Health and interop.ServerInfo,
with the health-serving-any and version-wrong faults wired in."""

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


class Health(health_pb2_grpc.HealthServicer):
    """Every served service (and "") is SERVING for the whole life of the server; any other name
    is unknown, except under health-serving-any, which calls every name SERVING."""

    def __init__(self, served: Iterable[str], faults: Faults) -> None:
        self._served = frozenset(["", *served])
        self._serving_any = Fault.HEALTH_SERVING_ANY in faults

    def _known(self, service: str) -> bool:
        return self._serving_any or service in self._served

    def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        if not self._known(request.service):
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    def Watch(
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> Iterator[health_pb2.HealthCheckResponse]:
        known = self._known(request.service)
        yield health_pb2.HealthCheckResponse(
            status=health_pb2.HealthCheckResponse.SERVING if known else health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
        )
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


def add_support_services(server: grpc.Server, served: Iterable[str], faults: Faults) -> None:
    """Registers ServerInfo and Health; Health reports `served`, ServerInfo and itself as SERVING."""
    info = register(server, server_info_pb2, server_info_pb2_grpc, "ServerInfo", ServerInfo(faults))
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    register(server, health_pb2, health_pb2_grpc, "Health", Health([*served, info, health_name], faults))
