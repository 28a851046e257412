"""Load mode (docs/peer-contract.md, "Load mode"): flags, percentiles, and the real client's
measurements against the real server, over every transport."""

from __future__ import annotations

import time

import pytest
from peers import CLIENT_TRANSPORT_FLAGS, ClientRun, RunningServer, closed_port, run_client_with

from interop_peer.bench import MEASUREMENTS, percentile
from interop_peer.flags import BENCH_MEASUREMENTS, BenchLoad, parse_client_flags

SMALL_LOAD = ("--bench_calls=50", "--bench_warmup=5", "--bench_messages=500")
UNARY_KEYS = {"bench", "calls", "p50_us", "p99_us", "mean_us", "elapsed_ms"}
STREAMING_KEYS = {"bench", "messages", "bytes_per_message", "elapsed_ms", "msgs_per_s"}


def run_bench(port: int, *flags: str) -> ClientRun:
    return run_client_with(port, *flags, timeout=30)


def number(record: dict[str, object], key: str) -> float:
    value = record[key]
    assert isinstance(value, (int, float)), record
    return float(value)


def assert_unary(record: dict[str, object], calls: int) -> None:
    assert set(record) == UNARY_KEYS and record["bench"] == "unary", record
    assert record["calls"] == calls
    p50, p99, mean, elapsed = (number(record, key) for key in ("p50_us", "p99_us", "mean_us", "elapsed_ms"))
    assert 0 < p50 <= p99 and mean > 0 and elapsed > 0, record
    assert all(round(value, 1) == value for value in (p50, p99, mean, elapsed)), record


def assert_streaming(record: dict[str, object], messages: int, size: int) -> None:
    assert set(record) == STREAMING_KEYS and record["bench"] == "server_streaming", record
    assert (record["messages"], record["bytes_per_message"]) == (messages, size)
    elapsed, rate = number(record, "elapsed_ms"), number(record, "msgs_per_s")
    assert elapsed > 0 and rate > 0, record
    assert abs(messages * 1000 / rate - elapsed) <= 0.06, record  # msgs_per_s = M / elapsed, both rounded to 0.1


def test_percentile_is_nearest_rank() -> None:
    hundred = list(range(1, 101))
    assert (percentile(hundred, 50), percentile(hundred, 99)) == (50, 99)
    assert (percentile([7], 50), percentile([7], 99)) == (7, 7)
    assert percentile([1, 2, 3], 50) == 2
    assert percentile(list(range(1, 1001)), 99) == 990  # ceil(0.99 · 1000) − 1, no float error
    assert percentile(list(range(1, 51)), 99) == 50
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_every_measurement_the_flags_accept_is_implemented() -> None:
    assert tuple(MEASUREMENTS) == BENCH_MEASUREMENTS == ("unary", "server_streaming")


def test_bench_flags_default_to_the_contract() -> None:
    options = parse_client_flags(["--server_host=h", "--server_port=1", "--bench=server_streaming, unary"])
    assert options.bench == ("server_streaming", "unary") and options.test_cases == ()
    assert options.bench_load == BenchLoad(calls=2000, warmup=200, messages=20_000, size=16, time_limit_ms=20_000)
    assert parse_client_flags(["--server_host=h", "--server_port=1", "--test_case=a"]).bench == ()
    flags = ["--bench_calls=3", "--bench_warmup=0", "--bench_messages=4", "--bench_size=0", "--bench_time_limit_ms=5"]
    options = parse_client_flags(["--server_host=h", "--server_port=1", "--bench=unary", *flags])
    assert options.bench_load == BenchLoad(calls=3, warmup=0, messages=4, size=0, time_limit_ms=5)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--bench=nope"], "unknown measurement 'nope'"),
        (["--bench=unary,nope"], "unknown measurement 'nope'"),
        (["--bench=unary", "--test_case=empty_unary"], "not allowed with argument --bench"),
        (["--test_case=empty_unary", "--bench=unary"], "not allowed with argument --test_case"),
        ([], "one of the arguments --test_case --bench is required"),
        (["--bench_calls=5"], "one of the arguments --test_case --bench is required"),
        (["--bench=unary,,server_streaming"], "empty measurement name"),
        (["--bench=unary", "--bench_calls=0"], "--bench_calls"),
        (["--bench=unary", "--bench_time_limit_ms=0"], "--bench_time_limit_ms"),
    ],
)
def test_bad_bench_flags_are_a_usage_error(flags: list[str], message: str) -> None:
    run = run_bench(closed_port(), *flags)
    assert run.returncode == 2 and run.records == []
    assert len(run.stderr.splitlines()) == 1 and message in run.stderr, run.stderr


def test_unary_and_server_streaming_over_every_transport(transport: tuple[str, RunningServer]) -> None:
    name, server = transport
    run = run_bench(server.port, "--bench=unary,server_streaming", *SMALL_LOAD, *CLIENT_TRANSPORT_FLAGS[name])
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert len(run.records) == 2
    assert_unary(run.records[0], calls=50)
    assert_streaming(run.records[1], messages=500, size=16)


def test_measurements_run_in_the_order_given_with_the_given_size(server: RunningServer) -> None:
    run = run_bench(server.port, "--bench=server_streaming,unary,unary", *SMALL_LOAD, "--bench_size=1000")
    assert [record["bench"] for record in run.records] == ["server_streaming", "unary", "unary"]
    assert_streaming(run.records[0], messages=500, size=1000)
    assert_unary(run.records[1], calls=50)
    assert_unary(run.records[2], calls=50)
    assert run.returncode == 0


def test_the_time_limit_stops_the_unary_loop(server: RunningServer) -> None:
    started = time.monotonic()
    # No warm-up: under load the 200 warm-up calls alone could use up a short limit (0 calls measured).
    run = run_bench(server.port, "--bench=unary", "--bench_calls=10000000", "--bench_warmup=0", "--bench_time_limit_ms=1000")
    assert time.monotonic() - started < 10
    assert run.returncode == 0 and len(run.records) == 1
    calls = int(number(run.records[0], "calls"))
    assert 0 < calls < 10_000_000
    assert_unary(run.records[0], calls=calls)
    assert number(run.records[0], "elapsed_ms") < 5000


def test_the_time_limit_is_the_stream_deadline_and_the_next_measurement_still_runs(server: RunningServer) -> None:
    # 100000 messages cannot arrive within 100 ms: the stream fails, then unary measures as usual.
    flags = ("--bench_messages=100000", "--bench_time_limit_ms=100", "--bench_calls=20", "--bench_warmup=0")
    run = run_bench(server.port, "--bench=server_streaming,unary", *flags)
    assert run.records[0] == {"bench": "server_streaming", "error": run.records[0]["error"]}
    assert str(run.records[0]["error"]).startswith("DEADLINE_EXCEEDED: "), run.records[0]
    assert run.records[1]["bench"] == "unary" and "error" not in run.records[1], run.records[1]
    assert run.returncode == 1
    assert "bench server_streaming failed: DEADLINE_EXCEEDED" in run.stderr


def test_unreachable_server_fails_every_measurement_quickly() -> None:
    started = time.monotonic()
    run = run_bench(
        closed_port(), "--bench=unary,server_streaming", "--rpc_timeout_ms=300", "--bench_time_limit_ms=300"
    )
    assert time.monotonic() - started < 10
    assert [record["bench"] for record in run.records] == ["unary", "server_streaming"]
    for record in run.records:
        assert set(record) == {"bench", "error"}, record
        assert str(record["error"]).startswith(("UNAVAILABLE: ", "DEADLINE_EXCEEDED: ")), record
    assert run.returncode == 1
    assert "bench unary failed: " in run.stderr and "bench server_streaming failed: " in run.stderr
