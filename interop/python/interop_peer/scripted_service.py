"""interop.scripted.Scripted (protos/interop/scripted.proto): one generic handler for the four
methods, answering as the first request's script says (docs/peer-contract.md, "The scripted
service and the data suites", steps 1-8), with the `scripted-*` self-test faults wired in.

RequestInfo goes in the `request_info` of the last response when the call ends OK and sends at
least one response (the handler knows that response in advance: the unary/client-streaming one,
or the last reply left after scripted-replies-drop-last); otherwise in the trailer
x-scripted-request-info-bin. (A large RequestInfo in a trailer exceeds grpc-js's header limit.)

The requests go into RequestInfo.requests as grpcio decoded them and each reply's `values` is
the script's as decoded: both copied as messages (extend, CopyFrom), so the unknown fields protobuf
kept travel with them (scripted-unknown-dropped discards them before sending).

grpcio specifics, each a choice the contract leaves to the library:
- Rich error details go through grpcio-status: `rpc_status.to_status(google.rpc.Status)` makes
  the `grpc-status-details-bin` trailer, and `context.abort_with_status` ends the call. Because
  abort_with_status *replaces* the trailing metadata with the grpc.Status's own, the status
  passed to it carries the scripted trailers and the RequestInfo trailer followed by the
  details trailer that to_status made.
- `details_code` different from `code`: grpcio can send it. A `grpc-status-details-bin` entry in
  the trailing metadata is sent as is (gRPC core does not treat the key as reserved), so the
  trailer is the one to_status made from `Status{code: details_code}` and the call ends with the
  scripted code. (grpcio-status's own from_call then refuses the mismatch on the client.)
- A metadata value grpcio refuses is not refused by a Python exception: gRPC core validates the
  batch (src/core/lib/surface/validate_metadata.cc) and fails the whole call with INTERNAL
  "Invalid metadata", after the handler has moved on. To end the call as the contract says
  (INTERNAL, `scripted: cannot send metadata KEY: …`, before anything is sent), every scripted
  header and trailer is checked first with core's own rules and its error texts.
- A status code outside 0-16 cannot be given to grpcio's server API (grpc.StatusCode only); grpcio
  sends an unknown code as UNKNOWN (_server.py `_application_code`), and so does this handler.
- RequestInfo.authority: grpcio has no public API for the call's :authority. gRPC core gives it
  to grpcio with the call (grpc_call_details.host, which core fills from :authority), and grpcio
  keeps it in the private `context._rpc_event.call_details.host` (bytes) of grpcio 1.62 to 1.85
  alike: `call_authority` reads it there, decoded as UTF-8 (an undecodable byte as U+FFFD, which
  protobuf's string field requires). RequestInfo.peer is `context.peer()`, grpcio's public API,
  whose text is core's URI of the client's address: `ipv4:127.0.0.1:PORT`,
  `ipv6:%5B::1%5D:PORT` (brackets percent-encoded), `unix:` for a client on a Unix domain socket
  (whose end has no name).
- `script.response_compression` goes through `context.set_compression`, as soon as the script is
  read: grpcio announces the call's algorithm in the response headers (_server.py
  `_get_initial_metadata`), which send_headers_first may send before any reply. grpc.Compression has
  identity (NoCompression), deflate and gzip; any other name ends the call before anything is sent
  with UNIMPLEMENTED `scripted: cannot compress responses with NAME: …`.
- Cancellation: grpcio runs the callbacks of `context.add_callback` when the call ends, and a call
  cancelled (by the client, its deadline, a lost connection) ends as soon as nothing of the handler's
  is under way in gRPC core (_server.py `_possibly_finish_call`); `context.is_active()` is false from
  the moment grpcio learns of it. Every wait is a threading.Event's, set by that callback; the handler
  asks both before each reply. A read on a cancelled call raises grpc.RpcError (the request iterator).
  A send is grpcio's own: the server-streaming methods hand their replies over as a generator, and
  grpcio stops taking them once a send finds the call cancelled, closing the generator (GeneratorExit
  at its `yield`, _server.py `_send_message_callback_to_blocking_iterator_adapter`): the handler
  takes that as its failed send.
- scripted-cancel-ignored: the waits run to their end, the checks are gone, and a failed read counts
  as the half-close. grpcio's generator form cannot hand a reply over once grpcio stopped taking
  them, so the server-streaming methods use grpcio's other form, a behaviour marked
  `experimental_non_blocking` that gets grpcio's send callback (_server.py
  `_stream_response_in_pool`, in grpcio 1.62.3 to 1.85.1 alike): every reply goes to that callback,
  which drops what it cannot send without telling. The waits still end when the server process
  stops (STOPPING): Python joins the handler threads at exit, and a sleeping handler would hold the
  process past its 1 s of grace.
- RequestInfo.active_calls counts the handlers running in this process (ACTIVE_CALLS), and the call
  records (script.call_id, script.report_call) are a table of this process (CALL_RECORDS); with
  --workers each worker has its own. Both outlive a restart's server (below).
- script.set_health sets the statuses of this process's health service (support.HEALTH_STATUSES,
  which tells its Watch streams), entry by entry, at the end of step 2; an entry whose status is
  not SERVING, NOT_SERVING or UNKNOWN ends the call there with INVALID_ARGUMENT (the entries before
  it stay set), RequestInfo in the trailer as for refused metadata. Like the call records, the
  statuses are the process's and outlive a restart's server.
- script.restart_server_after_ms: the handler asks the server's Restart (given at construction by
  serving.py, which knows how to make and bind a server) and goes on with its script; the restart
  stops the server in another thread (`server.stop(grace=30)`, or `server.stop(None)` under
  scripted-shutdown-abrupt), waits, and serves the same addresses with a new grpc.Server.
  server.stop(None) cancels the calls from that other thread, so a call with nothing left to wait
  for could end before it: under scripted-shutdown-abrupt the handler first waits for the stop to
  complete, which grpcio reports only once every call of the server has ended (_server.py
  `_stop_serving`: no rpc_states left), after running each one's add_callback callbacks, this
  call's cancellation included; its next check then finds the call cancelled. The graceful stop's
  completion waits for this call, so there the handler does not wait.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2  # noqa: F401  (registers the google.rpc types for Any)
from grpc_status import rpc_status

from .faults import Fault, Faults
from .protos import scripted_pb2
from .scripted_values import faulty_values
from .support import HEALTH_STATUSES, SETTABLE_STATUSES

SERVICE = scripted_pb2.DESCRIPTOR.services_by_name["Scripted"].full_name
REQUEST_INFO_KEY = "x-scripted-request-info-bin"
DETAILS_KEY = "grpc-status-details-bin"
# Request metadata RequestInfo leaves out (besides every grpc-* key).
HIDDEN_REQUEST_KEYS = frozenset({":authority", "user-agent", "te", "content-type"})
# scripted-peer-ipv4: the peer RequestInfo reports whoever the client is.
FAULTY_PEER = "ipv4:127.0.0.1:1"
# grpcio's time_remaining() without a deadline is gRPC core's infinite future (about 9.2e18 s).
NO_DEADLINE_SECONDS = 1e12
# script.response_compression: the algorithms grpc.Compression has, by their gRPC names.
RESPONSE_COMPRESSION = {
    "identity": grpc.Compression.NoCompression,
    "deflate": grpc.Compression.Deflate,
    "gzip": grpc.Compression.Gzip,
}

# script.report_call: how long the handler waits for the call it names to end, and how often it
# looks at its own call's cancellation meanwhile.
REPORT_WAIT_SECONDS = 5.0
REPORT_POLL_SECONDS = 0.02
# CallRecord.ended.
RUNNING, COMPLETED, CANCELLED, UNKNOWN = "running", "completed", "cancelled", "unknown"

Metadata = list[tuple[str, Any]]  # (key, str) or (key, bytes) for a -bin key

# script.restart_server_after_ms: restart(after_ms, graceful) sets off, without waiting for it, the
# restart of the server serving the call (serving.Serving.restart): its stop (graceful: grpcio's
# graceful stop, else server.stop(None)), after_ms of downtime, a new server on the same addresses.
# It returns an Event set once the stop has completed, or None when it restarts nothing (having
# said why on stderr).
Restart = Callable[[int, bool], threading.Event | None]
# scripted-shutdown-abrupt: how long the handler waits at most for the stop to complete.
ABRUPT_STOP_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class _Method:
    client_streaming: bool
    server_streaming: bool


METHODS = {
    f"/{SERVICE}/Unary": _Method(client_streaming=False, server_streaming=False),
    f"/{SERVICE}/ServerStream": _Method(client_streaming=False, server_streaming=True),
    f"/{SERVICE}/ClientStream": _Method(client_streaming=True, server_streaming=False),
    f"/{SERVICE}/BidiStream": _Method(client_streaming=True, server_streaming=True),
}


class _Status(grpc.Status):
    """A grpc.Status for abort_with_status (grpc.Status is an interface with these three members)."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: Sequence[tuple[str, Any]]) -> None:
        self.code = code
        self.details = details
        self.trailing_metadata = tuple(trailing_metadata)


class MetadataRefused(Exception):
    """A scripted metadata entry gRPC core would refuse to send; the message names the key."""


# gRPC core's rules (src/core/lib/surface/validate_metadata.cc): a key is [a-z0-9-_.]+, a text
# value is printable ASCII (0x20-0x7E); binary values are anything. The error texts are core's.
_LEGAL_KEY_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_.")


def check_metadata(metadata: Metadata) -> None:
    for key, value in metadata:
        if not key:
            raise MetadataRefused(f"scripted: cannot send metadata {key}: Metadata keys cannot be zero length")
        if not set(key.encode()) <= _LEGAL_KEY_BYTES:
            raise MetadataRefused(f"scripted: cannot send metadata {key}: Illegal header key")
        if isinstance(value, str) and not all(0x20 <= ord(char) <= 0x7E for char in value):
            raise MetadataRefused(f"scripted: cannot send metadata {key}: Illegal header value")


def metadata_of(entries: Iterable[scripted_pb2.Metadatum], joined: bool) -> Metadata:
    """The scripted entries value by value, in order (the -bin keys' binary_values, the others' values);
    with joined (scripted-metadata-joined) one value per key: text joined with ", ", bytes concatenated."""
    metadata: Metadata = []
    for entry in entries:
        values: list[Any] = list(entry.binary_values if entry.key.endswith("-bin") else entry.values)
        if joined and len(values) > 1:
            values = [b"".join(values) if entry.key.endswith("-bin") else ", ".join(values)]
        metadata.extend((entry.key, value) for value in values)
    return metadata


def request_headers(invocation_metadata: Iterable[tuple[str, Any]] | None) -> list[scripted_pb2.Metadatum]:
    """RequestInfo.headers: one Metadatum per key, first appearance first, values in order."""
    merged: dict[str, scripted_pb2.Metadatum] = {}
    for key, value in invocation_metadata or ():
        if key in HIDDEN_REQUEST_KEYS or key.startswith("grpc-"):
            continue
        entry = merged.setdefault(key, scripted_pb2.Metadatum(key=key))
        if isinstance(value, bytes):
            entry.binary_values.append(value)
        else:
            entry.values.append(value)
    return list(merged.values())


def call_authority(context: grpc.ServicerContext) -> str | None:
    """The call's :authority as grpcio has it (the private call details, see the module's
    docstring); None when it gives none (empty, or a context without the private attribute)."""
    event = getattr(context, "_rpc_event", None)
    host = getattr(getattr(event, "call_details", None), "host", None)
    return host.decode("utf-8", errors="replace") if host else None


def request_info(context: grpc.ServicerContext, remaining: float, faults: Faults) -> scripted_pb2.RequestInfo:
    """RequestInfo as the handler starts (requests are added as they are read): the request
    metadata, the time left, the :authority (none under scripted-authority-dropped) and the peer
    (FAULTY_PEER under scripted-peer-ipv4); authority and peer left unset when grpcio gives none."""
    info = scripted_pb2.RequestInfo(
        headers=request_headers(context.invocation_metadata()), timeout_ms=timeout_ms(remaining)
    )
    authority = None if Fault.SCRIPTED_AUTHORITY_DROPPED in faults else call_authority(context)
    if authority:
        info.authority = authority
    peer = FAULTY_PEER if Fault.SCRIPTED_PEER_IPV4 in faults else context.peer()
    if peer:
        info.peer = peer
    return info


def timeout_ms(time_remaining: float) -> int:
    return -1 if time_remaining >= NO_DEADLINE_SECONDS else int(time_remaining * 1000)


def mangled(message: str) -> str:
    """scripted-message-mangled: non-printable-ASCII characters become ?, every % is doubled."""
    return "".join("%%" if char == "%" else char if 0x20 <= ord(char) <= 0x7E else "?" for char in message)


def response_compression(name: str) -> grpc.Compression:
    """The grpc.Compression of script.response_compression; UnknownCompression when grpcio has none."""
    algorithm = RESPONSE_COMPRESSION.get(name)
    if algorithm is None:
        raise UnknownCompression(
            f"scripted: cannot compress responses with {name}: grpcio has no such algorithm "
            f"(grpc.Compression has {', '.join(RESPONSE_COMPRESSION)})"
        )
    return algorithm


class UnknownCompression(Exception):
    """script.response_compression names an algorithm grpcio does not have; the message is the status message."""


class UnknownHealthStatus(Exception):
    """A script.set_health entry names a status that cannot be set; the message is the status message."""


def set_health(changes: Iterable[scripted_pb2.HealthChange]) -> None:
    """script.set_health: sets each entry's status in this process's health service, in order.
    UnknownHealthStatus at the first entry whose status is not a settable name (those before it are set)."""
    for change in changes:
        status = SETTABLE_STATUSES.get(change.status)
        if status is None:
            raise UnknownHealthStatus(
                f"scripted: set_health: unknown status {json.dumps(change.status, ensure_ascii=False)} for service "
                f"{json.dumps(change.service, ensure_ascii=False)} (expected {', '.join(SETTABLE_STATUSES)})"
            )
        HEALTH_STATUSES.set(change.service, status)


def reply_values(reply: scripted_pb2.Reply) -> scripted_pb2.Values | None:
    """The values a reply sends before any fault touches them: `values`, with `by` set to
    `fill_bytes` zero bytes when that is > 0 (`values` created if absent); None when there are none."""
    if reply.fill_bytes <= 0:
        return reply.values if reply.HasField("values") else None
    values = scripted_pb2.Values()
    values.CopyFrom(reply.values)
    values.by = bytes(reply.fill_bytes)
    return values


def status_code(code: int) -> grpc.StatusCode:
    for candidate in grpc.StatusCode:
        if candidate.value[0] == code:
            return candidate
    return grpc.StatusCode.UNKNOWN  # what grpcio sends for a code it does not know


_M = TypeVar("_M", bound=Message)


def without_unknown(message: _M) -> _M:
    """scripted-unknown-dropped: a copy of message with every unknown field discarded, at every depth."""
    copy = type(message)()
    copy.CopyFrom(message)
    copy.DiscardUnknownFields()
    return copy


class ActiveCalls:
    """RequestInfo.active_calls: how many handlers of Scripted this process is running now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    @contextmanager
    def counting(self) -> Iterator[None]:
        """One more handler while the block runs, whatever way it is left."""
        with self._lock:
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1

    @property
    def count(self) -> int:
        with self._lock:
            return self._count


@dataclass
class _Record:
    """How one call with a script.call_id is doing (CallRecord), updated under CallRecords' lock."""

    ended: str = RUNNING
    replies_sent: int = 0


class CallRecords:
    """The call records of this process: script.call_id → how that call ended. A second call with
    the same id replaces the record (the first one's updates then go to a record no one sees)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._records: dict[str, _Record] = {}

    def start(self, call_id: str) -> _Record:
        record = _Record()
        with self._changed:
            self._records[call_id] = record
            self._changed.notify_all()
        return record

    def count_reply(self, record: _Record) -> None:
        with self._changed:
            record.replies_sent += 1

    def end(self, record: _Record, ended: str) -> None:
        with self._changed:
            record.ended = ended
            self._changed.notify_all()

    def report(
        self, call_id: str, cancelled: Callable[[], bool], timeout: float = REPORT_WAIT_SECONDS
    ) -> scripted_pb2.CallRecord:
        """The record of call_id once that call has ended: waits at most `timeout` for it to appear
        and end, less when `cancelled()` turns true (the asking call's own cancellation, looked at
        every REPORT_POLL_SECONDS). `running` when it had not ended by then, `unknown` when no
        call with that id started in this process."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                record = self._records.get(call_id)
                left = deadline - time.monotonic()
                if (record is not None and record.ended != RUNNING) or left <= 0 or cancelled():
                    break
                self._changed.wait(min(left, REPORT_POLL_SECONDS))
            if record is None:
                return scripted_pb2.CallRecord(ended=UNKNOWN)
            return scripted_pb2.CallRecord(ended=record.ended, replies_sent=record.replies_sent)


# Process-wide, as the contract has them: one server process serves every connection of its port.
ACTIVE_CALLS = ActiveCalls()
CALL_RECORDS = CallRecords()
# Set once the server has stopped (serving.py, after its grace): the one thing that ends the waits of
# scripted-cancel-ignored, so that its handlers do not keep the stopped process alive.
STOPPING = threading.Event()


class _Call:
    """One call being played: its context, grpcio's word that it was cancelled, its call record."""

    def __init__(self, context: grpc.ServicerContext, cancel_ignored: bool = False) -> None:
        self.context = context
        # scripted-cancel-ignored: the handler never looks at cancellation.
        self.cancel_ignored = cancel_ignored
        # Set by grpcio when the call ends; while the handler runs, only a cancellation ends it.
        self._ended = threading.Event()
        if not context.add_callback(self._ended.set):
            self._ended.set()
        self.headers_sent = False
        # The handler stopped because the call was cancelled (recorded `cancelled`).
        self.stopped = False
        self.record: _Record | None = None  # with script.call_id

    def cancelled(self) -> bool:
        """Whether grpcio says the call was cancelled (never asked under scripted-cancel-ignored)."""
        return self._ended.is_set() or not self.context.is_active()

    def go_on(self) -> bool:
        """The handler's check before each step: False once the call was cancelled, and from then
        on the handler stops (`stopped`). Always True under scripted-cancel-ignored."""
        if not self.cancel_ignored and not self.stopped and self.cancelled():
            self.stopped = True
        return not self.stopped

    def wait(self, delay_ms: int) -> bool:
        """Waits delay_ms, ending at once when the call is cancelled (under scripted-cancel-ignored:
        the whole delay, whatever becomes of the call, unless the server stops); then go_on()."""
        if delay_ms > 0:
            (STOPPING if self.cancel_ignored else self._ended).wait(delay_ms / 1000)
        return self.go_on()

    def report(self, call_id: str) -> scripted_pb2.CallRecord:
        """script.report_call: the record of call_id, the wait cut short by this call's cancellation
        (under scripted-cancel-ignored: only by the server's stop)."""
        return CALL_RECORDS.report(call_id, STOPPING.is_set if self.cancel_ignored else self.cancelled)

    def record_as(self, call_id: str) -> None:
        self.record = CALL_RECORDS.start(call_id)

    def handed(self) -> None:
        """One more reply handed to grpcio."""
        if self.record is not None:
            CALL_RECORDS.count_reply(self.record)

    def finish(self) -> None:
        """The record's end, as the handler returns: `cancelled` when it stopped for the cancellation,
        else `completed` (step 8, or an end of its own such as refused metadata)."""
        if self.record is not None:
            CALL_RECORDS.end(self.record, CANCELLED if self.stopped else COMPLETED)

    def send_headers(self, headers: Metadata) -> None:
        if not self.headers_sent:
            self.context.send_initial_metadata(tuple(headers))
            self.headers_sent = True


def _next_request(requests: Iterator[Any], call: _Call) -> Any:
    """The next request, or None at half-close. grpcio's request iterator raises grpc.RpcError when
    the call was cancelled meanwhile: a failed read, after which the handler checks the call
    (`call.stopped` tells the caller to stop); under scripted-cancel-ignored it goes on as if the
    client had half-closed."""
    try:
        return next(requests, None)
    except grpc.RpcError:
        call.go_on()
        return None


class Scripted(grpc.GenericRpcHandler):
    """The generic handler of interop.scripted.Scripted. restart: how script.restart_server_after_ms
    restarts the server this handler is registered on (None: it cannot, and says so on stderr)."""

    def __init__(self, faults: Faults, restart: Restart | None = None) -> None:
        self._faults = faults
        self._restart = restart

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = METHODS.get(handler_call_details.method)
        if method is None:
            return None
        behaviour = partial(self._stream if method.server_streaming else self._single, method)
        if method.server_streaming and Fault.SCRIPTED_CANCEL_IGNORED in self._faults:
            # grpcio's send callback instead of a generator (the module's docstring).
            behaviour = partial(self._stream_ignoring_cancellation, method)
            behaviour.experimental_non_blocking = True  # type: ignore[attr-defined]
        factory = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[(method.client_streaming, method.server_streaming)]
        return factory(
            behaviour,
            request_deserializer=scripted_pb2.ScriptedRequest.FromString,
            response_serializer=scripted_pb2.ScriptedResponse.SerializeToString,
        )

    def _stream(self, method: _Method, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        yield from self._play(method, request, context)

    def _stream_ignoring_cancellation(
        self, method: _Method, request: Any, context: grpc.ServicerContext, send_response: Callable[[Any], None]
    ) -> None:
        """scripted-cancel-ignored's server-streaming behaviour (experimental_non_blocking): every
        reply goes to grpcio's send callback, whatever became of the call, then None ends it."""
        for response in self._play(method, request, context):
            send_response(response)
        send_response(None)

    def _single(self, method: _Method, request: Any, context: grpc.ServicerContext) -> Any:
        responses = list(self._play(method, request, context))
        # Exactly one when the call ends OK; none only when it was cancelled meanwhile (nothing is sent then).
        return responses[0] if responses else scripted_pb2.ScriptedResponse()

    def _play(self, method: _Method, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        """The handler: counted in ACTIVE_CALLS from before step 1 until it returns, its call
        recorded as it ends (_steps plays the script)."""
        remaining = context.time_remaining()  # when the handler started
        with ACTIVE_CALLS.counting():
            call = _Call(context, cancel_ignored=Fault.SCRIPTED_CANCEL_IGNORED in self._faults)
            try:
                yield from self._steps(method, request, call, remaining)
            except GeneratorExit:
                # grpcio stopped taking replies: a send failed (the call was cancelled), or grpcio
                # ended the call itself (a response it could not serialize).
                call.go_on()
                raise
            finally:
                call.finish()

    def _steps(self, method: _Method, request: Any, call: _Call, remaining: float) -> Iterator[Any]:
        faults = self._faults
        context = call.context
        # 1. The first request's script.
        requests: Iterator[Any] | None = None
        if method.client_streaming:
            requests = iter(request)
            first = _next_request(requests, call)
            if call.stopped:
                return
        else:
            first = request
        read = [] if first is None else [first]
        script = first.script if first is not None else scripted_pb2.Script()
        if script.call_id:
            call.record_as(script.call_id)
        # 2. The request metadata, the time left, the authority, the peer, the calls running now,
        # and the record of the call script.report_call names (once it has ended); then the
        # health statuses the script sets.
        info = request_info(context, remaining, faults)
        info.active_calls = ACTIVE_CALLS.count
        if script.report_call:
            info.reported_call.CopyFrom(call.report(script.report_call))
        if not call.go_on():
            return
        try:
            set_health(script.set_health)
        except UnknownHealthStatus as unknown:
            # Nothing was sent yet; RequestInfo still goes.
            info.requests.extend(read)
            context.abort_with_status(
                _Status(grpc.StatusCode.INVALID_ARGUMENT, str(unknown), [(REQUEST_INFO_KEY, self._info_bytes(info))])
            )
        # The restart: set off now, the script goes on meanwhile.
        if script.restart_server_after_ms > 0:
            self._restart_server(script.restart_server_after_ms)
        joined = Fault.SCRIPTED_METADATA_JOINED in faults
        headers = metadata_of(script.headers, joined)
        trailers = metadata_of(script.trailers, joined)
        if Fault.SCRIPTED_HEADERS_DROPPED in faults:
            headers = []
        early_headers = Fault.SCRIPTED_TRAILERS_AS_HEADERS in faults
        if early_headers:
            headers, trailers = headers + trailers, []
        try:
            check_metadata(headers)
            check_metadata(trailers)
        except MetadataRefused as refused:
            # Nothing was sent yet; RequestInfo still goes (it is the server's, not the script's).
            info.requests.extend(read)
            context.abort_with_status(
                _Status(grpc.StatusCode.INTERNAL, str(refused), [(REQUEST_INFO_KEY, self._info_bytes(info))])
            )
        if script.response_compression:
            # Step 7's compression, chosen before any header can go out (grpcio sends it with them).
            try:
                context.set_compression(response_compression(script.response_compression))
            except UnknownCompression as unknown:
                info.requests.extend(read)
                context.abort_with_status(
                    _Status(grpc.StatusCode.UNIMPLEMENTED, str(unknown), [(REQUEST_INFO_KEY, self._info_bytes(info))])
                )
        if early_headers and headers:
            call.send_headers(headers)  # scripted-trailers-as-headers: before anything else
        # 3. The delay (none under scripted-delay-ignored, nor before the replies).
        delays = Fault.SCRIPTED_DELAY_IGNORED not in faults
        if not call.wait(script.delay_ms if delays else 0):
            return
        # 4. Headers first.
        if script.send_headers_first:
            call.send_headers(headers)
        # 5. More requests.
        if requests is not None and first is not None:
            limit = 0 if Fault.SCRIPTED_READ_ALL in faults else script.read_requests
            while limit <= 0 or len(read) < limit:
                following = _next_request(requests, call)
                if call.stopped:
                    return
                if following is None:
                    break
                read.append(following)
        info.requests.extend(read)
        # 6. Headers before any reply or status.
        if headers:
            call.send_headers(headers)
        # 7. The replies.
        code = script.code
        if code != 0 and Fault.SCRIPTED_STATUS_UNKNOWN in faults:
            code = grpc.StatusCode.UNKNOWN.value[0]
        message = mangled(script.message) if Fault.SCRIPTED_MESSAGE_MANGLED in faults else script.message
        if method.server_streaming:
            replies = list(script.replies)
            if Fault.SCRIPTED_REPLIES_DROP_LAST in faults:
                replies = replies[:-1]
        elif code == 0:
            replies = list(script.replies[:1]) or [scripted_pb2.Reply()]
        else:
            replies = []
        # RequestInfo goes in the last response when the call ends OK (the code no fault changes:
        # scripted-status-unknown leaves 0 alone) and sends one; else in the trailer (step 8).
        info_in_response = code == 0 and bool(replies)
        for index, reply in enumerate(replies):
            if not call.wait(reply.delay_ms if delays else 0):
                return
            response = scripted_pb2.ScriptedResponse()
            values = reply_values(reply)  # fill_bytes first: the faults apply after
            if values is not None:
                # The value faults touch `values` only, never request_info. Unknown fields are
                # kept (CopyFrom), as in RequestInfo.requests, unless scripted-unknown-dropped.
                values = faulty_values(values, faults)
                if Fault.SCRIPTED_UNKNOWN_DROPPED in faults:
                    values = without_unknown(values)
                response.values.CopyFrom(values)
            if info_in_response and index == len(replies) - 1:
                response.request_info.CopyFrom(self._info(info))
            call.handed()
            yield response
        # 8. The status, the scripted trailers, RequestInfo (unless it went in the last response), the details.
        trailing: Metadata = list(trailers)
        if not info_in_response:
            trailing.append((REQUEST_INFO_KEY, self._info_bytes(info)))
        if script.details and Fault.SCRIPTED_DETAILS_DROPPED not in faults:
            details_code = script.details_code if script.HasField("details_code") else code
            rich = status_pb2.Status(code=details_code, message=message, details=script.details)
            try:
                trailing.extend(rpc_status.to_status(rich).trailing_metadata)
            except ValueError:  # a code grpc.StatusCode does not know: the same trailer, serialized here
                trailing.append((DETAILS_KEY, rich.SerializeToString()))
        if code == 0:
            context.set_trailing_metadata(tuple(trailing))
            if message:
                context.set_details(message)
            return
        context.abort_with_status(_Status(status_code(code), message, trailing))

    def _restart_server(self, after_ms: int) -> None:
        """script.restart_server_after_ms: sets off the restart of this server (the module's
        docstring); under scripted-shutdown-abrupt, waits until its stop has completed."""
        if self._restart is None:
            _log(f"restart_server_after_ms={after_ms} ignored: this server cannot restart")
            return
        graceful = Fault.SCRIPTED_SHUTDOWN_ABRUPT not in self._faults
        stopped = self._restart(after_ms, graceful)
        if not graceful and stopped is not None:
            stopped.wait(ABRUPT_STOP_WAIT_SECONDS)

    def _info(self, info: scripted_pb2.RequestInfo) -> scripted_pb2.RequestInfo:
        """RequestInfo as sent, in a response or the trailer: empty under scripted-request-info-empty,
        without any unknown field under scripted-unknown-dropped."""
        if Fault.SCRIPTED_REQUEST_INFO_EMPTY in self._faults:
            return scripted_pb2.RequestInfo()
        if Fault.SCRIPTED_UNKNOWN_DROPPED in self._faults:
            return without_unknown(info)
        return info

    def _info_bytes(self, info: scripted_pb2.RequestInfo) -> bytes:
        return self._info(info).SerializeToString()


def _log(message: str) -> None:
    print(f"python server[{os.getpid()}]: scripted: {message}", file=sys.stderr, flush=True)


def add_scripted_service(server: grpc.Server, faults: Faults, restart: Restart | None = None) -> str:
    """Registers the generic handler of interop.scripted.Scripted, restarting server with restart
    (None: it cannot restart); returns the service's full name."""
    server.add_generic_rpc_handlers((Scripted(faults, restart),))
    return str(SERVICE)
