"""The grpc.testing suite's cases, with the exact sizes, strings and checks of docs/peer-contract.md.

They register in cases.CASES after the seeds cases, in the contract's order. "Payload N" is
Payload{type:COMPRESSABLE, body: N zero bytes}; every response payload is checked for its type,
exact size and all-zero body. Every RPC has the peer's deadline, except timeout_on_sleeping_server's.

Compression, as far as grpcio's client allows it (compression.py for the details):
- a request is compressed per call (the `compression=` argument): client_compressed_unary runs in
  full; client_compressed_streaming cannot, and fails saying so (CLIENT_COMPRESSED_STREAMING);
- whether a response arrived compressed is seen by switching gRPC core's per-message
  decompression off on the channel of the server_compressed_* cases and decompressing here.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, cast

import grpc

from .cases import Peer, case
from .checks import CaseFailure, expect_equal, expect_failure, show, status_text, succeeds
from .compression import KEEP_COMPRESSED_OPTION, Received, receiving
from .protos import empty_pb2, messages_pb2, test_pb2_grpc

COMPRESSABLE = messages_pb2.COMPRESSABLE
SimpleRequest = messages_pb2.SimpleRequest
SimpleResponse = messages_pb2.SimpleResponse
StreamingInputCallRequest = messages_pb2.StreamingInputCallRequest
StreamingOutputCallRequest = messages_pb2.StreamingOutputCallRequest
StreamingOutputCallResponse = messages_pb2.StreamingOutputCallResponse
ResponseParameters = messages_pb2.ResponseParameters
BoolValue = messages_pb2.BoolValue

TEST_SERVICE = "/grpc.testing.TestService/"
ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")
STATUS_MESSAGE = "test status message"
SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
PING_PONG = ((31415, 27182), (9, 8), (2653, 1828), (58979, 45904))

CLIENT_COMPRESSED_STREAMING = (
    "client_compressed_streaming cannot pass with the grpcio (Python) client: it must send one "
    "message of a stream compressed and the next uncompressed, but grpcio compresses a whole call "
    "or none of it (the per-call compression= argument) and has no per-message write flag for "
    "requests (grpc/_channel.py, _consume_request_iterator, sends every request with flags 0; "
    "grpc.aio's write() takes none either)"
)


def zeros(size: int) -> messages_pb2.Payload:
    return messages_pb2.Payload(type=COMPRESSABLE, body=bytes(size))


def expect_payload(label: str, response: Any, size: int) -> None:
    """response.payload must be COMPRESSABLE, exactly `size` bytes long, and all zero bytes."""
    if not response.HasField("payload"):
        raise CaseFailure(f"{label}: expected a payload of {size} bytes, got a response without payload")
    payload = response.payload
    if payload.type != COMPRESSABLE:
        raise CaseFailure(f"{label}: expected payload type COMPRESSABLE, got {payload.type}")
    expect_equal(label, size, len(payload.body), what="payload size")
    if payload.body.count(0) != len(payload.body):
        nonzero = len(payload.body) - payload.body.count(0)
        raise CaseFailure(f"{label}: expected a payload of zero bytes, got {nonzero} non-zero bytes")


def expect_compression(label: str, expected: bool, received: Received[Any]) -> None:
    if received.compressed != expected:
        wanted, got = ("compressed", "uncompressed") if expected else ("uncompressed", "compressed")
        raise CaseFailure(f"{label}: expected the response to arrive {wanted}, it arrived {got}")


def describe(response: Any) -> str:
    if response.HasField("payload"):
        return f"a payload of {len(response.payload.body)} bytes"
    return "a response without payload"


def expect_end(label: str, responses: Iterator[Any]) -> None:
    """The stream must end with status OK and no further response."""
    extra = succeeds(label, partial(next, responses, None))
    if extra is not None:
        raise CaseFailure(f"{label}: expected the stream to end, got another response ({describe(extra)})")


def expect_responses(label: str, responses: Sequence[Any], sizes: Sequence[int]) -> None:
    expect_equal(label, len(sizes), len(responses), what="number of responses")
    for index, (response, size) in enumerate(zip(responses, sizes, strict=True)):
        expect_payload(f"{label}, response {index + 1}", response, size)


def output_request(
    *sizes: int, body: int | None = None, interval_us: int = 0, **fields: Any
) -> messages_pb2.StreamingOutputCallRequest:
    return StreamingOutputCallRequest(
        response_type=COMPRESSABLE,
        response_parameters=[ResponseParameters(size=size, interval_us=interval_us) for size in sizes],
        **({} if body is None else {"payload": zeros(body)}),
        **fields,
    )


def large_request(**fields: Any) -> messages_pb2.SimpleRequest:
    return SimpleRequest(response_type=COMPRESSABLE, response_size=314159, payload=zeros(271828), **fields)


def stub(channel: grpc.Channel) -> test_pb2_grpc.TestServiceStub:
    return test_pb2_grpc.TestServiceStub(channel)


Outbox = queue.Queue[messages_pb2.StreamingOutputCallRequest | None]  # None half-closes


@contextmanager
def full_duplex(channel: grpc.Channel, timeout: float) -> Iterator[tuple[Outbox, Iterator[Any]]]:
    """A FullDuplexCall sending what is put in the outbox; half-closed and cancelled on exit."""
    outbox: Outbox = queue.Queue()
    responses = stub(channel).FullDuplexCall(iter(outbox.get, None), timeout=timeout)
    try:
        yield outbox, responses
    finally:
        outbox.put(None)
        responses.cancel()


def ping(outbox: Outbox, responses: Iterator[Any], size: int, body: int) -> None:
    """Sends {response_parameters [{size}], payload body} on a FullDuplexCall, then receives one payload of size."""
    label = f"FullDuplexCall: after sending {{response_parameters [{{size:{size}}}], payload {body}}}"
    outbox.put(output_request(size, body=body))
    reply = succeeds(label, partial(next, responses, None))
    if reply is None:
        raise CaseFailure(f"{label}: expected a payload of {size} bytes, got the end of the stream")
    expect_payload(label, reply, size)


def values(metadata: Any, key: str) -> list[Any]:
    return [value for name, value in (metadata or ()) if name == key]


def expect_echoed(label: str, headers: Any, trailers: Any) -> None:
    key, value = ECHO_INITIAL
    got = values(headers, key)
    if got != [value]:
        raise CaseFailure(f"{label}: expected the response header {key}: {show(value)}, got {show(got)}")
    key, binary = ECHO_TRAILING
    got = values(trailers, key)
    if got != [binary]:
        shown = [item.hex() if isinstance(item, bytes) else item for item in got]
        raise CaseFailure(f"{label}: expected the trailer {key}: 0x{binary.hex()}, got {show(shown)}")


@case
def empty_unary(peer: Peer) -> None:
    with peer.channel() as channel:
        reply = succeeds("EmptyCall{}", partial(stub(channel).EmptyCall, empty_pb2.Empty(), timeout=peer.timeout))
        expect_equal("EmptyCall{}", "grpc.testing.Empty", reply.DESCRIPTOR.full_name, what="reply type")


@case
def large_unary(peer: Peer) -> None:
    label = "UnaryCall{response_size:314159, payload 271828}"
    with peer.channel() as channel:
        reply = succeeds(label, partial(stub(channel).UnaryCall, large_request(), timeout=peer.timeout))
        expect_payload(label, reply, 314159)


@case
def client_compressed_unary(peer: Peer) -> None:
    with peer.channel() as channel:
        unary_call = stub(channel).UnaryCall
        expect_failure(
            "UnaryCall{expect_compressed:true, response_size:314159, payload 271828} sent uncompressed (probe)",
            partial(unary_call, large_request(expect_compressed=BoolValue(value=True)), timeout=peer.timeout),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        label = "UnaryCall{expect_compressed:true, response_size:314159, payload 271828} sent compressed"
        request = large_request(expect_compressed=BoolValue(value=True))
        reply = succeeds(label, partial(unary_call, request, timeout=peer.timeout, compression=grpc.Compression.Gzip))
        expect_payload(label, reply, 314159)
        label = "UnaryCall{expect_compressed:false, response_size:314159, payload 271828} sent uncompressed"
        request = large_request(expect_compressed=BoolValue(value=False))
        reply = succeeds(label, partial(unary_call, request, timeout=peer.timeout))
        expect_payload(label, reply, 314159)


@case
def server_compressed_unary(peer: Peer) -> None:
    with peer.channel(options=[KEEP_COMPRESSED_OPTION]) as channel:
        unary_call = channel.unary_unary(
            TEST_SERVICE + "UnaryCall",
            request_serializer=SimpleRequest.SerializeToString,
            response_deserializer=receiving(SimpleResponse.FromString),
        )
        for compressed in (True, False):
            label = f"UnaryCall{{response_compressed:{str(compressed).lower()}, response_size:314159, payload 271828}}"
            request = large_request(response_compressed=BoolValue(value=compressed))
            received: Received[Any] = succeeds(label, partial(unary_call, request, timeout=peer.timeout))
            expect_payload(label, received.message, 314159)
            expect_compression(label, compressed, received)


@case
def client_streaming(peer: Peer) -> None:
    sizes = (27182, 8, 1828, 45904)
    label = "StreamingInputCall[payloads 27182, 8, 1828, 45904]"
    requests = [StreamingInputCallRequest(payload=zeros(size)) for size in sizes]
    with peer.channel() as channel:
        reply = succeeds(label, partial(stub(channel).StreamingInputCall, iter(requests), timeout=peer.timeout))
        expect_equal(label, 74922, reply.aggregated_payload_size, what="aggregated_payload_size")


@case
def client_compressed_streaming(peer: Peer) -> None:
    probe = StreamingInputCallRequest(expect_compressed=BoolValue(value=True), payload=zeros(27182))
    with peer.channel() as channel:
        expect_failure(
            "StreamingInputCall[{expect_compressed:true, payload 27182}] sent uncompressed (probe)",
            partial(stub(channel).StreamingInputCall, iter([probe]), timeout=peer.timeout),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    raise CaseFailure(CLIENT_COMPRESSED_STREAMING)


@case
def server_streaming(peer: Peer) -> None:
    sizes = (31415, 9, 2653, 58979)
    label = "StreamingOutputCall{response_parameters sizes 31415, 9, 2653, 58979}"
    with peer.channel() as channel:
        call = partial(stub(channel).StreamingOutputCall, output_request(*sizes), timeout=peer.timeout)
        expect_responses(label, succeeds(label, lambda: list(call())), sizes)


@case
def server_compressed_streaming(peer: Peer) -> None:
    label = "StreamingOutputCall{response_parameters [{size:31415, compressed:true}, {size:92653, compressed:false}]}"
    request = StreamingOutputCallRequest(
        response_type=COMPRESSABLE,
        response_parameters=[
            ResponseParameters(size=31415, compressed=BoolValue(value=True)),
            ResponseParameters(size=92653, compressed=BoolValue(value=False)),
        ],
    )
    with peer.channel(options=[KEEP_COMPRESSED_OPTION]) as channel:
        streaming_output_call = channel.unary_stream(
            TEST_SERVICE + "StreamingOutputCall",
            request_serializer=StreamingOutputCallRequest.SerializeToString,
            response_deserializer=receiving(StreamingOutputCallResponse.FromString),
        )
        received = succeeds(label, lambda: list(streaming_output_call(request, timeout=peer.timeout)))
        expect_responses(label, [item.message for item in received], (31415, 92653))
        for index, (item, compressed) in enumerate(zip(received, (True, False), strict=True)):
            expect_compression(f"{label}, response {index + 1}", compressed, item)


@case
def ping_pong(peer: Peer) -> None:
    with peer.channel() as channel, full_duplex(channel, peer.timeout) as (outbox, responses):
        for size, body in PING_PONG:
            ping(outbox, responses, size, body)
        outbox.put(None)
        expect_end("FullDuplexCall: after half-close", responses)


@case
def empty_stream(peer: Peer) -> None:
    with peer.channel() as channel:
        responses = stub(channel).FullDuplexCall(iter(()), timeout=peer.timeout)
        expect_end("FullDuplexCall half-closed at once", responses)


def _expect_cancelled(label: str, code: grpc.StatusCode, details: str | None) -> None:
    if code != grpc.StatusCode.CANCELLED:
        shown = f": {show(details)}" if details else ""
        raise CaseFailure(f"{label}: expected status CANCELLED, got status {code.name}{shown}")


@case
def cancel_after_begin(peer: Peer) -> None:
    outbox: queue.Queue[messages_pb2.StreamingInputCallRequest | None] = queue.Queue()
    with peer.channel() as channel:
        future = stub(channel).StreamingInputCall.future(iter(outbox.get, None), timeout=peer.timeout)
        try:
            if peer.no_cancel:
                outbox.put(None)  # half-close instead of cancelling
            else:
                future.cancel()
            _expect_cancelled("StreamingInputCall cancelled before sending anything", future.code(), future.details())
        finally:
            outbox.put(None)
            future.cancel()


@case
def cancel_after_first_response(peer: Peer) -> None:
    outbox: Outbox = queue.Queue()
    with peer.channel() as channel:
        responses = stub(channel).FullDuplexCall(iter(outbox.get, None), timeout=peer.timeout)
        try:
            ping(outbox, responses, 31415, 27182)
            if peer.no_cancel:
                outbox.put(None)  # half-close instead of cancelling, and let the call end
                for _ in iter(partial(next, responses, None), None):
                    pass
            else:
                responses.cancel()
        except grpc.RpcError:
            pass  # the call ended while draining: its status is checked below
        finally:
            outbox.put(None)
        _expect_cancelled("FullDuplexCall cancelled after the first response", responses.code(), responses.details())
        responses.cancel()


@case
def timeout_on_sleeping_server(peer: Peer) -> None:
    label = "FullDuplexCall with a 1 ms deadline, sending {response_parameters [{size:31415}], payload 27182}"
    outbox: Outbox = queue.Queue()
    outbox.put(output_request(31415, body=27182))
    timeout = 0.001
    if peer.no_cancel:
        outbox.put(None)  # half-close after the request, with the normal deadline
        timeout = peer.timeout
    with peer.channel() as channel:
        responses = stub(channel).FullDuplexCall(iter(outbox.get, None), timeout=timeout)
        try:
            received = list(responses)
        except grpc.RpcError as error:
            if cast(grpc.Call, error).code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return
            raise CaseFailure(f"{label}: expected status DEADLINE_EXCEEDED, got {status_text(error)}") from None
        finally:
            outbox.put(None)
            responses.cancel()
        raise CaseFailure(f"{label}: expected status DEADLINE_EXCEEDED, got status OK after {len(received)} responses")


@case
def custom_metadata(peer: Peer) -> None:
    metadata = (ECHO_INITIAL, ECHO_TRAILING)
    with peer.channel() as channel:
        test_service = stub(channel)
        label = "UnaryCall{response_size:314159, payload 271828} with echo metadata"
        unary = partial(test_service.UnaryCall.with_call, large_request(), metadata=metadata, timeout=peer.timeout)
        reply, call = succeeds(label, unary)
        expect_payload(label, reply, 314159)
        expect_echoed(label, call.initial_metadata(), call.trailing_metadata())

        label = "FullDuplexCall{response_parameters [{size:314159}], payload 271828} with echo metadata, half-closed"
        request = output_request(314159, body=271828)
        responses = test_service.FullDuplexCall(iter([request]), metadata=metadata, timeout=peer.timeout)
        expect_responses(label, succeeds(label, partial(list, responses)), (314159,))
        expect_echoed(label, responses.initial_metadata(), responses.trailing_metadata())


def response_status(code: grpc.StatusCode, message: str) -> tuple[messages_pb2.EchoStatus, str]:
    """EchoStatus{code, message}, and how failure messages show it."""
    number = code.value[0]
    shown = f"response_status:{{code:{number}, message:{show(message)}}}"
    return messages_pb2.EchoStatus(code=number, message=message), shown


def expect_echoed_status(peer: Peer, code: grpc.StatusCode, message: str, over_duplex: bool) -> None:
    """UnaryCall{response_status:{code, message}} (then, over_duplex, the same as one FullDuplexCall
    request and half-close) → exactly that code and message."""
    status, shown = response_status(code, message)
    with peer.channel() as channel:
        test_service = stub(channel)
        unary = partial(test_service.UnaryCall, SimpleRequest(response_status=status), timeout=peer.timeout)
        expect_failure(f"UnaryCall{{{shown}}}", unary, code, message)
        if over_duplex:
            request = StreamingOutputCallRequest(response_status=status)

            def duplex() -> list[Any]:
                return list(test_service.FullDuplexCall(iter([request]), timeout=peer.timeout))

            expect_failure(f"FullDuplexCall{{{shown}}}, then half-close", duplex, code, message)


@case
def status_code_and_message(peer: Peer) -> None:
    expect_echoed_status(peer, grpc.StatusCode.UNKNOWN, STATUS_MESSAGE, over_duplex=True)


@case
def special_status_message(peer: Peer) -> None:
    expect_echoed_status(peer, grpc.StatusCode.UNKNOWN, SPECIAL_STATUS_MESSAGE, over_duplex=False)


@case
def unimplemented_method(peer: Peer) -> None:
    with peer.channel() as channel:
        call = partial(stub(channel).UnimplementedCall, empty_pb2.Empty(), timeout=peer.timeout)
        expect_failure("TestService/UnimplementedCall{}", call, grpc.StatusCode.UNIMPLEMENTED)


@case
def unimplemented_service(peer: Peer) -> None:
    with peer.channel() as channel:
        unimplemented = test_pb2_grpc.UnimplementedServiceStub(channel).UnimplementedCall
        call = partial(unimplemented, empty_pb2.Empty(), timeout=peer.timeout)
        expect_failure("UnimplementedService/UnimplementedCall{}", call, grpc.StatusCode.UNIMPLEMENTED)
