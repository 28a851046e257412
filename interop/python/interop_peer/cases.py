"""The `seeds` suite's cases, with the exact checks of docs/peer-contract.md (one function each).
The other suites' cases (testing_cases.py, edges_cases.py, security_cases.py, discovery_cases.py,
netrpc_cases.py) register in the same CASES.

A case returns when every check passed and raises CaseFailure otherwise. It may return what the
library gave it for the runner to judge (Observed, the result line's "observed"; server_info_version),
else None. Every RPC carries the peer's deadline (a stream's deadline covers the whole stream).
"""

from __future__ import annotations

import queue
import socket
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

import grpc
from google.protobuf import empty_pb2
from google.protobuf.message import Message

from .checks import CaseFailure, call_label, expect_equal, expect_failure, expect_items, expect_status, show, succeeds
from .protos import (
    compute_pb2,
    compute_pb2_grpc,
    health_pb2,
    health_pb2_grpc,
    hello_world_service_pb2,
    hello_world_service_pb2_grpc,
    helloworld_pb2,
    helloworld_pb2_grpc,
    panda_pb2,
    panda_pb2_grpc,
    server_info_pb2_grpc,
    streaming_pb2,
    streaming_pb2_grpc,
    test_server_pb2,
    test_server_pb2_grpc,
    user_recommend_pb2,
    user_recommend_pb2_grpc,
)

ChannelOptions = Sequence[tuple[str, Any]]
# The suite only dials loopback: never route it through a proxy named in the environment.
_BASE_OPTIONS: ChannelOptions = (("grpc.enable_http_proxy", 0),)


@dataclass(frozen=True)
class Peer:
    """The server under test, how to reach it (TLS or not) and the per-RPC deadline."""

    host: str
    port: int
    timeout: float
    credentials: grpc.ChannelCredentials | None = None  # None: insecure
    # The channel options naming the server: the TLS server name override (with credentials), an
    # instruction's channel.authority (scripted_executor.ChannelSpec.peer).
    tls_options: ChannelOptions = ()
    no_cancel: bool = False  # --client_fault=no-cancel (self-test only)
    # TLS without the client certificate (the security suite), or None for an insecure client.
    credentials_without_certificate: grpc.ChannelCredentials | None = None
    with_certificate: bool = False  # --client_fault=with-certificate (self-test only)
    no_checks: bool = False  # --client_fault=no-checks (self-test only): client_main.run_case ignores failed checks
    unix_socket: str | None = None  # --server_unix_socket: an instruction's channel.target may name it

    @property
    def target(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def channel(
        self, target: str | None = None, options: ChannelOptions = (), compression: grpc.Compression | None = None
    ) -> grpc.Channel:
        """A channel to the server with the transport flags' credentials and options, then `options`;
        compression: the channel's default request compression (grpcio's `compression=`)."""
        all_options = [*_BASE_OPTIONS, *self.tls_options, *options]
        if self.credentials is None:
            return grpc.insecure_channel(target or self.target, options=all_options, compression=compression)
        return grpc.secure_channel(target or self.target, self.credentials, options=all_options, compression=compression)

    def rpc(self, name: str, method: Callable[..., Any]) -> UnaryRpc:
        return UnaryRpc(name, method, self.timeout)


@dataclass(frozen=True)
class UnaryRpc:
    """A unary method of a stub, named for failure messages, called with the peer's deadline."""

    name: str
    method: Callable[..., Any]
    timeout: float

    def call(self, request: Message) -> tuple[str, Any]:
        """Calls the method, which must succeed; returns (label for failure messages, reply)."""
        label = call_label(self.name, request)
        return label, succeeds(label, partial(self.method, request, timeout=self.timeout))

    def expect(self, request: Message, field: str, expected: object) -> None:
        label, reply = self.call(request)
        expect_equal(label, expected, getattr(reply, field))

    def expect_status(self, request: Message, code: grpc.StatusCode, message_part: str) -> None:
        invoke = partial(self.method, request, timeout=self.timeout)
        expect_status(call_label(self.name, request), invoke, code, message_part)


Observed = dict[str, object]  # what the library gave a case, for the runner to judge
Case = Callable[[Peer], Observed | None]
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__] = function
    return function


def greet(say_hello: UnaryRpc, name: str) -> None:
    say_hello.expect(helloworld_pb2.HelloRequest(name=name), "message", f"Hello, {name}!")


@case
def greeter_say_hello(peer: Peer) -> None:
    with peer.channel() as channel:
        say_hello = peer.rpc("SayHello", helloworld_pb2_grpc.GreeterStub(channel).SayHello)
        for name in ("world", "世界🌏"):
            greet(say_hello, name)


@case
def greeter_say_hello_again(peer: Peer) -> None:
    with peer.channel() as channel:
        stub = helloworld_pb2_grpc.GreeterStub(channel)
        greet(peer.rpc("SayHello", stub.SayHello), "world")
        again = peer.rpc("SayHelloAgain", stub.SayHelloAgain)
        again.expect(helloworld_pb2.HelloRequest(name="world"), "message", "Hello again, world!")


@case
def helloworld_service(peer: Peer) -> None:
    with peer.channel() as channel:
        stub = hello_world_service_pb2_grpc.HelloWorldServiceStub(channel)
        say_hello = peer.rpc("HelloWorldService/SayHello", stub.SayHello)
        say_hello.expect(hello_world_service_pb2.HelloRequest(name="shen"), "message", "Hello, shen!")


@case
def compute_length(peer: Peer) -> None:
    with peer.channel() as channel:
        length = peer.rpc("Compute/SayHello", compute_pb2_grpc.ComputeStub(channel).SayHello)
        for text, expected in (("123456", "6"), ("你好😈", "3"), ("", "0")):
            length.expect(compute_pb2.HelloRequest(helloworld=text), "result", expected)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _expect_article_ids(label: str, reply: user_recommend_pb2.UserResponse, count: int) -> None:
    """Exactly `count` articles, article i (0-based) with article_id i + 1."""
    expect_equal(label, count, len(reply.recommends), what="number of articles")
    for index, article in enumerate(reply.recommends):
        expect_equal(label, index + 1, article.article_id, what=f"recommends[{index}].article_id")


def _expect_articles(label: str, reply: user_recommend_pb2.UserResponse, count: int) -> None:
    expect_equal(label, "exposure", reply.exposer, what="exposer")
    _expect_article_ids(label, reply, count)
    track = {"click": "click param", "collect": "collect param", "read": "read param", "share": ""}
    for index, article in enumerate(reply.recommends):
        for field, value in track.items():
            expect_equal(label, value, getattr(article.track, field), what=f"recommends[{index}].track.{field}")


def _recommend_request(article_num: int) -> user_recommend_pb2.UserRequest:
    return user_recommend_pb2.UserRequest(user_id=1, channel_id=1, article_num=article_num, time_stamp=_now_ms())


@case
def user_recommend(peer: Peer) -> None:
    with peer.channel() as channel:
        recommend = peer.rpc("UserRecommend", user_recommend_pb2_grpc.UserRecommendStub(channel).UserRecommend)
        label, reply = recommend.call(_recommend_request(10))
        skew = abs(reply.time_stamp - _now_ms())
        if skew > 300_000:
            raise CaseFailure(f"{label}: expected time_stamp within 300000 ms of now, got {reply.time_stamp}")
        _expect_articles(label, reply, 10)
        label, reply = recommend.call(_recommend_request(0))
        _expect_articles(label, reply, 0)
        for article_num in (-1, 1001):
            recommend.expect_status(_recommend_request(article_num), grpc.StatusCode.INVALID_ARGUMENT, "article_num")


@case
def random_get(peer: Peer) -> None:
    with peer.channel() as channel:
        get_random = peer.rpc("GetRandom", test_server_pb2_grpc.TestServerStub(channel).GetRandom)
        values = []
        for index in range(1, 21):
            label, reply = get_random.call(test_server_pb2.Request(id=f"req-{index}"))
            expect_equal(label, f"req-{index}", reply.id, what="id")
            if not 0 <= reply.random < 1000:
                raise CaseFailure(f"{label}: expected random in [0, 1000), got {reply.random}")
            values.append(reply.random)
        if len(set(values)) == 1:
            raise CaseFailure(f'GetRandom("req-1" … "req-20"): expected differing randoms, all 20 were {values[0]}')


@case
def panda_getinfo(peer: Peer) -> None:
    with peer.channel() as channel:
        getinfo = peer.rpc("Panda/Getinfo", panda_pb2_grpc.PandaStub(channel).Getinfo)
        for arg in (123, 9007199254740993, -(2**63)):
            getinfo.expect(panda_pb2.GetinfoRequest(arg=arg), "reply", arg + 1)
        getinfo.expect_status(panda_pb2.GetinfoRequest(arg=2**63 - 1), grpc.StatusCode.OUT_OF_RANGE, "overflow")


@dataclass(frozen=True)
class LotsOfReplies:
    """StreamingGreeter/LotsOfReplies on a channel, each stream read whole within the peer's deadline."""

    channel: grpc.Channel
    timeout: float

    def replies(self, request: streaming_pb2.HelloStreamRequest) -> list[str]:
        stub = streaming_pb2_grpc.StreamingGreeterStub(self.channel)
        return [reply.message for reply in stub.LotsOfReplies(request, timeout=self.timeout)]

    def expect_replies(self, name: str, count: int) -> None:
        """Exactly `Hello, {name}! #1` … `#{count}` in order, status OK."""
        request = streaming_pb2.HelloStreamRequest(name=name, count=count)
        label = call_label("LotsOfReplies", request)
        expected = [f"Hello, {name}! #{index}" for index in range(1, count + 1)]
        expect_items(label, expected, succeeds(label, partial(self.replies, request)), what="replies")

    def first_reply(self, request: streaming_pb2.HelloStreamRequest) -> str:
        """The stream's first reply; the call is then cancelled (its count was accepted)."""
        call = streaming_pb2_grpc.StreamingGreeterStub(self.channel).LotsOfReplies(request, timeout=self.timeout)
        try:
            return next(call).message
        except StopIteration:
            raise CaseFailure(f"{call_label('LotsOfReplies', request)}: the stream ended OK without a reply") from None
        finally:
            call.cancel()

    def expect_accepted(self, name: str, count: int) -> None:
        """The first reply is `Hello, {name}! #1` (the rest is not read: the call is cancelled)."""
        request = streaming_pb2.HelloStreamRequest(name=name, count=count)
        label = call_label("LotsOfReplies", request)
        expect_equal(label, f"Hello, {name}! #1", succeeds(label, partial(self.first_reply, request)), what="first reply")

    def expect_rejected(self, name: str, count: int) -> None:
        """INVALID_ARGUMENT whose message contains `count`."""
        request = streaming_pb2.HelloStreamRequest(name=name, count=count)
        invoke = partial(self.first_reply, request)
        expect_status(call_label("LotsOfReplies", request), invoke, grpc.StatusCode.INVALID_ARGUMENT, "count")


@case
def stream_server(peer: Peer) -> None:
    with peer.channel() as channel:
        lots_of_replies = LotsOfReplies(channel, peer.timeout)
        for count in (5, 0):
            lots_of_replies.expect_replies("a", count)
        lots_of_replies.expect_rejected("a", -5)


@case
def stream_client(peer: Peer) -> None:
    with peer.channel() as channel:
        lots_of_greetings = streaming_pb2_grpc.StreamingGreeterStub(channel).LotsOfGreetings
        for names, expected in ((["a", "b", "c"], "Hello, a, b, c!"), ([], "Hello, !")):
            label = f"LotsOfGreetings({show(names)})"
            requests = [helloworld_pb2.HelloRequest(name=name) for name in names]
            reply = succeeds(label, partial(lots_of_greetings, iter(requests), timeout=peer.timeout))
            expect_equal(label, expected, reply.message)


@case
def stream_bidi(peer: Peer) -> None:
    outbox: queue.Queue[helloworld_pb2.HelloRequest | None] = queue.Queue()  # None half-closes
    with peer.channel() as channel:
        stub = streaming_pb2_grpc.StreamingGreeterStub(channel)
        responses = stub.BidiHello(iter(outbox.get, None), timeout=peer.timeout)
        next_reply = partial(next, responses, None)
        try:
            for name in ("x", "y", "z"):
                label = f"BidiHello: after sending {show(name)}"
                outbox.put(helloworld_pb2.HelloRequest(name=name))
                reply = succeeds(label, next_reply)
                if reply is None:
                    raise CaseFailure(f"{label}: expected {show(f'Hello, {name}!')}, got the end of the stream")
                expect_equal(label, f"Hello, {name}!", reply.message)
            outbox.put(None)
            label = "BidiHello: after half-close"
            extra = succeeds(label, next_reply)
            if extra is not None:
                raise CaseFailure(f"{label}: expected the stream to end, got another reply {show(extra.message)}")
        finally:
            outbox.put(None)
            responses.cancel()


@case
def concurrent_unary(peer: Peer) -> None:
    with peer.channel() as channel:
        stub = helloworld_pb2_grpc.GreeterStub(channel)
        requests = [helloworld_pb2.HelloRequest(name=f"user-{index}") for index in range(100)]
        futures = [stub.SayHello.future(request, timeout=peer.timeout) for request in requests]
        problems = []
        for request, future in zip(requests, futures, strict=True):
            label = call_label("SayHello", request)
            try:
                expect_equal(label, f"Hello, {request.name}!", succeeds(label, future.result).message)
            except CaseFailure as failure:
                problems.append(str(failure))
        if problems:
            raise CaseFailure(f"{len(problems)} of 100 concurrent calls failed; first: {problems[0]}")


def _closed_port(host: str) -> int:
    """A port on host that nothing listens on (bound, noted, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@case
def multi_address_failover(peer: Peer) -> None:
    host = socket.gethostbyname(peer.host)  # the ipv4: scheme takes literal addresses
    target = f"ipv4:{host}:{_closed_port(host)},{host}:{peer.port}"
    with peer.channel(target) as channel:
        say_hello = peer.rpc(f"[{target}] SayHello", helloworld_pb2_grpc.GreeterStub(channel).SayHello)
        greet(say_hello, "failover")


@case
def reuseport_workers(peer: Peer) -> None:
    pids = set()
    with ExitStack() as stack:
        for index in range(1, 17):
            # A local subchannel pool: each channel opens its own connection.
            channel = stack.enter_context(peer.channel(options=[("grpc.use_local_subchannel_pool", 1)]))
            get_info = peer.rpc(
                f"[channel {index} of 16] GetInfo", server_info_pb2_grpc.ServerInfoStub(channel).GetInfo
            )
            pids.add(get_info.call(empty_pb2.Empty())[1].pid)
    if len(pids) < 2:
        raise CaseFailure(f"GetInfo on 16 channels: expected at least 2 distinct pids, got only {sorted(pids)}")


@case
def stream_server_max_count(peer: Peer) -> None:
    with peer.channel() as channel:
        lots_of_replies = LotsOfReplies(channel, peer.timeout)
        lots_of_replies.expect_accepted("m", 10000)
        lots_of_replies.expect_rejected("m", 10001)


@case
def user_recommend_max_articles(peer: Peer) -> None:
    with peer.channel() as channel:
        recommend = peer.rpc("UserRecommend", user_recommend_pb2_grpc.UserRecommendStub(channel).UserRecommend)
        label, reply = recommend.call(_recommend_request(1000))
        _expect_article_ids(label, reply, 1000)


def serving_status(status: int) -> str:
    """SERVING, NOT_SERVING, … (the number, for a value the enum does not name)."""
    try:
        return health_pb2.HealthCheckResponse.ServingStatus.Name(status)
    except ValueError:
        return str(status)


def expect_check_status(check: UnaryRpc, service: str, status: str) -> None:
    """Health/Check{service} answers `status`."""
    label, reply = check.call(health_pb2.HealthCheckRequest(service=service))
    expect_equal(label, status, serving_status(reply.status), what="status")


def expect_check_serving(check: UnaryRpc, service: str) -> None:
    """Health/Check{service} answers SERVING."""
    expect_check_status(check, service, "SERVING")


def expect_watch_message(label: str, watch: Any, status: str, which: str) -> None:
    """The Watch stream's next message (`which`, for failure messages) has `status`; the wait ends
    at the stream's deadline."""
    message = succeeds(f"{label}, waiting for {which}", partial(next, watch, None))
    if message is None:
        raise CaseFailure(f"{label}: expected {which} with status {status}, got the end of the stream")
    expect_equal(label, status, serving_status(message.status), what=f"status of {which}")


def expect_first_watch_status(stub: health_pb2_grpc.HealthStub, service: str, status: str, timeout: float) -> None:
    """Health/Watch{service}'s first message has `status`; the stream is then cancelled."""
    request = health_pb2.HealthCheckRequest(service=service)
    watch = stub.Watch(request, timeout=timeout)
    try:
        expect_watch_message(call_label("Health/Watch", request), watch, status, "the first message")
    finally:
        watch.cancel()


@case
def health_unknown_service(peer: Peer) -> None:
    with peer.channel() as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        expect_check_serving(peer.rpc("Health/Check", stub.Check), "helloworld.Greeter")
        unknown = health_pb2.HealthCheckRequest(service="no.such.Service")
        check = partial(stub.Check, unknown, timeout=peer.timeout)
        expect_failure(call_label("Health/Check", unknown), check, grpc.StatusCode.NOT_FOUND)
        expect_first_watch_status(stub, unknown.service, "SERVICE_UNKNOWN", peer.timeout)


@case
def server_info_version(peer: Peer) -> Observed:
    """Reports what GetInfo returned: the runner judges the version (the client cannot know it)."""
    with peer.channel() as channel:
        get_info = peer.rpc("GetInfo", server_info_pb2_grpc.ServerInfoStub(channel).GetInfo)
        reply = get_info.call(empty_pb2.Empty())[1]
    return {"language": reply.language, "implementation": reply.implementation, "version": reply.version}
