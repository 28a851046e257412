"""Support services every server exposes (SPEC §1.4): grpc.health.v1.Health and interop.ServerInfo,
with the health-serving-any, health-watch-silent, health-services-not-serving,
health-watch-no-updates and version-wrong faults wired in; the health statuses the scripted
service's script.set_health sets (HEALTH_STATUSES); and the served services' list of
docs/peer-contract.md (SERVED_SERVICES), shared by the client's discovery cases and the tests."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext

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


# script.set_health: the statuses a scripted call may set, by their names in grpc.health.v1
# (HealthCheckResponse.ServingStatus; SERVICE_UNKNOWN is Watch's word for a name it does not know).
SETTABLE_STATUSES = {
    name: HealthCheckResponse.ServingStatus.Value(name) for name in ("SERVING", "NOT_SERVING", "UNKNOWN")
}


class HealthStatuses:
    """The statuses script.set_health set in this process, by service name (a name set becomes
    known, served or not), and the Watch streams to tell when a name's status is set. Per process,
    like the scripted service's call records: a restarted server (a new grpc.Server of the same
    process) keeps them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statuses: dict[str, HealthCheckResponse.ServingStatus] = {}
        self._watchers: dict[str, set[threading.Event]] = {}

    def set(self, service: str, status: HealthCheckResponse.ServingStatus) -> None:
        """Sets service's status and tells every Watch stream of it (each looks whether it changed)."""
        with self._lock:
            self._statuses[service] = status
            for changed in self._watchers.get(service, ()):
                changed.set()

    def get(self, service: str) -> HealthCheckResponse.ServingStatus | None:
        """The status set for service; None when none was set."""
        with self._lock:
            return self._statuses.get(service)

    @contextmanager
    def watching(self, service: str, changed: threading.Event) -> Iterator[None]:
        """While the block runs, every status set for service sets `changed`."""
        with self._lock:
            self._watchers.setdefault(service, set()).add(changed)
        try:
            yield
        finally:
            with self._lock:
                watchers = self._watchers[service]
                watchers.discard(changed)
                if not watchers:
                    del self._watchers[service]


HEALTH_STATUSES = HealthStatuses()


class Health(health_pb2_grpc.HealthServicer):
    """Every served service (and "") is SERVING for the whole life of the server; any other name
    is unknown, except under health-serving-any, which calls every name SERVING. Under
    health-services-not-serving every served service named is NOT_SERVING ("" stays SERVING: the
    runner's readiness probe asks for it). A name given a status by script.set_health (`statuses`)
    answers that status, whatever the faults. Watch sends the status, then each new one (not one
    equal to what the stream sent last), and holds the stream until the call ends; under
    health-watch-no-updates it sends the first only, under health-watch-silent nothing at all."""

    def __init__(self, served: Iterable[str], faults: Faults, statuses: HealthStatuses = HEALTH_STATUSES) -> None:
        self._served = frozenset(served)
        self._statuses = statuses
        self._serving_any = Fault.HEALTH_SERVING_ANY in faults
        self._silent = Fault.HEALTH_WATCH_SILENT in faults
        self._updates = not self._silent and Fault.HEALTH_WATCH_NO_UPDATES not in faults
        named = Fault.HEALTH_SERVICES_NOT_SERVING in faults
        self._named_status = HealthCheckResponse.NOT_SERVING if named else HealthCheckResponse.SERVING

    def _status(self, service: str) -> HealthCheckResponse.ServingStatus | None:
        """The status of `service`, None for an unknown one."""
        status = self._statuses.get(service)
        if status is not None:
            return status
        if service == "":
            return HealthCheckResponse.SERVING
        if service in self._served:
            return self._named_status
        return HealthCheckResponse.SERVING if self._serving_any else None

    def _watched_status(self, service: str) -> HealthCheckResponse.ServingStatus:
        status = self._status(service)
        return HealthCheckResponse.SERVICE_UNKNOWN if status is None else status

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
        # The stream is held open until the call ends (client cancel, deadline, or the server's
        # shutdown cancelling it), which sets both events.
        service = request.service
        ended = threading.Event()
        changed = threading.Event()  # the call ended, or (with updates) a status of service was set

        def end() -> None:
            ended.set()
            changed.set()

        if not context.add_callback(end):
            return
        # Told before the first status is read, so that no status set from then on is missed.
        with self._statuses.watching(service, changed) if self._updates else nullcontext():
            sent = None
            if not self._silent:
                sent = self._watched_status(service)
                yield HealthCheckResponse(status=sent)
            while True:
                changed.wait()
                changed.clear()  # before looking: an end or a set from now on sets it again
                if ended.is_set():
                    return
                status = self._watched_status(service)
                if status != sent:
                    sent = status
                    yield HealthCheckResponse(status=status)


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
