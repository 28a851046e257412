"""Unit tests: telling compressed messages apart (compression.py) and TestService's pure helpers."""

from __future__ import annotations

import gzip
import zlib

import pytest

from interop_peer import compression, testing_service
from interop_peer.faults import Fault
from interop_peer.protos import helloworld_pb2, messages_pb2

NONE: frozenset[Fault] = frozenset()


def simple_request() -> bytes:
    request = messages_pb2.SimpleRequest(response_size=314159, payload=messages_pb2.Payload(body=bytes(271828)))
    return request.SerializeToString()


def test_gzip_and_zlib_messages_are_recognised_and_inflated() -> None:
    plain = simple_request()
    assert compression.uncompress(gzip.compress(plain)) == (plain, True)
    assert compression.uncompress(zlib.compress(plain)) == (plain, True)
    assert compression.uncompress(plain) == (plain, False)
    assert compression.uncompress(b"") == (b"", False)


def test_a_plain_message_that_looks_like_a_zlib_header_stays_plain() -> None:
    # 08 1d: field 1 = 29, whose two bytes also pass zlib's header check; then more fields.
    plain = messages_pb2.SimpleRequest(response_type=29, response_size=5, fill_username=True).SerializeToString()
    assert plain[:2] == b"\x08\x1d" and (plain[0] << 8 | plain[1]) % 31 == 0
    assert compression.uncompress(plain) == (plain, False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(b"abc")[:-4], "truncated"),
        (b"\x1f\x8b" + bytes(20), "cannot decompress"),
        (gzip.compress(bytes(compression.MAX_MESSAGE_BYTES + 1)), "larger than"),
        (gzip.compress(b"abc") + b"x", "trailing"),
    ],
)
def test_bad_gzip_messages_are_errors(data: bytes, message: str) -> None:
    with pytest.raises(compression.CompressedMessageError, match=message):
        compression.uncompress(data)


def test_deserializers() -> None:
    parse = helloworld_pb2.HelloRequest.FromString
    wire = helloworld_pb2.HelloRequest(name="x").SerializeToString()
    received = compression.receiving(parse)(gzip.compress(wire))
    assert received == compression.Received(helloworld_pb2.HelloRequest(name="x"), True)
    assert compression.receiving(parse)(wire).compressed is False
    assert getattr(compression.receiving(parse), "sees_compression", False)
    assert compression.decompressing(parse)(gzip.compress(wire)).name == "x"
    assert compression.decompressing(None)(gzip.compress(b"raw")) == b"raw"


def test_testing_service_helpers() -> None:
    message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
    assert testing_service.status_message(message, NONE) == message
    trimmed = testing_service.status_message(message, frozenset({Fault.TESTING_STATUS_MESSAGE_TRIMMED}))
    assert trimmed == "test with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈"
    assert testing_service.aggregated_size([27182, 8, 1828, 45904], NONE) == 74922
    assert testing_service.aggregated_size([], frozenset({Fault.TESTING_AGGREGATE_OFF})) == 1
    assert testing_service.unary_response_size(314159, NONE) == 314159
    assert testing_service.unary_response_size(314159, frozenset({Fault.TESTING_EMPTY_PAYLOAD})) == 314158
    assert testing_service.unary_response_size(0, frozenset({Fault.TESTING_EMPTY_PAYLOAD})) == 0
    parameters = [messages_pb2.ResponseParameters(size=size) for size in (1, 2, 3)]
    drop = frozenset({Fault.TESTING_STREAM_DROP_LAST})
    assert testing_service.sent_parameters(parameters, NONE, drop_last=True) == parameters
    assert testing_service.sent_parameters(parameters, drop, drop_last=True) == parameters[:2]
    assert testing_service.sent_parameters(parameters, drop, drop_last=False) == parameters
    assert testing_service.sent_parameters(parameters[:1], drop, drop_last=True) == parameters[:1]
    payload = testing_service.payload(3)
    assert payload.type == messages_pb2.COMPRESSABLE and payload.body == b"\0\0\0"
