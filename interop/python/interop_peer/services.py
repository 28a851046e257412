"""Servicers of the seed services (SPEC §1.1 and §1.2), with the self-test faults wired in."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Iterator
from types import ModuleType

import grpc

from . import logic
from .faults import Fault, Faults
from .protos import (
    compute_pb2,
    compute_pb2_grpc,
    hello_world_service_pb2,
    hello_world_service_pb2_grpc,
    helloworld_pb2,
    helloworld_pb2_grpc,
    panda_pb2,
    panda_pb2_grpc,
    streaming_pb2,
    streaming_pb2_grpc,
    test_server_pb2,
    test_server_pb2_grpc,
    user_recommend_pb2,
    user_recommend_pb2_grpc,
)

Article = user_recommend_pb2.UserResponse.Article


class Greeter(helloworld_pb2_grpc.GreeterServicer):
    def __init__(self, faults: Faults) -> None:
        self._faults = faults
        self._calls = itertools.count(1)
        self._lock = threading.Lock()

    def SayHello(
        self, request: helloworld_pb2.HelloRequest, context: grpc.ServicerContext
    ) -> helloworld_pb2.HelloReply:
        with self._lock:
            call_number = next(self._calls)
        if logic.is_every_10th(call_number, self._faults):
            context.abort(grpc.StatusCode.UNAVAILABLE, f"fault: call {call_number} is a 10th call")
        return helloworld_pb2.HelloReply(message=logic.greeter_say_hello(request.name, self._faults))

    def SayHelloAgain(
        self, request: helloworld_pb2.HelloRequest, context: grpc.ServicerContext
    ) -> helloworld_pb2.HelloReply:
        return helloworld_pb2.HelloReply(message=logic.greeter_say_hello_again(request.name, self._faults))


class HelloWorldService(hello_world_service_pb2_grpc.HelloWorldServiceServicer):
    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def SayHello(
        self, request: hello_world_service_pb2.HelloRequest, context: grpc.ServicerContext
    ) -> hello_world_service_pb2.HelloReply:
        return hello_world_service_pb2.HelloReply(message=logic.hello_world_service(request.name, self._faults))


class Compute(compute_pb2_grpc.ComputeServicer):
    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def SayHello(self, request: compute_pb2.HelloRequest, context: grpc.ServicerContext) -> compute_pb2.HelloReply:
        return compute_pb2.HelloReply(result=logic.text_length(request.helloworld, self._faults))


class UserRecommend(user_recommend_pb2_grpc.UserRecommendServicer):
    def __init__(self, faults: Faults) -> None:
        self._track = Article.Track(click="click param", collect="collect param", read="read param")
        if Fault.RECOMMEND_SHARE_SET in faults:
            self._track.share = "share param"
        self._faults = faults

    def UserRecommend(
        self, request: user_recommend_pb2.UserRequest, context: grpc.ServicerContext
    ) -> user_recommend_pb2.UserResponse:
        try:
            count = logic.article_count(request.article_num, self._faults)
        except logic.InvalidArgument as err:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        return user_recommend_pb2.UserResponse(
            exposer="exposure",
            time_stamp=time.time_ns() // 1_000_000,
            recommends=[Article(article_id=i + 1, track=self._track) for i in range(count)],
        )


class TestServer(test_server_pb2_grpc.TestServerServicer):
    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def GetRandom(self, request: test_server_pb2.Request, context: grpc.ServicerContext) -> test_server_pb2.Response:
        return test_server_pb2.Response(random=logic.random_value(self._faults), id=request.id)


class Panda(panda_pb2_grpc.PandaServicer):
    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def Getinfo(self, request: panda_pb2.GetinfoRequest, context: grpc.ServicerContext) -> panda_pb2.GetinfoReply:
        try:
            return panda_pb2.GetinfoReply(reply=logic.panda_next(request.arg, self._faults))
        except logic.Overflow as err:
            context.abort(grpc.StatusCode.OUT_OF_RANGE, str(err))


class StreamingGreeter(streaming_pb2_grpc.StreamingGreeterServicer):
    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def LotsOfReplies(
        self, request: streaming_pb2.HelloStreamRequest, context: grpc.ServicerContext
    ) -> Iterator[helloworld_pb2.HelloReply]:
        try:
            count = logic.reply_count(request.count, self._faults)
        except logic.InvalidArgument as err:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        for index in range(1, count + 1):
            yield helloworld_pb2.HelloReply(message=logic.numbered_greeting(request.name, index))

    def LotsOfGreetings(
        self, request_iterator: Iterable[helloworld_pb2.HelloRequest], context: grpc.ServicerContext
    ) -> helloworld_pb2.HelloReply:
        names = [request.name for request in request_iterator]
        return helloworld_pb2.HelloReply(message=logic.greetings(names, self._faults))

    def BidiHello(
        self, request_iterator: Iterable[helloworld_pb2.HelloRequest], context: grpc.ServicerContext
    ) -> Iterator[helloworld_pb2.HelloReply]:
        replies: Iterator[helloworld_pb2.HelloReply] = (
            helloworld_pb2.HelloReply(message=logic.greeting(request.name)) for request in request_iterator
        )
        if Fault.BIDI_BUFFERED in self._faults:
            replies = iter(list(replies))  # read until half-close, then send everything
        yield from replies


def register(server: grpc.Server, pb2: ModuleType, pb2_grpc: ModuleType, service: str, servicer: object) -> str:
    """Adds servicer as `service` of pb2 (via the generated add_*Servicer_to_server); returns its full name."""
    getattr(pb2_grpc, f"add_{service}Servicer_to_server")(servicer, server)
    return str(pb2.DESCRIPTOR.services_by_name[service].full_name)


def add_seed_services(server: grpc.Server, faults: Faults) -> list[str]:
    """Registers every seed service; returns their full names."""
    return [
        register(server, helloworld_pb2, helloworld_pb2_grpc, "Greeter", Greeter(faults)),
        register(
            server,
            hello_world_service_pb2,
            hello_world_service_pb2_grpc,
            "HelloWorldService",
            HelloWorldService(faults),
        ),
        register(server, compute_pb2, compute_pb2_grpc, "Compute", Compute(faults)),
        register(server, user_recommend_pb2, user_recommend_pb2_grpc, "UserRecommend", UserRecommend(faults)),
        register(server, test_server_pb2, test_server_pb2_grpc, "TestServer", TestServer(faults)),
        register(server, panda_pb2, panda_pb2_grpc, "Panda", Panda(faults)),
        register(server, streaming_pb2, streaming_pb2_grpc, "StreamingGreeter", StreamingGreeter(faults)),
    ]
