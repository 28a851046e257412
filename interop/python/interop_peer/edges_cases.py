"""The `testing-edges` suite (docs/peer-contract.md): grpc.testing.TestService checks the upstream
cases leave out, on the grpc.testing cases' helpers. They register in cases.CASES after the
grpc.testing cases, in the contract's order. Every RPC has the peer's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import grpc

from .cases import Peer, case
from .checks import CaseFailure, expect_failure, succeeds
from .testing_cases import (
    StreamingOutputCallRequest,
    describe,
    expect_echoed_status,
    expect_responses,
    full_duplex,
    output_request,
    ping,
    response_status,
    stub,
)

INTERVAL_US = 50_000
# From the call's start to the third payload: the server sleeps the interval before each of the
# three, so 3 × 50 ms less 10 % for timer granularity. The channel is connected first, so connecting cannot make a server that ignores the interval look right; measured
# from the start rather than from the first payload, a first payload read late (a busy client)
# cannot make a server that honours it look wrong: lateness only adds.
MIN_THIRD_PAYLOAD_MS = 135


def read_all(responses: Iterator[Any], received: list[tuple[float, Any]]) -> None:
    """Reads the stream to its end, noting each response with when it arrived (time.monotonic());
    what arrived stays in `received` when the call then fails."""
    for response in responses:
        received.append((time.monotonic(), response))


@case
def status_unary_non_unknown(peer: Peer) -> None:
    expect_echoed_status(peer, grpc.StatusCode.FAILED_PRECONDITION, "precondition failed: edges", over_duplex=False)


@case
def status_server_streaming_non_unknown(peer: Peer) -> None:
    code, message = grpc.StatusCode.OUT_OF_RANGE, "out of range after 2"
    status, shown = response_status(code, message)
    label = f"StreamingOutputCall{{response_parameters [{{size:8}}, {{size:8}}], {shown}}}"
    received: list[tuple[float, Any]] = []
    with peer.channel() as channel:
        responses = stub(channel).StreamingOutputCall(output_request(8, 8, response_status=status), timeout=peer.timeout)
        expect_failure(label, partial(read_all, responses, received), code, message)
    expect_responses(label, [response for _, response in received], (8, 8))


@case
def status_bidi_non_unknown(peer: Peer) -> None:
    code, message = grpc.StatusCode.ALREADY_EXISTS, "already exists: edges"
    status, shown = response_status(code, message)
    label = f"FullDuplexCall: after sending {{{shown}}}"
    with peer.channel() as channel, full_duplex(channel, peer.timeout) as (outbox, responses):
        ping(outbox, responses, 8, 8)
        outbox.put(StreamingOutputCallRequest(response_status=status))

        def no_further_payload() -> None:
            extra = next(responses, None)
            if extra is not None:
                raise CaseFailure(f"{label}: expected status {code.name} and no further payload, got {describe(extra)}")

        expect_failure(label, no_further_payload, code, message)


@case
def streaming_output_interval(peer: Peer) -> None:
    label = f"StreamingOutputCall{{response_parameters: three times {{size:1, interval_us:{INTERVAL_US}}}}}"
    received: list[tuple[float, Any]] = []
    with peer.channel() as channel:
        succeeds(f"{label}: connecting first", partial(grpc.channel_ready_future(channel).result, timeout=peer.timeout))
        started = time.monotonic()
        responses = stub(channel).StreamingOutputCall(
            output_request(1, 1, 1, interval_us=INTERVAL_US), timeout=peer.timeout
        )
        succeeds(label, partial(read_all, responses, received))
    expect_responses(label, [response for _, response in received], (1, 1, 1))
    third_ms = (received[2][0] - started) * 1000
    if third_ms < MIN_THIRD_PAYLOAD_MS:
        raise CaseFailure(
            f"{label}: expected the third payload at least {MIN_THIRD_PAYLOAD_MS} ms after the call started, "
            f"it arrived after {third_ms:.1f} ms"
        )
