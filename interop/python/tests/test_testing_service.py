"""grpc.testing.TestService behaviour the cases do not pin down on their own, checked over the wire."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from peers import RunningServer

from interop_peer.compression import KEEP_COMPRESSED_OPTION, receiving
from interop_peer.protos import (
    empty_pb2,
    helloworld_pb2,
    helloworld_pb2_grpc,
    messages_pb2,
    streaming_pb2_grpc,
    test_pb2_grpc,
)

GZIP = grpc.Compression.Gzip
BoolValue = messages_pb2.BoolValue
ResponseParameters = messages_pb2.ResponseParameters
StreamingInputCallRequest = messages_pb2.StreamingInputCallRequest
StreamingOutputCallRequest = messages_pb2.StreamingOutputCallRequest
StreamingOutputCallResponse = messages_pb2.StreamingOutputCallResponse


def zeros(size: int) -> messages_pb2.Payload:
    return messages_pb2.Payload(body=bytes(size))


@pytest.fixture
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}", options=[("grpc.enable_http_proxy", 0)]) as channel:
        yield channel


@pytest.fixture
def stub(channel: grpc.Channel) -> test_pb2_grpc.TestServiceStub:
    return test_pb2_grpc.TestServiceStub(channel)


def failure(invoke: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        invoke()
    return error.value


def test_interval_us_is_in_microseconds(stub: test_pb2_grpc.TestServiceStub) -> None:
    quick = StreamingOutputCallRequest(response_parameters=[ResponseParameters(size=1, interval_us=1000)] * 20)
    started = time.monotonic()
    assert len(list(stub.StreamingOutputCall(quick, timeout=5))) == 20
    assert time.monotonic() - started < 1.0  # 20 × 1 ms (20 s if it were milliseconds)
    slow = StreamingOutputCallRequest(response_parameters=[ResponseParameters(size=1, interval_us=300_000)])
    started = time.monotonic()
    assert len(list(stub.StreamingOutputCall(slow, timeout=5))) == 1
    assert 0.3 <= time.monotonic() - started < 2.0


def test_half_duplex_answers_only_after_half_close(stub: test_pb2_grpc.TestServiceStub) -> None:
    outbox: queue.Queue[StreamingOutputCallRequest | None] = queue.Queue()
    responses = stub.HalfDuplexCall(iter(outbox.get, None), timeout=5)
    received: list[int] = []
    reader = threading.Thread(target=lambda: received.extend(len(r.payload.body) for r in responses))
    reader.start()
    try:
        for size in (3, 1, 2):
            outbox.put(StreamingOutputCallRequest(response_parameters=[ResponseParameters(size=size)]))
        time.sleep(0.3)
        assert received == []
    finally:
        outbox.put(None)
        reader.join(5)
    assert received == [3, 1, 2]


def test_unsupported_response_type_is_invalid_argument(stub: test_pb2_grpc.TestServiceStub) -> None:
    error = failure(lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_type=1, response_size=1), timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "response_type" in error.details()
    request = StreamingOutputCallRequest(response_type=2, response_parameters=[ResponseParameters(size=1)])
    error = failure(lambda: list(stub.StreamingOutputCall(request, timeout=5)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_metadata_is_echoed_on_every_method(stub: test_pb2_grpc.TestServiceStub) -> None:
    metadata = (("x-grpc-test-echo-initial", "v"), ("x-grpc-test-echo-trailing-bin", b"\x00\xff"))
    _, call = stub.EmptyCall.with_call(empty_pb2.Empty(), metadata=metadata, timeout=5)
    assert ("x-grpc-test-echo-initial", "v") in call.initial_metadata()
    assert ("x-grpc-test-echo-trailing-bin", b"\x00\xff") in call.trailing_metadata()
    _, call = stub.StreamingInputCall.with_call(iter(()), metadata=metadata, timeout=5)
    assert ("x-grpc-test-echo-initial", "v") in call.initial_metadata()
    error = failure(
        lambda: stub.UnaryCall(
            messages_pb2.SimpleRequest(response_status=messages_pb2.EchoStatus(code=5, message="m")),
            metadata=metadata,
            timeout=5,
        )
    )
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "m")
    assert ("x-grpc-test-echo-trailing-bin", b"\x00\xff") in error.trailing_metadata()


def test_response_status_code_0_is_ok_and_streaming_output_ends_with_the_status(
    stub: test_pb2_grpc.TestServiceStub,
) -> None:
    ok = messages_pb2.SimpleRequest(response_size=2, response_status=messages_pb2.EchoStatus(code=0, message="x"))
    assert len(stub.UnaryCall(ok, timeout=5).payload.body) == 2
    request = StreamingOutputCallRequest(
        response_parameters=[ResponseParameters(size=1)] * 2,
        response_status=messages_pb2.EchoStatus(code=9, message="s"),
    )
    responses = stub.StreamingOutputCall(request, timeout=5)
    assert [len(r.payload.body) for r in (next(responses), next(responses))] == [1, 1]
    error = failure(lambda: next(responses))
    assert (error.code(), error.details()) == (grpc.StatusCode.FAILED_PRECONDITION, "s")


def test_expect_compressed_is_checked_per_message(stub: test_pb2_grpc.TestServiceStub) -> None:
    unary = messages_pb2.SimpleRequest(response_size=1, expect_compressed=BoolValue(value=False), payload=zeros(1000))
    error = failure(lambda: stub.UnaryCall(unary, timeout=5, compression=GZIP))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "arrived compressed" in error.details()

    def streaming_input(*expects: bool, compression: grpc.Compression | None) -> int:
        requests = [
            StreamingInputCallRequest(expect_compressed=BoolValue(value=e), payload=zeros(1000)) for e in expects
        ]
        return stub.StreamingInputCall(iter(requests), timeout=5, compression=compression).aggregated_payload_size

    assert streaming_input(True, True, compression=GZIP) == 2000
    assert streaming_input(False, False, compression=None) == 2000
    for expects in ((True, False), (False, True)):
        compression = GZIP if expects[0] else None
        error = failure(lambda: streaming_input(*expects, compression=compression))  # noqa: B023
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, expects


def test_full_duplex_compresses_each_response_as_asked(server: RunningServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}", options=[KEEP_COMPRESSED_OPTION]) as channel:
        full_duplex = channel.stream_stream(
            "/grpc.testing.TestService/FullDuplexCall",
            request_serializer=StreamingOutputCallRequest.SerializeToString,
            response_deserializer=receiving(StreamingOutputCallResponse.FromString),
        )
        flags = (True, False, False, True)
        parameters = [ResponseParameters(size=5000, compressed=BoolValue(value=flag)) for flag in flags]
        requests = [StreamingOutputCallRequest(response_parameters=[each]) for each in parameters]
        received = list(full_duplex(iter(requests), timeout=5))
    assert [item.compressed for item in received] == list(flags)
    assert [len(item.message.payload.body) for item in received] == [5000] * 4


def test_the_seed_services_accept_compressed_requests(channel: grpc.Channel) -> None:
    reply = helloworld_pb2_grpc.GreeterStub(channel).SayHello(
        helloworld_pb2.HelloRequest(name="x" * 1000), timeout=5, compression=GZIP
    )
    assert reply.message == f"Hello, {'x' * 1000}!"
    greetings = streaming_pb2_grpc.StreamingGreeterStub(channel).LotsOfGreetings
    requests = [helloworld_pb2.HelloRequest(name=name * 100) for name in "abc"]
    reply = greetings(iter(requests), timeout=5, compression=GZIP)
    assert reply.message == f"Hello, {'a' * 100}, {'b' * 100}, {'c' * 100}!"
