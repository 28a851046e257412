"""The `discovery` suite's cases (docs/peer-contract.md): server reflection and health checking,
with the contract's checks. They register in cases.CASES after the other suites' cases, in the
contract's order. Every RPC has the peer's deadline (a stream's deadline covers the whole stream).

The reflection messages are grpcio-reflection's own (grpc_reflection.v1alpha.reflection_pb2 and
_pb2_grpc); a file_descriptor_proto is decoded with protobuf's descriptor_pb2.FileDescriptorProto.
grpcio-reflection has no v1 module in any release pinned here (1.62.3, 1.70.0, 1.85.1:
grpc_reflection.v1alpha only; grpc/grpc#38576), so the v1 cases (reflection_list_v1,
reflection_file_containing_symbol) fail saying so, without a call (NO_V1). Their checks are
written for either version (ReflectionApi) and would run on a grpcio-reflection that ships
grpc_reflection.v1; the tests run them through v1alpha.

health_watch_updates changes a health status through the scripted service
(interop.scripted.Scripted/Unary with script.set_health), on the channel of its Watch stream, so
that with --workers both calls reach the same server process (statuses are per process).
"""

from __future__ import annotations

import queue
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from types import ModuleType
from typing import Any

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha_pb2
from grpc_reflection.v1alpha import reflection_pb2_grpc as v1alpha_pb2_grpc

from .cases import (
    Peer,
    case,
    expect_check_serving,
    expect_check_status,
    expect_first_watch_status,
    expect_watch_message,
)
from .checks import CaseFailure, call_label, expect_equal, show, succeeds
from .protos import health_pb2, health_pb2_grpc, scripted_pb2, scripted_pb2_grpc
from .support import SERVED_SERVICES

FileDescriptorProto = descriptor_pb2.FileDescriptorProto


@dataclass(frozen=True)
class ReflectionApi:
    """One version of the reflection service, by grpcio-reflection's generated modules."""

    pb2: ModuleType  # reflection_pb2: the messages
    pb2_grpc: ModuleType  # reflection_pb2_grpc: ServerReflectionStub

    @property
    def service(self) -> str:
        return str(self.pb2.DESCRIPTOR.services_by_name["ServerReflection"].full_name)


V1ALPHA = ReflectionApi(v1alpha_pb2, v1alpha_pb2_grpc)


def _v1_api() -> ReflectionApi | None:
    """grpcio-reflection's v1 modules, where the release has them (none pinned here does)."""
    try:
        from grpc_reflection.v1 import reflection_pb2, reflection_pb2_grpc  # type: ignore[import-not-found]
    except ImportError:
        return None
    return ReflectionApi(reflection_pb2, reflection_pb2_grpc)


V1 = _v1_api()
NO_V1 = (
    "the grpcio (Python) client cannot call grpc.reflection.v1.ServerReflection: grpcio-reflection "
    f"{metadata.version('grpcio-reflection')} has no v1 module (only grpc_reflection.v1alpha; grpc/grpc#38576)"
)


def v1() -> ReflectionApi:
    """The v1 API, or the case fails (NO_V1) before any call."""
    if V1 is None:
        raise CaseFailure(NO_V1)
    return V1


def _request_text(request: Any) -> str:
    """`file_containing_symbol="helloworld.HelloRequest"`: the request's one field that is set."""
    field = request.WhichOneof("message_request")
    return f"{field}={show(getattr(request, field))}"


class ReflectionStream:
    """One ServerReflectionInfo stream (bidi): ask() sends a request and reads its response, end()
    half-closes and expects the stream to end OK. Failures name the service and the request."""

    def __init__(self, channel: grpc.Channel, api: ReflectionApi, timeout: float) -> None:
        self._api = api
        self._outbox: queue.Queue[Any] = queue.Queue()  # None half-closes
        stub = api.pb2_grpc.ServerReflectionStub(channel)
        self._responses = stub.ServerReflectionInfo(iter(self._outbox.get, None), timeout=timeout)

    def label(self, what: str) -> str:
        return f"{self._api.service}/ServerReflectionInfo: {what}"

    def ask(self, **fields: str) -> tuple[str, Any]:
        """Sends ServerReflectionRequest(**fields); returns (label for failure messages, its response)."""
        request = self._api.pb2.ServerReflectionRequest(**fields)
        label = self.label(_request_text(request))
        self._outbox.put(request)
        response = succeeds(label, partial(next, self._responses, None))
        if response is None:
            raise CaseFailure(f"{label}: expected a response, got the end of the stream")
        return label, response

    def end(self) -> None:
        label = self.label("after half-close")
        self._outbox.put(None)
        extra = succeeds(label, partial(next, self._responses, None))
        if extra is not None:
            raise CaseFailure(f"{label}: expected the stream to end OK, got another response {show(extra)}")

    def close(self) -> None:
        self._outbox.put(None)
        self._responses.cancel()


@contextmanager
def reflection_stream(peer: Peer, api: ReflectionApi) -> Iterator[ReflectionStream]:
    with peer.channel() as channel:
        stream = ReflectionStream(channel, api, peer.timeout)
        try:
            yield stream
        finally:
            stream.close()


def expect_response(label: str, response: Any, kind: str) -> Any:
    """The response's `kind` member (list_services_response, file_descriptor_response, …), which
    must be the one it carries."""
    if response.WhichOneof("message_response") != kind:
        raise CaseFailure(f"{label}: expected a response with {kind}, got {show(response)}")
    return getattr(response, kind)


def expect_served_listed(label: str, response: Any) -> None:
    """A list_services_response naming every served service (others may be listed too)."""
    listed = [service.name for service in expect_response(label, response, "list_services_response").service]
    missing = [name for name in SERVED_SERVICES if name not in listed]
    if missing:
        raise CaseFailure(
            f"{label}: expected every served service listed, missing {show(missing)}; listed {show(listed)}"
        )


def expect_files(label: str, response: Any) -> list[FileDescriptorProto]:
    """The file_descriptor_response's files, decoded."""
    files = []
    serialized_files = expect_response(label, response, "file_descriptor_response").file_descriptor_proto
    for index, serialized in enumerate(serialized_files):
        try:
            files.append(FileDescriptorProto.FromString(serialized))
        except DecodeError as err:
            raise CaseFailure(f"{label}: file_descriptor_proto[{index}] is not a FileDescriptorProto ({err})") from None
    return files


def declared(label: str, files: list[FileDescriptorProto], package: str, kind: str, name: str) -> Any:
    """The `kind` ("service" or "message_type") named `name` of a file of `package` among files."""
    for file in files:
        if file.package == package:
            for item in getattr(file, kind):
                if item.name == name:
                    return item
    word = "service" if kind == "service" else "message"
    got = [f"{file.name} (package {file.package})" for file in files]
    raise CaseFailure(f"{label}: expected a file of package {package} declaring {word} {name}, got files {show(got)}")


# protos/interop/scripted.proto: each method of interop.scripted.Scripted, (client_streaming, server_streaming).
SCRIPTED_METHODS = {
    "Unary": [False, False],
    "ServerStream": [False, True],
    "ClientStream": [True, False],
    "BidiStream": [True, True],
}


def list_services_checks(peer: Peer, api: ReflectionApi) -> None:
    with reflection_stream(peer, api) as stream:
        expect_served_listed(*stream.ask(list_services=""))
        stream.end()


def file_containing_symbol_checks(peer: Peer, api: ReflectionApi) -> None:
    with reflection_stream(peer, api) as stream:
        label, response = stream.ask(file_containing_symbol="interop.scripted.Scripted")
        scripted = declared(label, expect_files(label, response), "interop.scripted", "service", "Scripted")
        methods = {method.name: [method.client_streaming, method.server_streaming] for method in scripted.method}
        expect_equal(label, SCRIPTED_METHODS, methods, what="methods of Scripted, [client_streaming, server_streaming]")
        label, response = stream.ask(file_containing_symbol="helloworld.HelloRequest")
        declared(label, expect_files(label, response), "helloworld", "message_type", "HelloRequest")
        # An unknown symbol is NOT_FOUND in an error_response, and does not end the stream.
        label, response = stream.ask(file_containing_symbol="no.such.Service")
        error = expect_response(label, response, "error_response")
        not_found = grpc.StatusCode.NOT_FOUND.value[0]
        expect_equal(label, not_found, error.error_code, what="error_response.error_code")
        label, response = stream.ask(list_services="")
        expect_response(label, response, "list_services_response")
        stream.end()


@case
def reflection_list_v1(peer: Peer) -> None:
    list_services_checks(peer, v1())


@case
def reflection_list_v1alpha(peer: Peer) -> None:
    list_services_checks(peer, V1ALPHA)


@case
def reflection_file_containing_symbol(peer: Peer) -> None:
    file_containing_symbol_checks(peer, v1())


@case
def health_watch_serving(peer: Peer) -> None:
    with peer.channel() as channel:
        expect_first_watch_status(health_pb2_grpc.HealthStub(channel), "", "SERVING", peer.timeout)


# health_watch_updates: the name it watches, this prefix and 16 random hex digits (a name no
# earlier run set: statuses set by script.set_health last as long as the server process).
WATCHED_PREFIX = "interop.watched."


def set_health(scripted: scripted_pb2_grpc.ScriptedStub, service: str, status: str, timeout: float) -> None:
    """Scripted/Unary with the script {set_health:[{service, status}]}, which must end OK."""
    change = scripted_pb2.HealthChange(service=service, status=status)
    request = scripted_pb2.ScriptedRequest(script=scripted_pb2.Script(set_health=[change]))
    succeeds(f"Scripted/Unary(set_health {show(change)})", partial(scripted.Unary, request, timeout=timeout))


@case
def health_watch_updates(peer: Peer) -> None:
    service = WATCHED_PREFIX + secrets.token_hex(8)
    request = health_pb2.HealthCheckRequest(service=service)
    label = call_label("Health/Watch", request)
    with peer.channel() as channel:
        health = health_pb2_grpc.HealthStub(channel)
        scripted = scripted_pb2_grpc.ScriptedStub(channel)
        # The stream's deadline is the case's: each wait for a message ends there at the latest.
        watch = health.Watch(request, timeout=peer.timeout)
        try:
            expect_watch_message(label, watch, "SERVICE_UNKNOWN", "the first message")
            for status in ("SERVING", "NOT_SERVING"):
                set_health(scripted, service, status, peer.timeout)
                expect_watch_message(label, watch, status, f"the message after set_health {status}")
            expect_check_status(peer.rpc("Health/Check", health.Check), service, "NOT_SERVING")
        finally:
            watch.cancel()


@case
def health_check_every_service(peer: Peer) -> None:
    with peer.channel() as channel:
        check = peer.rpc("Health/Check", health_pb2_grpc.HealthStub(channel).Check)
        for service in ("", *SERVED_SERVICES):
            expect_check_serving(check, service)
