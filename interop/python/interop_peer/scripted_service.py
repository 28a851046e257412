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
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
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

Metadata = list[tuple[str, Any]]  # (key, str) or (key, bytes) for a -bin key


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


class _Call:
    """One call being played: its context, and an event set when the call ends (cancel, deadline)."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self.context = context
        self.ended = threading.Event()
        if not context.add_callback(self.ended.set):
            self.ended.set()
        self.headers_sent = False

    def wait(self, delay_ms: int) -> bool:
        """Waits delay_ms (less if the call ends meanwhile); False when the call has ended."""
        if delay_ms > 0:
            self.ended.wait(delay_ms / 1000)
        return not self.ended.is_set()

    def send_headers(self, headers: Metadata) -> None:
        if not self.headers_sent:
            self.context.send_initial_metadata(tuple(headers))
            self.headers_sent = True


def _next_request(requests: Iterator[Any]) -> Any:
    """The next request, or None at half-close. grpcio's request iterator raises grpc.RpcError when
    the call ended meanwhile (cancelled, deadline): the handler then stops as if half-closed, and
    the status it would send is dropped by grpcio (the call is over)."""
    try:
        return next(requests, None)
    except grpc.RpcError:
        return None


class Scripted(grpc.GenericRpcHandler):
    """The generic handler of interop.scripted.Scripted."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = METHODS.get(handler_call_details.method)
        if method is None:
            return None
        behaviour = partial(self._stream if method.server_streaming else self._single, method)
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

    def _single(self, method: _Method, request: Any, context: grpc.ServicerContext) -> Any:
        responses = list(self._play(method, request, context))
        # Exactly one when the call ends OK; none only when it was cancelled meanwhile (nothing is sent then).
        return responses[0] if responses else scripted_pb2.ScriptedResponse()

    def _play(self, method: _Method, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        faults = self._faults
        remaining = context.time_remaining()  # when the handler started
        call = _Call(context)
        # 1. The first request's script.
        requests: Iterator[Any] | None = None
        if method.client_streaming:
            requests = iter(request)
            first = _next_request(requests)
        else:
            first = request
        read = [] if first is None else [first]
        script = first.script if first is not None else scripted_pb2.Script()
        # 2. The request metadata, the time left, the authority and the peer.
        info = request_info(context, remaining, faults)
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
                following = _next_request(requests)
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


def add_scripted_service(server: grpc.Server, faults: Faults) -> str:
    """Registers the generic handler of interop.scripted.Scripted; returns the service's full name."""
    server.add_generic_rpc_handlers((Scripted(faults),))
    return str(SERVICE)
