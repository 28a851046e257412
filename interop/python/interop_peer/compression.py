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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

M = TypeVar("M")

# Passed to grpc.server / grpc.*_channel options by whoever uses the deserializers below.
KEEP_COMPRESSED_OPTION = ("grpc.per_message_decompression", 0)
# grpc's default receive limit, applied to the decompressed size (core checks the compressed one).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS


class CompressedMessageError(ValueError):
    """A compressed message that cannot be decompressed (corrupt, truncated or too large)."""


def _inflate(data: bytes, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        plain = inflater.decompress(data, MAX_MESSAGE_BYTES + 1)
    except zlib.error as err:
        raise CompressedMessageError(f"cannot decompress the message: {err}") from None
    if len(plain) > MAX_MESSAGE_BYTES:
        raise CompressedMessageError(f"decompressed message larger than {MAX_MESSAGE_BYTES} bytes")
    if not inflater.eof or inflater.unused_data:
        raise CompressedMessageError("compressed message is truncated or has trailing bytes")
    return plain


def _looks_zlib(data: bytes) -> bool:
    return len(data) >= 6 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0


def uncompress(data: bytes) -> tuple[bytes, bool]:
    """(the message's plain bytes, whether they arrived compressed)."""
    if data[:2] == _GZIP_MAGIC:
        return _inflate(data, _GZIP_WBITS), True
    if _looks_zlib(data):
        try:
            return _inflate(data, _ZLIB_WBITS), True
        except CompressedMessageError:
            pass  # a plain protobuf message that happens to start like a zlib header
    return data, False


@dataclass(frozen=True)
class Received(Generic[M]):
    """A deserialized message and whether it arrived compressed."""

    message: M
    compressed: bool


def receiving(parse: Callable[[bytes], M]) -> Callable[[bytes], Received[M]]:
    """A deserializer giving Received(message, compressed); needs KEEP_COMPRESSED_OPTION."""

    def deserialize(data: bytes) -> Received[M]:
        plain, compressed = uncompress(data)
        return Received(parse(plain), compressed)

    deserialize.sees_compression = True  # type: ignore[attr-defined]
    return deserialize


def decompressing(parse: Callable[[bytes], Any] | None) -> Callable[[bytes], Any]:
    """A deserializer for a process with KEEP_COMPRESSED_OPTION that only wants the message."""

    def deserialize(data: bytes) -> Any:
        plain = uncompress(data)[0]
        return plain if parse is None else parse(plain)

    return deserialize


_HANDLER_FACTORIES = {
    (False, False): (grpc.unary_unary_rpc_method_handler, "unary_unary"),
    (False, True): (grpc.unary_stream_rpc_method_handler, "unary_stream"),
    (True, False): (grpc.stream_unary_rpc_method_handler, "stream_unary"),
    (True, True): (grpc.stream_stream_rpc_method_handler, "stream_stream"),
}


class DecompressingInterceptor(grpc.ServerInterceptor):
    """For a server with KEEP_COMPRESSED_OPTION: every method whose deserializer was not made by
    receiving() gets its requests decompressed first, so it behaves as on an ordinary server."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None or getattr(handler.request_deserializer, "sees_compression", False):
            return handler
        factory, behaviour = _HANDLER_FACTORIES[(handler.request_streaming, handler.response_streaming)]
        return factory(
            getattr(handler, behaviour),
            request_deserializer=decompressing(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
