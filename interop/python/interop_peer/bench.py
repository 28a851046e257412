"""Load mode (docs/peer-contract.md, "Load mode"): a fixed, bounded load on one channel against
grpc.testing.TestService, for `npm run bench`. Each measurement prints one JSON line: its figures,
or {"bench": NAME, "error": "STATUS: message"} when an RPC failed (the reason also goes to stderr).

Times come from the monotonic clock (time.perf_counter_ns). Every measurement is bounded in count
and in time: the unary loop begins no call once the time limit has passed since the measurement
began (warm-up included), and the server stream's deadline is the time limit.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Sequence
from functools import partial
from typing import cast

import grpc

from .cases import Peer
from .checks import CaseFailure, expect_equal
from .flags import BenchLoad
from .jsonl import emit
from .protos import test_pb2_grpc
from .testing_cases import SimpleRequest, output_request, stub, zeros

Record = dict[str, object]
Measurement = Callable[[test_pb2_grpc.TestServiceStub, BenchLoad, float], Record]


def percentile(sorted_values: Sequence[int], percent: int) -> int:
    """Nearest rank: the value at index ceil(percent/100 · N) − 1 (integer arithmetic, no rounding error)."""
    if not sorted_values:
        raise ValueError("no values")
    rank = -(-percent * len(sorted_values) // 100)
    return sorted_values[max(rank, 1) - 1]


def _us(nanoseconds: float) -> float:
    return round(nanoseconds / 1_000, 1)


def _ms(nanoseconds: float) -> float:
    return round(nanoseconds / 1_000_000, 1)


def _timed_calls(call: Callable[[], object], count: int, limit_ns: int) -> list[int]:
    """Up to `count` sequential calls, none begun after `limit_ns`; the latency of each, in ns."""
    latencies: list[int] = []
    while len(latencies) < count and time.perf_counter_ns() < limit_ns:
        start = time.perf_counter_ns()
        call()
        latencies.append(time.perf_counter_ns() - start)
    return latencies


def _latency_figures(latencies: list[int]) -> Record:
    """p50, p99 and mean in µs; all 0 when the warm-up used up the time limit and nothing was measured."""
    if not latencies:
        return {"p50_us": 0.0, "p99_us": 0.0, "mean_us": 0.0}
    ordered = sorted(latencies)
    return {
        "p50_us": _us(percentile(ordered, 50)),
        "p99_us": _us(percentile(ordered, 99)),
        "mean_us": _us(sum(ordered) / len(ordered)),
    }


def unary(test_service: test_pb2_grpc.TestServiceStub, load: BenchLoad, rpc_timeout: float) -> Record:
    """The warm-up, then up to load.calls UnaryCalls one at a time, each timed from the call to its response."""
    request = SimpleRequest(response_size=load.size, payload=zeros(load.size))
    call = partial(test_service.UnaryCall, request, timeout=rpc_timeout)
    limit_ns = time.perf_counter_ns() + load.time_limit_ms * 1_000_000
    _timed_calls(call, load.warmup, limit_ns)
    measured = time.perf_counter_ns()
    latencies = _timed_calls(call, load.calls, limit_ns)
    elapsed = time.perf_counter_ns() - measured
    return {"calls": len(latencies), **_latency_figures(latencies), "elapsed_ms": _ms(elapsed)}


def server_streaming(test_service: test_pb2_grpc.TestServiceStub, load: BenchLoad, rpc_timeout: float) -> Record:
    """One StreamingOutputCall of load.messages responses, all read, timed from the call to its status."""
    del rpc_timeout  # the stream's deadline is the time limit
    request = output_request(*[load.size] * load.messages)
    start = time.perf_counter_ns()
    responses = test_service.StreamingOutputCall(request, timeout=load.time_limit_ms / 1000)
    received = sum(1 for _ in responses)
    elapsed = time.perf_counter_ns() - start
    label = f"StreamingOutputCall{{{load.messages} response_parameters of size {load.size}}}"
    expect_equal(label, load.messages, received, what="number of responses")
    return {
        "messages": received,
        "bytes_per_message": load.size,
        "elapsed_ms": _ms(elapsed),
        "msgs_per_s": round(received / (elapsed / 1e9), 1),
    }


MEASUREMENTS: dict[str, Measurement] = {"unary": unary, "server_streaming": server_streaming}


def _status(error: grpc.RpcError) -> str:
    call = cast(grpc.Call, error)
    return f"{call.code().name}: {call.details() or ''}"


def measure(name: str, test_service: test_pb2_grpc.TestServiceStub, load: BenchLoad, rpc_timeout: float) -> Record:
    """One measurement's line: its figures, or the reason it failed under "error"."""
    try:
        return {"bench": name, **MEASUREMENTS[name](test_service, load, rpc_timeout)}
    except grpc.RpcError as error:
        return {"bench": name, "error": _status(error)}
    except CaseFailure as failure:
        return {"bench": name, "error": str(failure)}
    except Exception as error:  # a defect in the measurement itself: report it, never crash
        traceback.print_exc(file=sys.stderr)
        return {"bench": name, "error": f"{name}: unexpected {type(error).__name__}: {error}"}


def run_bench(peer: Peer, names: Sequence[str], load: BenchLoad) -> int:
    """The measurements in order, on one channel; exit code 0 when every one printed figures, else 1."""
    all_measured = True
    with peer.channel() as channel:
        test_service = stub(channel)
        for name in names:
            record = measure(name, test_service, load, peer.timeout)
            emit(record)
            if "error" in record:
                all_measured = False
                print(f"client: bench {name} failed: {record['error']}", file=sys.stderr, flush=True)
    return 0 if all_measured else 1
