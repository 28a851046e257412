"""Seeing whether a message arrived compressed, which grpcio's API does not tell.

grpcio hands the application every received message already decompressed, and publishes neither
the message's compressed flag nor the call's `grpc-encoding` header. gRPC core's channel argument
`grpc.per_message_decompression` (GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, "if disabled,
decompression will not be performed and the application will see the compressed message in the
byte buffer") switches that step off; a process that sets it receives each compressed message as
its compressed bytes, decompresses it here, and knows it was compressed.

Telling the two apart is exact for gzip: a gzip stream starts with 1f 8b, and no protobuf message
starts with 0x1f (field 3 with wire type 7, which does not exist). A zlib ("deflate") stream is
recognised by its header and a successful, complete inflation with a valid Adler-32 checksum.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

M = TypeVar("M")

# Passed to grpc.server / grpc.*_channel options by whoever uses the deserializers below.
KEEP_COMPRESSED_OPTION = ("grpc.per_message_decompression", 0)
# grpc's default receive limit, applied to the decompressed size (core checks the compressed one).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# How far the size of a message past the limit is counted, for the error text (a bomb is not inflated further).
_COUNT_LIMIT = 2**31 - 1
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS

Limit = int | None  # the largest decompressed message taken, in bytes; None: any size


class CompressedMessageError(ValueError):
    """A compressed message that cannot be decompressed (corrupt, truncated or too large)."""


class MessageTooLarge(CompressedMessageError):
    """A compressed message whose decompressed size is past the receive limit. The text is gRPC
    core's for a message past grpc.max_receive_message_length (RESOURCE_EXHAUSTED)."""

    def __init__(self, size: int, limit: int, counted: bool = True) -> None:
        self.size = size
        self.limit = limit
        shown = str(size) if counted else f"at least {size}"
        super().__init__(f"Received message larger than max ({shown} vs. {limit})")


def _inflate(data: bytes, wbits: int, limit: Limit) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        if limit is None:
            plain = inflater.decompress(data)
        else:
            plain = inflater.decompress(data, limit + 1)
            if len(plain) > limit:
                raise _too_large(inflater, len(plain), limit)
    except zlib.error as err:
        raise CompressedMessageError(f"cannot decompress the message: {err}") from None
    if not inflater.eof or inflater.unused_data:
        raise CompressedMessageError("compressed message is truncated or has trailing bytes")
    return plain


def _too_large(inflater: Any, size: int, limit: int) -> MessageTooLarge:
    """The error for a message already known to be past limit, its full size counted (in chunks,
    nothing kept) up to _COUNT_LIMIT or until the stream turns out to be corrupt."""
    try:
        while not inflater.eof and size < _COUNT_LIMIT:
            chunk = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
            if not chunk and not inflater.unconsumed_tail:
                break
            size += len(chunk)
    except zlib.error:
        return MessageTooLarge(size, limit, counted=False)
    return MessageTooLarge(size, limit, counted=inflater.eof)


def _looks_zlib(data: bytes) -> bool:
    return len(data) >= 6 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0


def uncompress(data: bytes, limit: Limit = MAX_MESSAGE_BYTES) -> tuple[bytes, bool]:
    """(the message's plain bytes, whether they arrived compressed). MessageTooLarge when they
    inflate past limit (None: no limit)."""
    if data[:2] == _GZIP_MAGIC:
        return _inflate(data, _GZIP_WBITS, limit), True
    if _looks_zlib(data):
        try:
            return _inflate(data, _ZLIB_WBITS, limit), True
        except MessageTooLarge:
            raise
        except CompressedMessageError:
            pass  # a plain protobuf message that happens to start like a zlib header
    return data, False


@dataclass(frozen=True)
class Received(Generic[M]):
    """A deserialized message and whether it arrived compressed."""

    message: M
    compressed: bool


def receiving(parse: Callable[[bytes], M], limit: Limit = MAX_MESSAGE_BYTES) -> Callable[[bytes], Received[M]]:
    """A deserializer giving Received(message, compressed); needs KEEP_COMPRESSED_OPTION."""

    def deserialize(data: bytes) -> Received[M]:
        plain, compressed = uncompress(data, limit)
        return Received(parse(plain), compressed)

    deserialize.sees_compression = True  # type: ignore[attr-defined]
    deserialize.parse = parse  # type: ignore[attr-defined]  (for DecompressingInterceptor's own limit)
    return deserialize


def decompressing(parse: Callable[[bytes], Any] | None, limit: Limit = MAX_MESSAGE_BYTES) -> Callable[[bytes], Any]:
    """A deserializer for a process with KEEP_COMPRESSED_OPTION that only wants the message."""

    def deserialize(data: bytes) -> Any:
        plain = uncompress(data, limit)[0]
        return plain if parse is None else parse(plain)

    return deserialize


@dataclass(frozen=True)
class _Oversized:
    """What the server's deserializer hands on for a message that inflates past the receive limit:
    grpcio turns a deserializer's exception into INTERNAL "Exception deserializing request!", so
    the handler wrapper aborts with RESOURCE_EXHAUSTED instead, as gRPC core does for a message it
    decompresses itself."""

    error: MessageTooLarge


def _oversized_instead(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def guarded(data: bytes) -> Any:
        try:
            return deserialize(data)
        except MessageTooLarge as error:
            return _Oversized(error)

    return guarded


def _refuse_oversized(request: Any, context: grpc.ServicerContext) -> None:
    if isinstance(request, _Oversized):
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(request.error))


def _checked(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
    for request in requests:
        _refuse_oversized(request, context)
        yield request


def _with_size_check(behaviour: Callable[..., Any], request_streaming: bool) -> Callable[..., Any]:
    """behaviour with its requests checked. A behaviour marked `experimental_non_blocking` (grpcio
    then passes its send callback as a third argument: scripted_service.py, scripted-cancel-ignored)
    stays marked, and gets the callback."""
    wrapped: Callable[..., Any]
    if request_streaming:

        def streamed(requests: Iterator[Any], context: grpc.ServicerContext, *send: Any) -> Any:
            return behaviour(_checked(requests, context), context, *send)

        wrapped = streamed
    else:

        def single(request: Any, context: grpc.ServicerContext, *send: Any) -> Any:
            _refuse_oversized(request, context)
            return behaviour(request, context, *send)

        wrapped = single
    if getattr(behaviour, "experimental_non_blocking", False):
        wrapped.experimental_non_blocking = True  # type: ignore[attr-defined]
    return wrapped


_HANDLER_FACTORIES = {
    (False, False): (grpc.unary_unary_rpc_method_handler, "unary_unary"),
    (False, True): (grpc.unary_stream_rpc_method_handler, "unary_stream"),
    (True, False): (grpc.stream_unary_rpc_method_handler, "stream_unary"),
    (True, True): (grpc.stream_stream_rpc_method_handler, "stream_stream"),
}


class DecompressingInterceptor(grpc.ServerInterceptor):
    """For a server with KEEP_COMPRESSED_OPTION: every method whose deserializer was not made by
    receiving() gets its requests decompressed first, so it behaves as on an ordinary server.

    gRPC core, which no longer decompresses, checks grpc.max_receive_message_length against the
    compressed size only; `max_receive` (the server's limit, None: unlimited) is applied here to the
    decompressed size, for every method (receiving()'s too): a message past it ends the call with
    RESOURCE_EXHAUSTED and core's text, as when core decompresses."""

    def __init__(self, max_receive: Limit = MAX_MESSAGE_BYTES) -> None:
        self._max_receive = max_receive

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return handler
        parse = handler.request_deserializer
        if getattr(parse, "sees_compression", False):
            deserialize = receiving(parse.parse, self._max_receive)  # type: ignore[union-attr]
        else:
            deserialize = decompressing(parse, self._max_receive)
        factory, behaviour = _HANDLER_FACTORIES[(handler.request_streaming, handler.response_streaming)]
        return factory(
            _with_size_check(getattr(handler, behaviour), handler.request_streaming),
            request_deserializer=_oversized_instead(deserialize),
            response_serializer=handler.response_serializer,
        )
