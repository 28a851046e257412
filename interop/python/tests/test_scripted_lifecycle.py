"""Connections, concurrency and cancellation of the scripted service and the generic executor
(docs/peer-contract.md: the server's --max_concurrent_streams, --max_connection_age_ms … flags;
RequestInfo.active_calls, script.call_id / report_call and the handler's cancellation; the
instruction's concurrent, followups, {run} and keepalive channel options; the faults
scripted-lifecycle-ignored and scripted-cancel-ignored).

Every case runs the real server (server.py) and the real client (client.py with a cases file) over
loopback. What is timed is only ever bounded from one side, with room for a loaded machine: a
handler that stops at a cancellation ends seconds before one that waits its script out. The
cancellation and connection-age cases also run on the older grpcio releases (server and client of
the same release; skipped when build/versions/python/VERSION is not built)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from peers import RunningServer, code, info, observe, release_pythons, run_cases, running_server, stop

from interop_peer import scripted_executor, scripted_service, serving
from interop_peer.faults import Fault
from interop_peer.flags import Lifecycle
from interop_peer.protos import scripted_pb2

Observed = dict[str, Any]
Record = dict[str, Any]  # one result line of the client
OK, CANCELLED, DEADLINE_EXCEEDED = 0, 1, 4
LIFECYCLE_IGNORED = f"--fault={Fault.SCRIPTED_LIFECYCLE_IGNORED}"
CANCEL_IGNORED = f"--fault={Fault.SCRIPTED_CANCEL_IGNORED}"
RUN_TOKEN = re.compile(r"[0-9a-f]{16}")


def reported(observed: Observed) -> dict[str, Any]:
    """RequestInfo.reported_call of a call whose script had report_call."""
    return info(observed)["reported_call"]  # type: ignore[no-any-return]


def unary(script: dict[str, Any] | None = None, **instruction: Any) -> dict[str, Any]:
    return {"method": "Unary", "requests": [{"script": script or {}}], **instruction}


def report(call_id: str, after_ms: int = 0) -> dict[str, Any]:
    """A follow-up asking for the record of call_id."""
    return {"after_ms": after_ms, "method": "Unary", "requests": [{"script": {"report_call": call_id}}]}


# --- active_calls and --max_concurrent_streams -------------------------------------------------

# Three calls at once, each held 800 ms by the server: without a stream limit they overlap there.
THREE_AT_ONCE = {"three_at_once": unary({"delay_ms": 800}, concurrent=3)}


def active_calls(observed: Observed) -> list[int]:
    """RequestInfo.active_calls of the call and of its concurrent ones, in the order they were started."""
    return [int(info(call)["active_calls"]) for call in [observed, *observed.get("concurrent", [])]]


def test_concurrent_calls_overlap_in_the_server(server: RunningServer, tmp_path: Path) -> None:
    observed = observe(server.port, tmp_path, THREE_AT_ONCE)["three_at_once"]
    # OBSERVED's usual members for the first call, the others in `concurrent`, each a plain OBSERVED.
    assert code(observed) == OK and len(observed["concurrent"]) == 2 and "followups" not in observed
    for other in observed["concurrent"]:
        assert code(other) == OK and not {"concurrent", "followups"} & set(other)
    counts = active_calls(observed)
    assert all(count >= 1 for count in counts) and max(counts) > 1, counts
    # One channel, so one connection: the same client address for the three.
    assert len({info(call)["peer"] for call in [observed, *observed["concurrent"]]}) == 1


@pytest.mark.parametrize("workers", [1, 2], ids=["single", "workers"])
def test_max_concurrent_streams_serves_one_call_at_a_time(workers: int, tmp_path: Path) -> None:
    # With --workers the flag reaches every worker (the run's one connection lands on any of them).
    with running_server("--max_concurrent_streams=1", f"--workers={workers}") as server:
        observed = observe(server.port, tmp_path, THREE_AT_ONCE)["three_at_once"]
    assert [code(call) for call in [observed, *observed["concurrent"]]] == [OK] * 3
    assert active_calls(observed) == [1, 1, 1]


def test_lifecycle_ignored_fault_lifts_max_concurrent_streams(tmp_path: Path) -> None:
    with running_server("--max_concurrent_streams=1", LIFECYCLE_IGNORED) as server:
        observed = observe(server.port, tmp_path, THREE_AT_ONCE)["three_at_once"]
    assert max(active_calls(observed)) > 1


def test_active_calls_units() -> None:
    calls = scripted_service.ActiveCalls()
    with calls.counting():
        with calls.counting():
            assert calls.count == 2
        with pytest.raises(RuntimeError), calls.counting():
            raise RuntimeError("the handler failed")
        assert calls.count == 1
    assert calls.count == 0


# --- cancellation and call records -------------------------------------------------------------

# A server stream of ten replies 50 ms apart, cancelled by the client after the second, then asked
# about; and a unary call whose 300 ms deadline passes during a 3 s delay, then asked about.
STREAM_REPLIES = 10
CANCEL_CASES = {
    "stream_cancelled": {
        "method": "ServerStream",
        "requests": [{"script": {"call_id": "stream-{run}", "replies": [{"delay_ms": 50}] * STREAM_REPLIES}}],
        "cancel_after_responses": 2,
        "followups": [report("stream-{run}")],
    },
    "deadline_during_delay": unary(
        {"call_id": "delay-{run}", "delay_ms": 3000}, timeout_ms=300, followups=[report("delay-{run}")]
    ),
}
# How long the deadline case may take when the handler stops at the deadline: far less than the
# 3 s its delay would last (300 ms of deadline, then a follow-up answered at once).
STOPPED_AT_ONCE_MS = 2500


@pytest.mark.parametrize("python", release_pythons())
def test_a_cancelled_call_is_recorded_cancelled(python: Path, tmp_path: Path) -> None:
    with running_server(python=python) as server:
        records = run_cases(server.port, tmp_path, CANCEL_CASES, python=python)
    stream = records["stream_cancelled"]["observed"]
    assert code(stream) == CANCELLED and len(stream["responses"]) == 2
    [asked] = stream["followups"]
    record = reported(asked)
    # The handler stopped within a reply or two of the cancellation, and said so.
    assert record["ended"] == "cancelled" and 2 <= int(record["replies_sent"]) <= 4, record
    deadline = records["deadline_during_delay"]
    assert code(deadline["observed"]) == DEADLINE_EXCEEDED and "responses" not in deadline["observed"]
    [asked] = deadline["observed"]["followups"]
    # Nothing was handed to grpcio (replies_sent 0: absent, proto3's default).
    assert reported(asked) == {"ended": "cancelled"}
    assert deadline["ms"] < STOPPED_AT_ONCE_MS, deadline["ms"]


def test_cancel_ignored_fault_runs_the_script_to_the_end(tmp_path: Path) -> None:
    with running_server(CANCEL_IGNORED) as server:
        records = run_cases(server.port, tmp_path, CANCEL_CASES)
    stream = records["stream_cancelled"]["observed"]
    assert code(stream) == CANCELLED and len(stream["responses"]) == 2  # the client saw no more
    # Every reply handed to grpcio (which sent none of them after the cancellation).
    assert reported(stream["followups"][0]) == {"ended": "completed", "replies_sent": str(STREAM_REPLIES)}
    deadline = records["deadline_during_delay"]
    assert code(deadline["observed"]) == DEADLINE_EXCEEDED
    assert reported(deadline["observed"]["followups"][0]) == {"ended": "completed", "replies_sent": "1"}
    # The follow-up's report waited for the handler's whole 3 s delay.
    assert deadline["ms"] >= 2900, deadline["ms"]


def test_cancel_ignored_handlers_still_end_with_the_server(tmp_path: Path) -> None:
    # The fault's waits outlast the call's cancellation, not the process: SIGTERM stops it after its
    # 1 s of grace, long before the handler's 8 s delay would end.
    with running_server(CANCEL_IGNORED) as server:
        observed = observe(server.port, tmp_path, {"sleeping": unary({"delay_ms": 8000}, timeout_ms=300)})
        assert code(observed["sleeping"]) == DEADLINE_EXCEEDED
        started = time.monotonic()
        assert stop(server.process) == 0
        assert time.monotonic() - started < 5


def test_report_of_a_call_never_seen_is_unknown(server: RunningServer, tmp_path: Path) -> None:
    # The server waits its 5 s for a call with that id to start and end, then says it saw none.
    cases = {"never_seen": unary({"report_call": "never-started-{run}"})}
    observed = observe(server.port, tmp_path, cases)["never_seen"]
    assert code(observed) == OK and reported(observed) == {"ended": "unknown"}
    assert "reported_call" not in info(observe(server.port, tmp_path, {"not_asked": unary()})["not_asked"])


def test_completed_calls_are_recorded_with_their_replies(server: RunningServer, tmp_path: Path) -> None:
    cases = {
        "completed": {
            "method": "ServerStream",
            "requests": [{"script": {"call_id": "done-{run}", "replies": [{}, {}, {}], "code": 5}}],
            "followups": [report("done-{run}")],
        },
        # Two calls at once with one id: the one started last replaces the other's record, which
        # the follow-up finds completed like the other.
        "same_id_at_once": unary(
            {"call_id": "twice-{run}", "delay_ms": 300},
            concurrent=2,
            followups=[report("twice-{run}")],
        ),
    }
    observed = observe(server.port, tmp_path, cases)
    completed = observed["completed"]
    assert code(completed) == 5 and len(completed["responses"]) == 3
    assert reported(completed["followups"][0]) == {"ended": "completed", "replies_sent": "3"}
    twice = observed["same_id_at_once"]
    assert reported(twice["followups"][0]) == {"ended": "completed", "replies_sent": "1"}


def test_call_records_units() -> None:
    records = scripted_service.CallRecords()
    never = lambda: False  # noqa: E731
    assert records.report("none", never, timeout=0.05) == scripted_pb2.CallRecord(ended="unknown")
    first = records.start("id")
    records.count_reply(first)
    # Still running when the wait ends; a cancellation of the asking call cuts the wait short.
    assert records.report("id", never, timeout=0.05) == scripted_pb2.CallRecord(ended="running", replies_sent=1)
    started = time.monotonic()
    assert records.report("id", lambda: True, timeout=5).ended == "running"
    assert time.monotonic() - started < 1
    # A report waits for the end, which another thread records meanwhile.
    ender = threading.Timer(0.1, records.end, (first, "cancelled"))
    ender.start()
    assert records.report("id", never, timeout=5) == scripted_pb2.CallRecord(ended="cancelled", replies_sent=1)
    ender.join()
    # A second call with the same id replaces the record; the first one's updates no longer show.
    second = records.start("id")
    records.end(first, "completed")
    assert records.report("id", never, timeout=0.05) == scripted_pb2.CallRecord(ended="running")
    records.end(second, "completed")
    assert records.report("id", never) == scripted_pb2.CallRecord(ended="completed")


# --- connection age: GOAWAY and a follow-up on the same channel --------------------------------

AGE_FLAGS = ("--max_connection_age_ms=500", "--max_connection_age_grace_ms=10000")
# A server stream of about 1.5 s, then, 200 ms after it ended, a unary call on the same channel.
AGE_CASES = {
    "outlives_its_connection": {
        "method": "ServerStream",
        "requests": [{"script": {"replies": [{"delay_ms": 500}] * 3}}],
        "followups": [{"after_ms": 200, "method": "Unary", "requests": [{"script": {}}]}],
    }
}


def _peers(observed: Observed) -> tuple[str, str]:
    [followup] = observed["followups"]
    assert code(observed) == OK and len(observed["responses"]) == 3, observed
    assert code(followup) == OK, followup
    return info(observed)["peer"], info(followup)["peer"]


@pytest.mark.parametrize("python", release_pythons())
def test_max_connection_age_moves_the_followup_to_a_new_connection(python: Path, tmp_path: Path) -> None:
    # The connection gets its GOAWAY at about 500 ms (gRPC core adds +/-10%); the stream still
    # ends OK within the grace, and grpcio's channel makes the next call on a new connection.
    with running_server(*AGE_FLAGS, python=python) as server:
        observed = observe(server.port, tmp_path, AGE_CASES, python=python)["outlives_its_connection"]
    first, then = _peers(observed)
    assert first.startswith("ipv4:127.0.0.1:") and then.startswith("ipv4:127.0.0.1:")
    assert first != then


def test_lifecycle_ignored_fault_keeps_the_connection(tmp_path: Path) -> None:
    with running_server(*AGE_FLAGS, LIFECYCLE_IGNORED) as server:
        observed = observe(server.port, tmp_path, AGE_CASES)["outlives_its_connection"]
    first, then = _peers(observed)
    assert first == then


def test_lifecycle_options_units() -> None:
    lifecycle = Lifecycle(max_concurrent_streams=1, keepalive_min_time_ms=50, keepalive_permit_without_calls=True)
    assert serving.lifecycle_options(lifecycle, frozenset()) == [
        ("grpc.max_concurrent_streams", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 50),
        ("grpc.keepalive_permit_without_calls", 1),
    ]
    every = Lifecycle(*range(1, 8), keepalive_permit_without_calls=True)
    assert [key for key, _ in serving.lifecycle_options(every, frozenset())] == [
        key for keys in serving.LIFECYCLE_OPTIONS.values() for key in keys
    ]
    assert serving.lifecycle_options(every, frozenset({Fault.SCRIPTED_LIFECYCLE_IGNORED})) == []
    assert serving.lifecycle_options(Lifecycle(), frozenset()) == []


# --- followups, {run} and the keepalive channel options ----------------------------------------


def echoed_s(observed: Observed) -> str:
    """values.s of the request the server read (RequestInfo.requests)."""
    return info(observed)["requests"][0]["values"]["s"]  # type: ignore[no-any-return]


def test_followups_run_in_order_on_the_same_channel(server: RunningServer, tmp_path: Path) -> None:
    cases = {
        "with_followups": {
            "method": "ClientStream",
            "requests": [{"script": {"code": 9}}, {"values": {"s": "second"}}],
            "followups": [
                {"method": "ServerStream", "requests": [{"script": {"replies": [{}, {}]}}], "after_ms": 100},
                {
                    "method": "BidiStream",
                    "metadata": [{"key": "x-followup", "value": "2"}],
                    "requests": [{"script": {"replies": [{"values": {"i32": 7}}]}}],
                    "timeout_ms": 4000,
                },
                # protobuf refuses this request: that follow-up alone is a local_error.
                {"method": "Unary", "requests": [{"values": {"i32": "seven"}}]},
                {"method": "Unary", "requests": [{"script": {"delay_ms": 2000}}], "timeout_ms": 100},
            ],
        },
        "own_channel": unary(
            channel={"keepalive_time_ms": 10000, "keepalive_timeout_ms": 5000, "keepalive_permit_without_calls": True},
            followups=[{"method": "Unary", "requests": [{"script": {}}]}],
        ),
    }
    observed = observe(server.port, tmp_path, cases)
    main = observed["with_followups"]
    assert code(main) == 9 and len(info(main)["requests"]) == 2 and "concurrent" not in main
    stream, bidi, refused, late = main["followups"]
    for followup in (stream, bidi, late):
        assert not {"concurrent", "followups"} & set(followup)
    assert code(stream) == OK and len(stream["responses"]) == 2
    assert code(bidi) == OK and bidi["responses"][0]["values"] == {"i32": "7"}
    assert info(bidi)["headers"] == [{"key": "x-followup", "values": ["2"]}]
    assert 0 < int(info(bidi)["timeout_ms"]) <= 4050
    assert set(refused) == {"local_error"} and "requests[0]" in refused["local_error"]
    assert code(late) == DEADLINE_EXCEEDED
    # The follow-ups went over the run's channel, as the call did: the same connection.
    assert {info(call)["peer"] for call in (main, stream, bidi)} == {info(main)["peer"]}
    own = observed["own_channel"]
    assert code(own) == OK and code(own["followups"][0]) == OK


def test_run_replaced_by_one_token_per_run(server: RunningServer, tmp_path: Path) -> None:
    instruction = {
        "method": "Unary",
        "metadata": [{"key": "x-run", "value": "{run}"}],
        "requests": [{"script": {"call_id": "{run}"}, "values": {"s": "a-{run}-{run}", "str_i64": {"{run}": "1"}}}],
        "followups": [{"method": "Unary", "requests": [{"values": {"s": "b-{run}"}, "script": {}}]}],
    }
    observed = observe(server.port, tmp_path, {"first_run": instruction, "second_run": instruction})
    tokens = []
    for name in ("first_run", "second_run"):
        call = observed[name]
        first = re.fullmatch(r"a-([0-9a-f]{16})-\1", echoed_s(call))
        assert first is not None, echoed_s(call)
        token = first.group(1)
        request = info(call)["requests"][0]
        assert request["script"]["call_id"] == token
        # Only inside `requests`, and only in string values: metadata and member names are as written.
        assert request["values"]["str_i64"] == {"{run}": "1"}
        assert info(call)["headers"] == [{"key": "x-run", "values": ["{run}"]}]
        assert echoed_s(call["followups"][0]) == f"b-{token}"
        tokens.append(token)
    assert tokens[0] != tokens[1]


def test_run_token_units() -> None:
    assert RUN_TOKEN.fullmatch(scripted_executor.run_token())
    instruction = {
        "method": "Unary",
        "metadata": [{"key": "k", "value": "{run}"}],
        "requests": [{"values": {"s": "{run}", "rs": ["x{run}", 1, None]}}],
        "followups": [{"requests": [{"script": {"report_call": "{run}"}}]}, "not an object"],
    }
    replaced = scripted_executor.with_run_token(instruction, "T")
    assert replaced["requests"] == [{"values": {"s": "T", "rs": ["xT", 1, None]}}]
    assert replaced["followups"] == [{"requests": [{"script": {"report_call": "T"}}]}, "not an object"]
    assert replaced["metadata"] == instruction["metadata"] and instruction["requests"][0]["values"]["s"] == "{run}"
    assert scripted_executor.with_run_token({"method": "Unary"}, "T") == {"method": "Unary"}


def test_concurrent_followups_and_keepalive_are_parsed() -> None:
    parse = scripted_executor.parse_instruction
    parsed = parse(
        {
            "method": "ServerStream",
            "requests": [{}],
            "concurrent": 3,
            "channel": {"keepalive_time_ms": 100, "keepalive_timeout_ms": 0, "keepalive_permit_without_calls": False},
            "followups": [
                {"after_ms": 250, "method": "ClientStream", "requests": [{}, {}], "timeout_ms": 0},
                {"method": "Unary", "requests": [{"values": {"i32": 2**31}}]},
            ],
        },
        2.0,
        deadline_ignored=True,
    )
    assert parsed.concurrent == 3
    assert parsed.channel is not None and parsed.channel.options() == (
        ("grpc.keepalive_time_ms", 100),
        ("grpc.keepalive_timeout_ms", 0),
        ("grpc.keepalive_permit_without_calls", 0),
    )
    # scripted-client-limits-ignored lifts the limits and leaves the keepalive settings alone.
    assert parsed.channel.options(limits_ignored=True)[2:] == parsed.channel.options()
    stream, refused = parsed.followups
    assert stream.after_ms == 250 and stream.call is not None and stream.call.method == "ClientStream"
    assert len(stream.call.requests) == 2 and stream.call.timeout == 2.0  # the client fault applies to follow-ups too
    assert stream.call.followups == () and stream.call.concurrent == 1
    assert refused.after_ms == 0 and refused.call is None and "requests[0]" in (refused.local_error or "")
    plain = parse({"method": "Unary", "requests": [{}]}, 1.0)
    assert (plain.concurrent, plain.followups) == (1, ())
    permit = parse({"method": "Unary", "requests": [{}], "channel": {"keepalive_permit_without_calls": True}}, 1.0)
    assert permit.channel is not None and permit.channel.options() == (("grpc.keepalive_permit_without_calls", 1),)


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ({"concurrent": 0}, "concurrent: expected an integer >= 1, got 0"),
        ({"concurrent": True}, "concurrent: expected an integer >= 1"),
        ({"concurrent": "2"}, "concurrent"),
        ({"followups": {}}, "followups: expected a list"),
        ({"followups": [[]]}, r"followups\[0\]: expected an object"),
        (
            {"followups": [{"method": "Unary", "requests": [{}], "channel": {}}]},
            r"followups\[0\]: unknown member\(s\) channel",
        ),
        ({"followups": [{"method": "Unary", "requests": [{}], "after_ms": -1}]}, r"followups\[0\]\.after_ms"),
        ({"followups": [{"method": "Nope", "requests": [{}]}]}, r"followups\[0\]: unknown method \"Nope\""),
        ({"followups": [{"method": "Unary", "requests": []}]}, r"followups\[0\]: Unary takes exactly one request"),
        ({"channel": {"keepalive_time_ms": -1}}, "channel.keepalive_time_ms: expected an integer >= 0"),
        ({"channel": {"keepalive_timeout_ms": "1"}}, "channel.keepalive_timeout_ms"),
        (
            {"channel": {"keepalive_permit_without_calls": 1}},
            "channel.keepalive_permit_without_calls: expected true or false",
        ),
    ],
)
def test_instructions_that_cannot_run(member: dict[str, Any], message: str) -> None:
    with pytest.raises(scripted_executor.InstructionError, match=message):
        scripted_executor.parse_instruction({"method": "Unary", "requests": [{}], **member}, 1.0)
