"""grpc.testing.TestService (docs/peer-contract.md, "TestService behaviour"), with the testing-* faults.

The handlers are registered by hand rather than through the generated servicer so that their
requests arrive as compression.Received: the server runs with gRPC core's per-message
decompression off, and each request tells whether it arrived compressed (for expect_compressed).
Responses are compressed per message with grpcio's ServicerContext.set_compression (the call's
algorithm, chosen before the response headers go out) and disable_next_message_compression.

UnimplementedCall and grpc.testing.UnimplementedService stay unregistered (UNIMPLEMENTED), unless
the testing-implement-everything fault is on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

import grpc

from .compression import Received, receiving
from .faults import Fault, Faults
from .protos import empty_pb2, messages_pb2, test_pb2

SERVICE = test_pb2.DESCRIPTOR.services_by_name["TestService"].full_name
UNIMPLEMENTED_SERVICE = test_pb2.DESCRIPTOR.services_by_name["UnimplementedService"].full_name
ECHO_INITIAL = "x-grpc-test-echo-initial"
ECHO_TRAILING = "x-grpc-test-echo-trailing-bin"
MAX_RESPONSE_SIZE = 4 * 1024 * 1024

_STATUS_BY_CODE = {status.value[0]: status for status in grpc.StatusCode}

SimpleRequest = messages_pb2.SimpleRequest
StreamingOutputCallRequest = messages_pb2.StreamingOutputCallRequest
StreamingOutputCallResponse = messages_pb2.StreamingOutputCallResponse


def payload(size: int) -> messages_pb2.Payload:
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=bytes(size))


def status_message(message: str, faults: Faults) -> str:
    """The response_status message as sent back (trimmed under testing-status-message-trimmed)."""
    return message.strip() if Fault.TESTING_STATUS_MESSAGE_TRIMMED in faults else message


def aggregated_size(sizes: Iterable[int], faults: Faults) -> int:
    return sum(sizes) + (1 if Fault.TESTING_AGGREGATE_OFF in faults else 0)


def unary_response_size(size: int, faults: Faults) -> int:
    return max(size - 1, 0) if Fault.TESTING_EMPTY_PAYLOAD in faults else size


def sent_parameters(
    parameters: list[messages_pb2.ResponseParameters], faults: Faults, drop_last: bool
) -> list[messages_pb2.ResponseParameters]:
    """The response parameters answered; testing-stream-drop-last leaves out the last of two or more."""
    if drop_last and Fault.TESTING_STREAM_DROP_LAST in faults and len(parameters) >= 2:
        return parameters[:-1]
    return parameters


def wait_us(interval_us: int, faults: Faults, ignorable: bool) -> int:
    """How long to wait before a response; testing-interval-ignored does not wait at all."""
    return 0 if ignorable and Fault.TESTING_INTERVAL_IGNORED in faults else interval_us


def echoed_code(code: grpc.StatusCode, faults: Faults) -> grpc.StatusCode:
    """The code a response_status ends the call with; testing-status-unknown makes every one UNKNOWN."""
    return grpc.StatusCode.UNKNOWN if Fault.TESTING_STATUS_UNKNOWN in faults else code


class _Call:
    """One call's context plus the steps every TestService method shares."""

    def __init__(self, context: grpc.ServicerContext, faults: Faults) -> None:
        self.context = context
        self.faults = faults
        self._ended = threading.Event()
        if not context.add_callback(self._ended.set):
            self._ended.set()

    def start(self, compress_responses: bool) -> None:
        """Chooses the response compression, then sends the headers, echoing the metadata asked for.

        grpcio announces the call's compression in the response headers, so set_compression must
        come before anything is sent.
        """
        if compress_responses:
            self.context.set_compression(grpc.Compression.Gzip)
        if Fault.TESTING_NO_ECHO_METADATA in self.faults:
            return
        metadata = self.context.invocation_metadata() or ()
        initial = [(key, value) for key, value in metadata if key == ECHO_INITIAL]
        trailing = [(key, value) for key, value in metadata if key == ECHO_TRAILING]
        if trailing:
            self.context.set_trailing_metadata(tuple(trailing))
        if initial:
            self.context.send_initial_metadata(tuple(initial))

    def fail(self, code: grpc.StatusCode, message: str) -> None:
        self.context.abort(code, message)

    def check_compression(self, received: Received[Any], expect: messages_pb2.BoolValue, is_set: bool) -> None:
        if not is_set or Fault.TESTING_COMPRESSION_UNCHECKED in self.faults:
            return
        if expect.value and not received.compressed:
            self.fail(grpc.StatusCode.INVALID_ARGUMENT, "expect_compressed is true, the request arrived uncompressed")
        if not expect.value and received.compressed:
            self.fail(grpc.StatusCode.INVALID_ARGUMENT, "expect_compressed is false, the request arrived compressed")

    def check_response_type(self, response_type: int) -> None:
        if response_type != messages_pb2.COMPRESSABLE:
            self.fail(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"response_type {response_type} is not supported (only COMPRESSABLE)",
            )

    def check_size(self, size: int) -> None:
        if not 0 <= size <= MAX_RESPONSE_SIZE:
            self.fail(grpc.StatusCode.INVALID_ARGUMENT, f"response size {size} is outside 0..{MAX_RESPONSE_SIZE}")

    def end_with(self, status: messages_pb2.EchoStatus, is_set: bool) -> None:
        """Ends the call with response_status when it is set with a non-zero code."""
        if not is_set or status.code == 0 or Fault.TESTING_STATUS_IGNORED in self.faults:
            return
        code = _STATUS_BY_CODE.get(status.code)
        message = status_message(status.message, self.faults)
        if code is None:
            code, message = grpc.StatusCode.UNKNOWN, f"(response_status code {status.code}) {message}"
        self.fail(echoed_code(code, self.faults), message)

    def sleep(self, interval_us: int) -> bool:
        """Waits interval_us microseconds; False when the call ended meanwhile."""
        if interval_us > 0:
            self._ended.wait(interval_us / 1_000_000)
        return not self._ended.is_set()

    def responses(self, request: StreamingOutputCallRequest, method: str) -> Iterator[StreamingOutputCallResponse]:
        """The responses StreamingOutputCall gives for one request of `method`, then its response_status."""
        self.check_response_type(request.response_type)
        # testing-stream-drop-last and testing-interval-ignored alter these two, not HalfDuplexCall.
        altered = method in ("StreamingOutputCall", "FullDuplexCall")
        for parameters in sent_parameters(list(request.response_parameters), self.faults, drop_last=altered):
            self.check_size(parameters.size)
            if not self.sleep(wait_us(parameters.interval_us, self.faults, ignorable=altered)):
                return
            if not parameters.compressed.value:
                self.context.disable_next_message_compression()
            yield StreamingOutputCallResponse(payload=payload(parameters.size))
        status_ignored = method == "StreamingOutputCall" and Fault.TESTING_STREAM_STATUS_OK in self.faults
        self.end_with(request.response_status, request.HasField("response_status") and not status_ignored)


class TestService:
    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def EmptyCall(self, received: Received[empty_pb2.Empty], context: grpc.ServicerContext) -> empty_pb2.Empty:
        call = _Call(context, self._faults)
        call.start(compress_responses=False)
        if Fault.TESTING_EMPTY_CALL_ERROR in self._faults:
            call.fail(grpc.StatusCode.INTERNAL, "fault: EmptyCall fails")
        return empty_pb2.Empty()

    def UnaryCall(
        self, received: Received[messages_pb2.SimpleRequest], context: grpc.ServicerContext
    ) -> messages_pb2.SimpleResponse:
        request = received.message
        call = _Call(context, self._faults)
        call.start(compress_responses=request.response_compressed.value)
        call.check_compression(received, request.expect_compressed, request.HasField("expect_compressed"))
        call.check_response_type(request.response_type)
        call.check_size(request.response_size)
        call.end_with(request.response_status, request.HasField("response_status"))
        return messages_pb2.SimpleResponse(payload=payload(unary_response_size(request.response_size, self._faults)))

    def StreamingOutputCall(
        self, received: Received[StreamingOutputCallRequest], context: grpc.ServicerContext
    ) -> Iterator[StreamingOutputCallResponse]:
        request = received.message
        call = _Call(context, self._faults)
        call.start(compress_responses=any(p.compressed.value for p in request.response_parameters))
        yield from call.responses(request, "StreamingOutputCall")

    def StreamingInputCall(
        self, requests: Iterable[Received[messages_pb2.StreamingInputCallRequest]], context: grpc.ServicerContext
    ) -> messages_pb2.StreamingInputCallResponse:
        call = _Call(context, self._faults)
        call.start(compress_responses=False)
        sizes = []
        for received in requests:
            request = received.message
            call.check_compression(received, request.expect_compressed, request.HasField("expect_compressed"))
            sizes.append(len(request.payload.body))
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=aggregated_size(sizes, self._faults))

    def FullDuplexCall(
        self, requests: Iterable[Received[StreamingOutputCallRequest]], context: grpc.ServicerContext
    ) -> Iterator[StreamingOutputCallResponse]:
        call = _Call(context, self._faults)
        # Any request may ask for compressed responses: the call's algorithm is gzip, and every
        # response not asked to be compressed is sent with compression disabled.
        call.start(compress_responses=True)
        if Fault.TESTING_DUPLEX_BUFFERED in self._faults:
            requests = list(requests)  # answers nothing until the client half-closes
        for received in requests:
            yield from call.responses(received.message, "FullDuplexCall")
        if Fault.TESTING_DUPLEX_EXTRA in self._faults:
            context.disable_next_message_compression()
            yield StreamingOutputCallResponse()

    def HalfDuplexCall(
        self, requests: Iterable[Received[StreamingOutputCallRequest]], context: grpc.ServicerContext
    ) -> Iterator[StreamingOutputCallResponse]:
        call = _Call(context, self._faults)
        call.start(compress_responses=True)
        for received in list(requests):  # buffered until the client half-closes
            yield from call.responses(received.message, "HalfDuplexCall")

    def UnimplementedCall(self, received: Received[empty_pb2.Empty], context: grpc.ServicerContext) -> empty_pb2.Empty:
        """Only registered under testing-implement-everything."""
        _Call(context, self._faults).start(compress_responses=False)
        return empty_pb2.Empty()


def _unary(behaviour: Any, request: Any, response: Any) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(
        behaviour, request_deserializer=receiving(request.FromString), response_serializer=response.SerializeToString
    )


def add_testing_services(server: grpc.Server, faults: Faults) -> list[str]:
    """Registers grpc.testing.TestService; returns the names Health reports as served."""
    service = TestService(faults)
    output_request = receiving(StreamingOutputCallRequest.FromString)
    output_response = StreamingOutputCallResponse.SerializeToString
    handlers = {
        "EmptyCall": _unary(service.EmptyCall, empty_pb2.Empty, empty_pb2.Empty),
        "UnaryCall": _unary(service.UnaryCall, messages_pb2.SimpleRequest, messages_pb2.SimpleResponse),
        "StreamingOutputCall": grpc.unary_stream_rpc_method_handler(
            service.StreamingOutputCall, request_deserializer=output_request, response_serializer=output_response
        ),
        "StreamingInputCall": grpc.stream_unary_rpc_method_handler(
            service.StreamingInputCall,
            request_deserializer=receiving(messages_pb2.StreamingInputCallRequest.FromString),
            response_serializer=messages_pb2.StreamingInputCallResponse.SerializeToString,
        ),
        "FullDuplexCall": grpc.stream_stream_rpc_method_handler(
            service.FullDuplexCall, request_deserializer=output_request, response_serializer=output_response
        ),
        "HalfDuplexCall": grpc.stream_stream_rpc_method_handler(
            service.HalfDuplexCall, request_deserializer=output_request, response_serializer=output_response
        ),
    }
    generic = []
    if Fault.TESTING_IMPLEMENT_EVERYTHING in faults:
        unimplemented = _unary(service.UnimplementedCall, empty_pb2.Empty, empty_pb2.Empty)
        handlers["UnimplementedCall"] = unimplemented
        only = {"UnimplementedCall": unimplemented}
        generic.append(grpc.method_handlers_generic_handler(UNIMPLEMENTED_SERVICE, only))
    generic.append(grpc.method_handlers_generic_handler(SERVICE, handlers))
    server.add_generic_rpc_handlers(tuple(generic))
    return [SERVICE]
