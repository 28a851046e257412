"""The scripted service and the generic executor (docs/peer-contract.md, "The scripted service and
the data suites"): the Python client runs test/fixtures/scripted-sample.json against the Python
server and reports what grpcio gave it; every scripted-* fault changes what it reports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from peers import PEER_DIR, RunningServer, run_client, run_client_with, running_server

from interop_peer import scripted_executor, scripted_service
from interop_peer.faults import Fault
from interop_peer.protos import scripted_pb2
from interop_peer.scripted_values import faulty_values

SAMPLE = PEER_DIR.parent.parent / "test" / "fixtures" / "scripted-sample.json"
SAMPLE_CASES = tuple(json.loads(SAMPLE.read_text())["cases"])
CASES_FLAG = f"--cases_file={SAMPLE}"

Observed = dict[str, Any]
# The server may see a slightly longer timeout than the client set: grpc-timeout is rounded up.
TIMEOUT_SLACK_MS = 50


def observe(port: int, cases: tuple[str, ...] = SAMPLE_CASES, cases_flag: str = CASES_FLAG) -> dict[str, Observed]:
    run = run_client(port, cases, cases_flag, "--rpc_timeout_ms=5000")
    assert run.returncode == 0, run.stderr
    assert [record["case"] for record in run.records] == list(cases)
    for record in run.records:
        assert record["status"] == "passed" and isinstance(record["ms"], float), record
    return {str(record["case"]): record["observed"] for record in run.records}  # type: ignore[misc]


@pytest.fixture(scope="module")
def sample(server: RunningServer) -> dict[str, Observed]:
    return observe(server.port)


def values_of(observed: Observed, index: int = 0) -> dict[str, Any]:
    return observed["responses"][index]["values"]  # type: ignore[no-any-return]


def test_values_arrive_exactly(sample: dict[str, Observed]) -> None:
    values = values_of(sample["unary_values"])
    # 64-bit integers exact, as decimal strings (Python ints), every 64-bit type.
    assert values["i64"] == "9007199254740993" and values["f64"] == "9007199254740993"
    assert values["u64"] == "18446744073709551615" and values["s64"] == "-9223372036854775808"
    assert values["sf64"] == "-9007199254740993" and values["i32"] == "-5"
    assert values["packed_i64"] == ["1", "-9007199254740993"] and values["unpacked_i64"] == ["2"]
    # Floats with their JSON-less forms, bytes in hex, enums as numbers, strings untouched.
    assert (values["d"], values["f"], values["b"]) == ("NaN", "-0", True)
    assert values["by"] == {"$bytes": "00ff"} and values["color"] == 3 and values["s"] == "a\x00😀é"
    # Maps with their keys as text; presence of optional and oneof members set to zero.
    assert values["str_i64"] == {"k": "9007199254740993"} and values["i64_str"] == {"-9007199254740993": "neg"}
    assert values["bool_str"] == {"true": "yes"}
    assert (values["opt_i32"], values["opt_s"], values["choice_i32"]) == ("0", "", "0")
    assert "opt_b" not in values and "choice_s" not in values and "u32" not in values
    assert values["nested"] == {"nested": {"s": "deep"}} and values["children"] == [{}, {"i32": "1"}]


def test_metadata_value_by_value(sample: dict[str, Observed]) -> None:
    observed = sample["unary_values"]
    assert observed["headers"] == [
        ["x-h", "h1"],
        ["x-h", "h2"],
        ["x-hb-bin", {"$bytes": "0001"}],
        ["x-hb-bin", {"$bytes": "02"}],
    ]
    assert observed["trailers"] == [["x-t", "t1"]]  # without the request-info trailer
    assert observed["status"] == {"code": 0, "message": ""}
    assert "details" not in observed


def test_request_info(sample: dict[str, Observed]) -> None:
    observed = sample["unary_values"]
    # An OK call with a response: RequestInfo in that response, no x-scripted-request-info-bin trailer.
    assert "request_info" not in observed
    info = observed["responses"][0]["request_info"]
    # Duplicate request metadata merged into one Metadatum, values in order; user-agent left out.
    assert info["headers"] == [
        {"key": "x-a", "values": ["one", "two"]},
        {"key": "x-b-bin", "binary_values": [{"$bytes": "00ff01"}]},
    ]
    # gRPC core's grpc-timeout encoding "may round up" (timeout_encoding.h): a few ms of slack.
    assert 0 < int(info["timeout_ms"]) <= 5000 + TIMEOUT_SLACK_MS
    assert info["requests"][0]["values"] == {"i64": "-9007199254740993", "by": {"$bytes": "00010203"}, "color": 7}
    # The requests' scripts come back too, their values as received.
    assert info["requests"][0]["script"]["replies"][0]["values"] == values_of(observed)
    # The client dialled 127.0.0.1:PORT (test_scripted_addressing.py: the other targets).
    assert re.fullmatch(r"127\.0\.0\.1:[0-9]+", info["authority"])
    assert re.fullmatch(r"ipv4:127\.0\.0\.1:[0-9]+", info["peer"])
    # An error call: RequestInfo in the trailer.
    assert int(sample["client_stream_early_error"]["request_info"]["timeout_ms"]) <= 3000 + TIMEOUT_SLACK_MS


def test_error_details_unpacked(sample: dict[str, Observed]) -> None:
    observed = sample["unary_error_details"]
    assert observed["status"] == {"code": 3, "message": "bad: 100% ✓, done\nnext"}
    assert observed["headers"] == [["x-before-error", "yes"]]  # sent explicitly: not trailers-only
    assert observed["trailers"] == [["x-t-bin", {"$bytes": "0001"}]]
    assert observed["details"] == {
        "status": {
            "code": "3",
            "message": "bad: 100% ✓, done\nnext",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "field_violations": [{"field": "name", "description": "empty"}],
                },
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "R",
                    "domain": "d.example",
                    "metadata": {"k": "v"},
                },
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retry_delay": {"seconds": "1", "nanos": "500000000"},
                },
            ],
        }
    }
    assert "request_info" in observed and "responses" not in observed  # an error: in the trailer


def test_contradicting_details_are_sent_and_refused_by_grpcio_status(sample: dict[str, Observed]) -> None:
    observed = sample["unary_contradicting_details"]
    # The server sent them (grpcio can): the client's grpcio-status refuses the mismatch.
    assert observed["status"] == {"code": 5, "message": "nf"}
    assert "doesn't match status code" in observed["details"]["error"]


def test_streams_and_cancel(sample: dict[str, Observed]) -> None:
    stream = sample["server_stream_then_error"]
    assert [values_of(stream, i) for i in range(3)] == [{"i32": "1"}, {"i32": "2"}, {"i32": "3"}]
    assert stream["status"] == {"code": 10, "message": "aborted after 3"}
    # Not OK: RequestInfo in the trailer, in no response.
    assert "request_info" in stream and not any("request_info" in response for response in stream["responses"])
    early = sample["client_stream_early_error"]
    assert early["status"] == {"code": 9, "message": "early"} and "responses" not in early
    assert [request["values"] for request in early["request_info"]["requests"]] == [{"i32": "1"}, {"i32": "2"}]
    cancelled = sample["bidi_cancel"]
    assert [values_of(cancelled)] == [{"s": "first"}] and cancelled["status"]["code"] == 1
    assert "request_info" not in cancelled and "request_info" not in cancelled["responses"][0]


def test_non_ascii_metadata(sample: dict[str, Observed]) -> None:
    # grpcio does not raise: gRPC core fails the call locally with INTERNAL "Invalid metadata".
    assert sample["non_ascii_metadata"] == {"status": {"code": 13, "message": "Invalid metadata"}}
    refused = sample["server_non_ascii_header"]
    assert refused["status"] == {"code": 13, "message": "scripted: cannot send metadata x-text: Illegal header value"}
    assert "headers" not in refused


def _faulty(observed: dict[str, Observed]) -> dict[str, Any]:
    return values_of(observed["unary_values"])


# fault → what it changes in the sample's observations (a predicate on them).
FAULT_EFFECTS: dict[Fault, Any] = {
    Fault.SCRIPTED_STATUS_UNKNOWN: lambda o: o["server_stream_then_error"]["status"]["code"] == 2
    and o["server_stream_then_error"]["status"]["message"] == "aborted after 3",
    Fault.SCRIPTED_MESSAGE_MANGLED: lambda o: o["unary_error_details"]["status"]["message"] == "bad: 100%% ?, done?next",
    Fault.SCRIPTED_DETAILS_DROPPED: lambda o: "details" not in o["unary_error_details"]
    and "details" not in o["unary_contradicting_details"],
    Fault.SCRIPTED_TRAILERS_AS_HEADERS: lambda o: ["x-t", "t1"] in o["unary_values"]["headers"]
    and "trailers" not in o["unary_values"],
    Fault.SCRIPTED_HEADERS_DROPPED: lambda o: "headers" not in o["unary_values"]
    and "headers" not in o["unary_error_details"],
    Fault.SCRIPTED_METADATA_JOINED: lambda o: o["unary_values"]["headers"]
    == [["x-h", "h1, h2"], ["x-hb-bin", {"$bytes": "000102"}]],
    Fault.SCRIPTED_INT64_DOUBLE: lambda o: _faulty(o)["i64"] == "9007199254740992"
    and _faulty(o)["packed_i64"] == ["1", "-9007199254740992"]
    and _faulty(o)["str_i64"] == {"k": "9007199254740992"},
    Fault.SCRIPTED_ENUM_SHIFTED: lambda o: _faulty(o)["color"] == 4,
    Fault.SCRIPTED_MAP_KEYS_OFF: lambda o: _faulty(o)["bool_str"] == {"false": "yes"}
    and _faulty(o)["str_i64"] == {"k~": "9007199254740993"}
    and _faulty(o)["i64_str"] == {"-9007199254740992": "neg"},
    # Flushed to 0: no longer present (implicit presence), so not reported.
    Fault.SCRIPTED_FLOATS_FLUSHED: lambda o: not {"d", "f"} & set(_faulty(o)),
    Fault.SCRIPTED_BYTES_TRUNCATED: lambda o: _faulty(o)["by"] == {"$bytes": "00"},
    Fault.SCRIPTED_STRINGS_TRUNCATED: lambda o: _faulty(o)["s"] == "a\x00😀" and _faulty(o)["nested"]["nested"]["s"] == "dee",
    Fault.SCRIPTED_PRESENCE_LOST: lambda o: not {"opt_i32", "opt_s", "choice_i32"} & set(_faulty(o)),
    Fault.SCRIPTED_REPEATED_TRUNCATED: lambda o: _faulty(o)["packed_i64"] == ["1"]
    and "unpacked_i64" not in _faulty(o)
    and _faulty(o)["children"] == [{}],
    Fault.SCRIPTED_REPLIES_DROP_LAST: lambda o: len(o["server_stream_then_error"]["responses"]) == 2
    and len(o["unary_values"]["responses"]) == 1,
    # Wherever it goes: the last response of an OK call, the trailer of an error.
    Fault.SCRIPTED_REQUEST_INFO_EMPTY: lambda o: o["unary_values"]["responses"][0]["request_info"] == {}
    and o["client_stream_early_error"]["request_info"] == {},
    Fault.SCRIPTED_PEER_IPV4: lambda o: o["unary_values"]["responses"][0]["request_info"]["peer"] == "ipv4:127.0.0.1:1"
    and o["client_stream_early_error"]["request_info"]["peer"] == "ipv4:127.0.0.1:1",
    Fault.SCRIPTED_AUTHORITY_DROPPED: lambda o: "authority" not in o["unary_values"]["responses"][0]["request_info"]
    and "authority" not in o["client_stream_early_error"]["request_info"],
    Fault.SCRIPTED_READ_ALL: lambda o: len(o["client_stream_early_error"]["request_info"]["requests"]) == 4,
}
ALL_SCRIPTED_FAULTS = [fault for fault in Fault if fault.startswith("scripted-")]
# Faults whose effect the sample cannot show deterministically, each with its own test below.
OWN_TEST_FAULTS = {
    Fault.SCRIPTED_DELAY_IGNORED,  # test_delay_ignored_fault_answers_at_once
    Fault.SCRIPTED_UNKNOWN_DROPPED,  # test_unknown_dropped_fault_discards_every_unknown_field (none in the sample)
    Fault.SCRIPTED_LIMITS_IGNORED,  # test_scripted_limits.py: test_limits_ignored_fault_lifts_the_server_*
    Fault.SCRIPTED_LIFECYCLE_IGNORED,  # test_scripted_lifecycle.py: test_*_lifecycle_ignored_*
    Fault.SCRIPTED_CANCEL_IGNORED,  # test_scripted_lifecycle.py: test_cancel_ignored_*
    Fault.SCRIPTED_SHUTDOWN_ABRUPT,  # test_scripted_restart.py: test_shutdown_abrupt_fault_*
    Fault.SCRIPTED_SECOND_HOST_IGNORED,  # test_scripted_balancing.py: test_second_host_ignored_fault_*
}
SCRIPTED_FAULTS = [fault for fault in ALL_SCRIPTED_FAULTS if fault not in OWN_TEST_FAULTS]


def test_every_scripted_fault_is_covered() -> None:
    assert set(FAULT_EFFECTS) == set(SCRIPTED_FAULTS) and len(ALL_SCRIPTED_FAULTS) == 26


@pytest.mark.parametrize("fault", SCRIPTED_FAULTS, ids=str)
def test_scripted_fault_changes_the_observations(fault: Fault, sample: dict[str, Observed]) -> None:
    assert not FAULT_EFFECTS[fault](sample), "the effect must not hold against a correct server"
    with running_server(f"--fault={fault}") as server:
        faulty = observe(server.port)
    assert FAULT_EFFECTS[fault](faulty), json.dumps(faulty, ensure_ascii=False)
    if fault != Fault.SCRIPTED_REQUEST_INFO_EMPTY:
        # The faults on reply values change `values` only: RequestInfo reports the requests as received.
        correct, got = (o["unary_values"]["responses"][0]["request_info"] for o in (sample, faulty))
        assert (got["headers"], got["requests"]) == (correct["headers"], correct["requests"])


def _ok_reply(*values: dict[str, Any]) -> dict[str, Any]:
    return {"script": {"replies": [{"values": value} for value in values]}}


# Cases for where RequestInfo goes: the last response of an OK call with a response, else the trailer.
PLACEMENT_CASES: dict[str, Any] = {
    "server_stream_ok": {"method": "ServerStream", "requests": [_ok_reply({"i32": 1}, {"i32": 2}, {"i32": 3})]},
    "server_stream_ok_no_reply": {"method": "ServerStream", "requests": [{"script": {}}]},
    "client_stream_ok": {
        "method": "ClientStream",
        "requests": [_ok_reply({"s": "only"}, {"s": "ignored"}), {"values": {"i32": 2}}],
    },
    "bidi_ok": {"method": "BidiStream", "requests": [_ok_reply({"i32": 1}, {"i32": 2}), {"values": {"i32": 2}}]},
    "bidi_one_reply_ok": {"method": "BidiStream", "requests": [_ok_reply({"i32": 1})]},
    # Bigger than any trailer limit (grpc-js: about 64 KiB; gRPC core's default is smaller still).
    "unary_large_ok": {"method": "Unary", "requests": [{"values": {"s": "x" * 200_000}}]},
    # Any inside the echoed script, unpacked inside the response's request_info.
    "unary_ok_with_details": {
        "method": "Unary",
        "requests": [
            {
                "script": {
                    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "R"}],
                    "trailers": [{"key": "x-t", "values": ["t"]}],
                }
            }
        ],
    },
}


def observe_cases(port: int, tmp_path: Path, name: str, cases: dict[str, Any]) -> dict[str, Observed]:
    """Runs `cases` (written to a cases file named `name`) and returns what the client observed."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"cases": cases}))
    return observe(port, tuple(cases), f"--cases_file={path}")


def observe_placement(port: int, tmp_path: Path) -> dict[str, Observed]:
    return observe_cases(port, tmp_path, "placement", PLACEMENT_CASES)


def test_request_info_in_the_last_response_of_ok_calls(server: RunningServer, tmp_path: Path) -> None:
    observed = observe_placement(server.port, tmp_path)
    for name, case in observed.items():
        assert case["status"] == {"code": 0, "message": ""}, name
    stream = observed["server_stream_ok"]
    assert "request_info" not in stream  # no trailer
    assert ["request_info" in response for response in stream["responses"]] == [False, False, True]
    assert stream["responses"][2]["values"] == {"i32": "3"}
    assert stream["responses"][2]["request_info"]["requests"][0]["script"]["replies"][2] == {"values": {"i32": "3"}}
    # An OK call without a response: the trailer.
    no_reply = observed["server_stream_ok_no_reply"]
    assert "responses" not in no_reply and no_reply["request_info"]["requests"] == [{"script": {}}]
    client_stream = observed["client_stream_ok"]
    assert "request_info" not in client_stream and len(client_stream["responses"]) == 1
    assert client_stream["responses"][0]["values"] == {"s": "only"}
    assert [request.get("values") for request in client_stream["responses"][0]["request_info"]["requests"]] == [
        None,
        {"i32": "2"},
    ]
    bidi = observed["bidi_ok"]
    assert "request_info" not in bidi and ["request_info" in response for response in bidi["responses"]] == [False, True]
    assert len(bidi["responses"][1]["request_info"]["requests"]) == 2
    one = observed["bidi_one_reply_ok"]
    assert "request_info" not in one and one["responses"][0]["values"] == {"i32": "1"}
    assert "request_info" in one["responses"][0]
    large = observed["unary_large_ok"]
    assert "request_info" not in large and large["responses"][0] == {
        "request_info": large["responses"][0]["request_info"]  # an empty reply: only request_info
    }
    assert large["responses"][0]["request_info"]["requests"][0]["values"]["s"] == "x" * 200_000
    details = observed["unary_ok_with_details"]
    assert "request_info" not in details and details["trailers"] == [["x-t", "t"]]
    assert details["responses"][0]["request_info"]["requests"][0]["script"]["details"] == [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "R"}
    ]


def test_request_info_follows_the_replies_left_by_drop_last(tmp_path: Path) -> None:
    with running_server(f"--fault={Fault.SCRIPTED_REPLIES_DROP_LAST}") as server:
        observed = observe_placement(server.port, tmp_path)
    stream = observed["server_stream_ok"]
    assert [response["values"] for response in stream["responses"]] == [{"i32": "1"}, {"i32": "2"}]
    assert "request_info" not in stream and "request_info" in stream["responses"][1]
    # The only reply dropped: no response, so the trailer.
    one = observed["bidi_one_reply_ok"]
    assert "responses" not in one and one["request_info"]["requests"][0]["script"]["replies"] == [
        {"values": {"i32": "1"}}
    ]
    # A unary call's one response is still sent, with RequestInfo.
    assert "request_info" not in observed["unary_large_ok"] and "request_info" in observed["unary_large_ok"]["responses"][0]


def test_instruction_that_cannot_run_fails_and_others_still_run(server: RunningServer, tmp_path: Path) -> None:
    cases = {
        "no_method": {"method": "Nope", "requests": [{}]},
        "bad_request": {"method": "Unary", "requests": [{"values": {"i64": "12abc"}}]},
        "two_unary_requests": {"method": "Unary", "requests": [{}, {}]},
        "empty_client_stream": {"method": "ClientStream", "requests": []},
        "bin_key_text_value": {"method": "Unary", "metadata": [{"key": "x-b-bin", "value": "text"}], "requests": [{}]},
    }
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": cases}))
    run = run_client(server.port, [*cases, "greeter_say_hello"], f"--cases_file={path}")
    records = run.by_case()
    assert run.returncode == 1
    for name in ("no_method", "two_unary_requests"):
        assert records[name]["status"] == "failed" and "cannot run the instruction" in str(records[name]["error"])
    # A value protobuf refuses to encode is the library refusing it: a local error, no call.
    assert set(records["bad_request"]["observed"]) == {"local_error"}  # type: ignore[arg-type]
    assert "12abc" in records["bad_request"]["observed"]["local_error"]  # type: ignore[index]
    # A client stream half-closed at once: an empty script, so one response (empty values) and OK,
    # carrying RequestInfo (no request read).
    [response] = records["empty_client_stream"]["observed"]["responses"]  # type: ignore[index]
    assert set(response) == {"request_info"} and "requests" not in response["request_info"]
    assert records["empty_client_stream"]["observed"]["status"] == {"code": 0, "message": ""}  # type: ignore[index]
    # grpcio raises before the call for a text value on a -bin key: a local error, alone.
    local = records["bin_key_text_value"]["observed"]
    assert set(local) == {"local_error"} and "expected bytes" in local["local_error"]  # type: ignore[arg-type]
    assert records["greeter_say_hello"]["status"] == "passed"


# A delay past the client's deadline, before anything (script.delay_ms) or before a reply.
DELAY_CASES: dict[str, Any] = {
    "script_delay": {"method": "Unary", "timeout_ms": 500, "requests": [{"script": {"delay_ms": 3000}}]},
    "reply_delay": {
        "method": "ServerStream",
        "timeout_ms": 500,
        "requests": [{"script": {"replies": [{"values": {"i32": 1}, "delay_ms": 3000}]}}],
    },
}


def test_delay_ignored_fault_answers_at_once(server: RunningServer, tmp_path: Path) -> None:
    path = tmp_path / "delays.json"
    path.write_text(json.dumps({"cases": DELAY_CASES}))
    correct = observe(server.port, tuple(DELAY_CASES), f"--cases_file={path}")
    for name in DELAY_CASES:
        assert correct[name]["status"]["code"] == 4, name  # DEADLINE_EXCEEDED
        assert "responses" not in correct[name], name
    with running_server(f"--fault={Fault.SCRIPTED_DELAY_IGNORED}") as faulty_server:
        faulty = observe(faulty_server.port, tuple(DELAY_CASES), f"--cases_file={path}")
    for name in DELAY_CASES:
        assert faulty[name]["status"] == {"code": 0, "message": ""}, name
    assert values_of(faulty["reply_delay"]) == {"i32": "1"}


LENIENT_CASES: dict[str, Any] = {
    "lenient_unary": {
        "method": "Unary",
        "metadata": [
            {"key": "X-Text", "value": "café ✓"},
            {"key": "x-b-bin", "value": {"$bytes": "ff00"}},
        ],
        "requests": [{"script": {"replies": [{"values": {"s": "reply"}}]}, "values": {"i64": "12abc"}}],
    },
    "lenient_client_stream": {
        "method": "ClientStream",
        "requests": [{"script": {"code": 9, "message": "m"}, "values": {"i32": 1}}, {"values": {"s": "x"}}],
    },
}
LENIENT = "--client_fault=scripted-lenient"


def test_scripted_lenient_client_fault_cleans_before_the_call(server: RunningServer, tmp_path: Path) -> None:
    path = tmp_path / "lenient.json"
    path.write_text(json.dumps({"cases": LENIENT_CASES}))
    names = [*LENIENT_CASES, "greeter_say_hello"]
    # Without the fault: the library refuses the int64 "12abc" (no call).
    correct = run_client(server.port, names, f"--cases_file={path}").by_case()
    assert set(correct["lenient_unary"]["observed"]) == {"local_error"}  # type: ignore[arg-type]
    # With it: the call is made, with the values left out and the text metadata cleaned.
    run = run_client(server.port, names, f"--cases_file={path}", LENIENT)
    assert run.returncode == 0, run.stderr
    records = run.by_case()
    unary = records["lenient_unary"]["observed"]
    assert unary["status"] == {"code": 0, "message": ""}  # type: ignore[index]
    info = unary["responses"][0]["request_info"]  # type: ignore[index]
    assert info["headers"] == [
        {"key": "x-text", "values": ["caf "]},
        {"key": "x-b-bin", "binary_values": [{"$bytes": "ff00"}]},
    ]
    assert [set(request) for request in info["requests"]] == [{"script"}]
    stream = records["lenient_client_stream"]["observed"]
    assert stream["status"] == {"code": 9, "message": "m"}  # type: ignore[index]
    # The second request had values only: it arrives empty.
    assert [request.get("values") for request in stream["request_info"]["requests"]] == [None, None]  # type: ignore[index]
    assert stream["request_info"]["requests"][1] == {}  # type: ignore[index]
    # The old cases do not see it.
    assert records["greeter_say_hello"]["status"] == "passed"


def test_scripted_lenient_is_accepted_by_the_old_cases(server: RunningServer) -> None:
    run = run_client(server.port, ["greeter_say_hello", "compute_length"], LENIENT)
    assert run.returncode == 0, run.stderr
    assert [record["status"] for record in run.records] == ["passed", "passed"]


def test_unusable_cases_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    for flag in (f"--cases_file={bad}", f"--cases_file={tmp_path / 'missing.json'}"):
        run = run_client_with(1, "--test_case=x", flag)
        assert run.returncode == 2 and run.records == [] and "--cases_file" in run.stderr


# Unknown fields: field 1000 varint 150, field 1001 bytes "relay", field 1002 fixed32; field 1003 fixed64.
UNKNOWN_VALUES = "c03e9601ca3e0572656c6179d53e01020304"
UNKNOWN_NESTED = "d93e0102030405060708"
UNKNOWN_REPLY = "c03e07"  # field 1000 varint 7
UNKNOWN_CASES: dict[str, Any] = {
    "unary_unknown": {
        "method": "Unary",
        "requests": [
            {
                "script": {"replies": [{"values": {"i32": 1, "$unknown": UNKNOWN_REPLY}}]},
                "values": {"s": "v", "$unknown": UNKNOWN_VALUES, "nested": {"$unknown": UNKNOWN_NESTED}},
            }
        ],
    },
    # An error: RequestInfo in the trailer. Every kind of place, camelCase names too.
    "client_stream_unknown_error": {
        "method": "ClientStream",
        "requests": [
            {"$unknown": "c03e01", "script": {"code": 9, "message": "m"}},
            {
                "values": {
                    "children": [{}, {"$unknown": "c03e02"}],
                    "strValues": {"k": {"$unknown": "c03e03", "choiceValues": {"$unknown": "c03e04"}}},
                    "$unknown": "a33f0801ca3e0161a43f",  # group 1012 {1: 1, 1001: "a"}
                }
            },
        ],
    },
}


def observe_unknown(port: int, tmp_path: Path) -> dict[str, Observed]:
    return observe_cases(port, tmp_path, "unknown", UNKNOWN_CASES)


def test_unknown_fields_are_sent_kept_and_reported(server: RunningServer, tmp_path: Path) -> None:
    observed = observe_unknown(server.port, tmp_path)
    unary = observed["unary_unknown"]
    assert unary["status"] == {"code": 0, "message": ""}
    # The reply's values as the script had them, unknown fields included.
    assert values_of(unary) == {"i32": "1", "$unknown": UNKNOWN_REPLY}
    [request] = unary["responses"][0]["request_info"]["requests"]
    assert request["values"] == {"s": "v", "nested": {"$unknown": UNKNOWN_NESTED}, "$unknown": UNKNOWN_VALUES}
    assert request["script"]["replies"][0]["values"] == values_of(unary)
    assert "$unknown" not in request and "$unknown" not in unary["responses"][0]  # none given: none reported
    stream = observed["client_stream_unknown_error"]
    assert stream["status"] == {"code": 9, "message": "m"}
    first, second = stream["request_info"]["requests"]
    assert first == {"script": {"code": "9", "message": "m"}, "$unknown": "c03e01"}
    assert second == {
        "values": {
            "str_values": {"k": {"choice_values": {"$unknown": "c03e04"}, "$unknown": "c03e03"}},
            "children": [{}, {"$unknown": "c03e02"}],
            "$unknown": "a33f0801ca3e0161a43f",
        }
    }


def test_unknown_dropped_fault_discards_every_unknown_field(server: RunningServer, tmp_path: Path) -> None:
    correct = observe_unknown(server.port, tmp_path)
    assert "$unknown" in json.dumps(correct["unary_unknown"]) and "$unknown" in json.dumps(
        correct["client_stream_unknown_error"]
    )
    with running_server(f"--fault={Fault.SCRIPTED_UNKNOWN_DROPPED}") as faulty_server:
        faulty = observe_unknown(faulty_server.port, tmp_path)
    for name, case in faulty.items():
        assert "$unknown" not in json.dumps(case), name  # neither in the replies nor in RequestInfo
    # Nothing else changes: the known fields are all there.
    unary = faulty["unary_unknown"]
    assert values_of(unary) == {"i32": "1"}
    assert unary["responses"][0]["request_info"]["requests"][0]["values"] == {"s": "v", "nested": {}}
    assert faulty["client_stream_unknown_error"]["request_info"]["requests"][1]["values"] == {
        "str_values": {"k": {"choice_values": {}}},
        "children": [{}, {}],
    }


def test_unknown_that_is_not_hex_fails_the_instruction(server: RunningServer, tmp_path: Path) -> None:
    cases = {
        "odd": {"method": "Unary", "requests": [{"values": {"$unknown": "c03"}}]},
        "not_hex": {"method": "Unary", "requests": [{"script": {"replies": [{"values": {"$unknown": "zz"}}]}}]},
        "not_a_string": {"method": "Unary", "requests": [{"$unknown": 12}]},
        "truncated_wire_format": {"method": "Unary", "requests": [{"values": {"nested": {"$unknown": "ca3e05"}}}]},
    }
    path = tmp_path / "bad_unknown.json"
    path.write_text(json.dumps({"cases": cases}))
    run = run_client(server.port, [*cases, "greeter_say_hello"], f"--cases_file={path}")
    assert run.returncode == 1
    records = run.by_case()
    for name in cases:
        assert records[name]["status"] == "failed", name
        assert "cannot run the instruction" in str(records[name]["error"]) and "$unknown" in str(records[name]["error"])
    assert "requests[0].script.replies[0].values" in str(records["not_hex"]["error"])
    assert records["greeter_say_hello"]["status"] == "passed"


# --- units -----------------------------------------------------------------------------------


def _field(number: int, wire_type: int, data: Any) -> SimpleNamespace:
    return SimpleNamespace(field_number=number, wire_type=wire_type, data=data)


def test_unknown_fields_re_encoded_by_wire_type() -> None:
    encode = scripted_executor.encode_unknown_fields
    assert encode([]) == b""
    assert encode([_field(1000, 0, 150)]).hex() == "c03e9601"  # varint
    assert encode([_field(1, 0, 2**64 - 1)]).hex() == "08ffffffffffffffffff01"
    assert encode([_field(1003, 1, 0x0807060504030201)]).hex() == "d93e0102030405060708"  # fixed64
    assert encode([_field(1001, 2, b"relay")]).hex() == "ca3e0572656c6179"  # length-delimited
    assert encode([_field(1, 2, b"x" * 200)]).hex() == "0ac801" + "78" * 200
    assert encode([_field(1002, 5, 0x04030201)]).hex() == "d53e01020304"  # fixed32
    group = [_field(1, 0, 1), _field(1001, 2, b"a")]
    assert encode([_field(1012, 3, group)]).hex() == "a33f0801ca3e0161a43f"  # group, then its end tag
    with pytest.raises(ValueError, match="wire type 4"):
        encode([_field(1, 4, None)])
    # What upb keeps, in order, comes back as it was sent.
    wire = UNKNOWN_VALUES + UNKNOWN_NESTED + "a33f0801ca3e0161a43f"
    values = scripted_pb2.Values()
    values.MergeFromString(bytes.fromhex(wire))
    assert scripted_executor.unknown_hex(values) == wire
    assert scripted_executor.encode_message(values) == {"$unknown": scripted_executor.unknown_hex(values)}
    assert scripted_executor.unknown_hex(scripted_pb2.Values(i32=1)) == ""
    assert "$unknown" not in scripted_executor.encode_message(scripted_pb2.Values(i32=1))


def test_unknown_in_the_instruction_units() -> None:
    request_json = {
        "$unknown": "c03e01",
        "values": {"$unknown": UNKNOWN_VALUES, "nested": {"$unknown": UNKNOWN_NESTED}},
        "script": {"replies": [{}, {"values": {"str_values": {"$unknown": {"$unknown": "c03e02"}}}}]},
    }
    before = json.dumps(request_json)
    [request] = scripted_executor.parse_instruction({"method": "Unary", "requests": [request_json]}, 1.0).requests
    assert json.dumps(request_json) == before  # the instruction is left as it was
    assert scripted_executor.unknown_hex(request) == "c03e01"
    assert scripted_executor.unknown_hex(request.values) == UNKNOWN_VALUES
    assert scripted_executor.unknown_hex(request.values.nested) == UNKNOWN_NESTED
    # A map key "$unknown" is a key, not unknown fields; its value's `$unknown` is.
    assert scripted_executor.unknown_hex(request.script.replies[1].values.str_values["$unknown"]) == "c03e02"
    # A field number the type declares is merged as that field (protobuf's own MergeFromString).
    [known] = scripted_executor.parse_instruction(
        {"method": "Unary", "requests": [{"values": {"$unknown": "0805"}}]}, 1.0
    ).requests
    assert known.values.i32 == 5 and scripted_executor.unknown_hex(known.values) == ""
    for bad in ("c03", "zz", "c0 3e", 1, None):
        with pytest.raises(scripted_executor.InstructionError, match=r"requests\[0\]\.values: \$unknown"):
            scripted_executor.parse_instruction({"method": "Unary", "requests": [{"values": {"$unknown": bad}}]}, 1.0)
    with pytest.raises(scripted_executor.InstructionError, match=r"requests\[0\]\.values\.children\[0\]"):
        scripted_executor.parse_instruction(
            {"method": "Unary", "requests": [{"values": {"children": [{"$unknown": "ca3e05"}]}}]}, 1.0
        )


def test_request_info_helpers() -> None:
    assert scripted_service.timeout_ms(9.2e18) == -1 and scripted_service.timeout_ms(1.2349) == 1234
    headers = scripted_service.request_headers(
        [("user-agent", "x"), ("a", "1"), ("grpc-x", "y"), ("b-bin", b"\x00"), ("a", "2"), ("te", "t")]
    )
    assert [(entry.key, list(entry.values), list(entry.binary_values)) for entry in headers] == [
        ("a", ["1", "2"], []),
        ("b-bin", [], [b"\x00"]),
    ]
    assert scripted_service.mangled("é 100%\n") == "? 100%%?"


def test_metadata_checked_with_core_rules() -> None:
    scripted_service.check_metadata([("x-ok", "printable ~"), ("x-b-bin", b"\xff\x00")])
    for bad, reason in ((("x-text", "café"), "Illegal header value"), (("X-Up", "v"), "Illegal header key")):
        with pytest.raises(scripted_service.MetadataRefused, match=reason):
            scripted_service.check_metadata([bad])


def test_value_faults_units() -> None:
    values = scripted_pb2.Values(
        u64=2**64 - 1, d=1e-310, f=float("inf"), choice_values=scripted_pb2.Values(), opt_d=-0.0, i32_bytes={7: b"ab"}
    )
    through = faulty_values(values, frozenset({Fault.SCRIPTED_INT64_DOUBLE}))
    assert through.u64 == 2**64 - 1  # 2^64 as a double, saturated back to the maximum
    flushed = faulty_values(scripted_pb2.Values(d=0.1, f=float("inf")), frozenset({Fault.SCRIPTED_FLOATS_FLUSHED}))
    assert flushed.d == 0.10000000149011612 and flushed.f == 0.0
    lost = faulty_values(values, frozenset({Fault.SCRIPTED_PRESENCE_LOST}))
    assert not lost.HasField("choice_values") and not lost.HasField("opt_d")
    keys = faulty_values(values, frozenset({Fault.SCRIPTED_MAP_KEYS_OFF, Fault.SCRIPTED_BYTES_TRUNCATED}))
    assert dict(keys.i32_bytes) == {8: b"a"}
    assert faulty_values(values, frozenset()) is values


def test_lenient_units() -> None:
    assert scripted_executor.lenient_metadata(
        [("X-Text", "café ✓\t~"), ("x-b-bin", b"\xff"), ("X-Odd-bin", "é"), (":path", "/x"), ("x y", "z")]
    ) == [("x-text", "caf ~"), ("x-b-bin", b"\xff"), ("X-Odd-bin", "é")]
    assert scripted_executor.lenient_request({"script": {"code": 1}, "values": {"i64": "x"}}) == {"script": {"code": 1}}
    parsed = scripted_executor.parse_instruction(
        {"method": "Unary", "requests": [{"values": {"i64": "12abc"}}]}, 1.0, lenient=True
    )
    assert parsed.requests == (scripted_pb2.ScriptedRequest(),)
    with pytest.raises(scripted_executor.EncodeRefused, match="12abc"):
        scripted_executor.parse_instruction({"method": "Unary", "requests": [{"values": {"i64": "12abc"}}]}, 1.0)


def test_encoding_units() -> None:
    encode = scripted_executor.encode_float
    assert [encode(x) for x in (float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 1.5)] == [
        "NaN",
        "Infinity",
        "-Infinity",
        "-0",
        0.0,
        1.5,
    ]
    message = scripted_pb2.Values(u64_str={18446744073709551615: "max"}, opt_b=False, colors=[1, 5])
    assert scripted_executor.encode_message(message) == {
        "colors": [1, 5],
        "u64_str": {"18446744073709551615": "max"},
        "opt_b": False,
    }
    unknown = scripted_pb2.ScriptedRequest()
    unknown.script.details.add(type_url="type.googleapis.com/no.Such", value=b"\x01")
    assert scripted_executor.encode_message(unknown)["script"]["details"] == [
        {"@type": "type.googleapis.com/no.Such", "$value": {"$bytes": "01"}}
    ]


def test_scripted_cases_share_one_channel_per_peer(server: RunningServer) -> None:
    from interop_peer.cases import Peer

    peer = Peer(host="127.0.0.1", port=server.port, timeout=5.0)
    other = Peer(host="127.0.0.1", port=server.port, timeout=1.0)
    try:
        first = scripted_executor.shared_channel(peer)
        assert scripted_executor.shared_channel(peer) is first
        assert scripted_executor.shared_channel(other) is not first
        observed = scripted_executor.execute(peer, {"method": "Unary", "requests": [{"script": {}}]})
        assert observed["status"]["code"] == 0, observed
        assert scripted_executor.shared_channel(peer) is first
    finally:
        scripted_executor.close_channels()
    assert scripted_executor.shared_channel(peer) is not first
    scripted_executor.close_channels()
