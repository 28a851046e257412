"""Message size limits, compression and deadlines of the scripted service and the generic executor
(docs/peer-contract.md: the server's --max_receive_message_length / --max_send_message_length,
script.response_compression and Reply.fill_bytes; the instruction's timeout_ms, compression,
channel and $fill_bytes; the faults scripted-limits-ignored, scripted-client-limits-ignored and
scripted-deadline-ignored).

Every case runs the real server (server.py) and the real client (client.py with a cases file) over
loopback, except the checks of what goes on the wire, which use a raw grpcio server or channel with
gRPC core's decompression off, so that they see the compressed bytes themselves."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from peers import RunningServer, run_client, running_server

from interop_peer import compression, scripted_executor, scripted_service
from interop_peer.cases import Peer
from interop_peer.faults import Fault
from interop_peer.protos import scripted_pb2

Observed = dict[str, Any]
MiB = 1024 * 1024
DEFAULT_LIMIT = 4 * MiB  # grpcio's default receive limit, on both sides
BIG_CHANNEL = {"max_receive_message_length": 16 * MiB}  # takes the server's echo of a 4 MiB request
RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, UNIMPLEMENTED = 8, 4, 12
CLIENT_LIMITS_IGNORED = "--client_fault=scripted-client-limits-ignored"
DEADLINE_IGNORED = "--client_fault=scripted-deadline-ignored"
TEXT = "compressible text, " * 2000


def request_size(fill: int, script: bool = True) -> int:
    """The serialized size of ScriptedRequest{script{}, values{by: fill bytes}} (without script: no script)."""
    request = scripted_pb2.ScriptedRequest(values=scripted_pb2.Values(by=bytes(fill)))
    if script:
        request.script.SetInParent()
    return request.ByteSize()


def response_size(fill: int) -> int:
    return scripted_pb2.ScriptedResponse(values=scripted_pb2.Values(by=bytes(fill))).ByteSize()


def test_message_sizes_of_the_cases() -> None:
    # 2 (script) + 1 + 4 (values' tag and length) + 1 + 4 (by's tag and length) + N in the 4 MiB range.
    assert request_size(DEFAULT_LIMIT - 12) == DEFAULT_LIMIT and request_size(DEFAULT_LIMIT - 11) == DEFAULT_LIMIT + 1
    assert request_size(DEFAULT_LIMIT - 10, script=False) == DEFAULT_LIMIT
    assert response_size(DEFAULT_LIMIT - 10) == DEFAULT_LIMIT
    # 2 + 1 + 2 + 1 + 2 + N around 1 KiB.
    assert request_size(1016) == 1024 and response_size(1018) == 1024


def observe(port: int, tmp_path: Path, cases: dict[str, Any], *flags: str) -> dict[str, Observed]:
    """Runs the cases (a cases file) with client.py; every one must pass (be run) with what it observed."""
    path = tmp_path / f"cases-{time.monotonic_ns()}.json"
    path.write_text(json.dumps({"cases": cases}))
    run = run_client(port, list(cases), f"--cases_file={path}", *flags, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert [record["case"] for record in run.records] == list(cases)
    return {str(record["case"]): record["observed"] for record in run.records}  # type: ignore[misc]


def code(observed: Observed) -> int:
    return int(observed["status"]["code"])


def ok(observed: Observed) -> bool:
    return observed.get("status") == {"code": 0, "message": ""}


def echoed(observed: Observed) -> list[Any]:
    """The requests the server read, from RequestInfo (in the last response, or the trailer)."""
    info = observed.get("request_info") or observed["responses"][-1]["request_info"]
    return info["requests"]  # type: ignore[no-any-return]


def zeros(length: int) -> dict[str, Any]:
    """How the executor reports `length` zero bytes."""
    if length > scripted_executor.LONG_BYTES:
        return {"$sha256": hashlib.sha256(bytes(length)).hexdigest(), "$length": length}
    return {"$bytes": "00" * length}


def unary_fill(fill: int, **instruction: Any) -> dict[str, Any]:
    return {"method": "Unary", "requests": [{"script": {}, "$fill_bytes": fill}], **instruction}


def stream_fills(*fills: int, **instruction: Any) -> dict[str, Any]:
    replies = [{"fill_bytes": fill} for fill in fills] + [{"values": {"s": "end"}}]
    return {"method": "ServerStream", "requests": [{"script": {"replies": replies}}], **instruction}


# --- the server's limits ---------------------------------------------------------------------

LOWERED_RECEIVE_CASES = {
    "receive_exact": unary_fill(1016),
    "receive_over": unary_fill(1017),
    # Compressed to far less than 1024 bytes: the limit is on the decompressed size.
    "receive_over_gzip": unary_fill(1017, compression="gzip"),
    "receive_over_deflate_stream": {
        "method": "ClientStream",
        "channel": {"compression": "deflate"},
        "requests": [{"script": {}}, {"$fill_bytes": 2000}],
    },
}
LOWERED_SEND_CASES = {"send_exact_then_over": stream_fills(1018, 1019)}
RECEIVE_FLAG = "--max_receive_message_length=1024"
SEND_FLAG = "--max_send_message_length=1024"


def test_server_receive_limit_lowered(tmp_path: Path) -> None:
    with running_server(RECEIVE_FLAG) as server:
        observed = observe(server.port, tmp_path, LOWERED_RECEIVE_CASES)
    exact = observed["receive_exact"]
    assert ok(exact) and echoed(exact)[0]["values"] == {"by": zeros(1016)}
    for name in ("receive_over", "receive_over_gzip", "receive_over_deflate_stream"):
        over = observed[name]
        assert code(over) == RESOURCE_EXHAUSTED, (name, over)
        assert "Received message larger than max" in over["status"]["message"], (name, over)
        assert "responses" not in over and "request_info" not in over, name  # the handler never ended it
    assert "(1025 vs. 1024)" in observed["receive_over"]["status"]["message"]
    assert f"({request_size(1017)} vs. 1024)" in observed["receive_over_gzip"]["status"]["message"]


def test_server_send_limit_lowered(tmp_path: Path) -> None:
    with running_server(SEND_FLAG) as server:
        sent = observe(server.port, tmp_path, LOWERED_SEND_CASES)["send_exact_then_over"]
    assert code(sent) == RESOURCE_EXHAUSTED and "Sent message larger than max (1025 vs. 1024)" in sent["status"]["message"]
    assert sent["responses"] == [{"values": {"by": zeros(1018)}}]


def test_server_limits_hold_for_every_worker(tmp_path: Path) -> None:
    # `channel` gives each instruction a connection of its own: SO_REUSEPORT spreads them over the workers.
    cases = {f"over_{index}": unary_fill(1017, channel={}) for index in range(8)}
    cases |= {f"exact_{index}": unary_fill(1016, channel={}) for index in range(8)}
    with running_server("--workers=3", RECEIVE_FLAG) as server:
        observed = observe(server.port, tmp_path, cases)
    for name, case in observed.items():
        assert code(case) == (RESOURCE_EXHAUSTED if name.startswith("over") else 0), (name, case)


def test_limits_ignored_fault_lifts_the_server_limits(tmp_path: Path) -> None:
    with running_server(RECEIVE_FLAG, SEND_FLAG, f"--fault={Fault.SCRIPTED_LIMITS_IGNORED}") as server:
        observed = observe(server.port, tmp_path, {**LOWERED_RECEIVE_CASES, **LOWERED_SEND_CASES})
    for name in LOWERED_RECEIVE_CASES:
        assert ok(observed[name]), (name, observed[name])
    assert echoed(observed["receive_over_gzip"])[0]["values"] == {"by": zeros(1017)}
    assert echoed(observed["receive_over_deflate_stream"])[1]["values"] == {"by": zeros(2000)}
    sent = observed["send_exact_then_over"]
    assert ok(sent) and [response.get("values") for response in sent["responses"]] == [
        {"by": zeros(1018)},
        {"by": zeros(1019)},
        {"s": "end"},
    ]


DEFAULT_SERVER_CASES = {
    "receive_exact": unary_fill(DEFAULT_LIMIT - 12, channel=BIG_CHANNEL),
    "receive_over": unary_fill(DEFAULT_LIMIT - 11, channel=BIG_CHANNEL),
    "receive_over_client_stream": {
        "method": "ClientStream",
        "channel": BIG_CHANNEL,
        "requests": [{"script": {}}, {"$fill_bytes": DEFAULT_LIMIT - 9}],
    },
    # A few KiB on the wire, 5 MiB inflated.
    "decompression_bomb": unary_fill(5 * MiB, channel={"compression": "gzip", **BIG_CHANNEL}),
}


def test_server_default_receive_limit(server: RunningServer, tmp_path: Path) -> None:
    observed = observe(server.port, tmp_path, DEFAULT_SERVER_CASES)
    exact = observed["receive_exact"]
    assert ok(exact) and echoed(exact)[0]["values"] == {"by": zeros(DEFAULT_LIMIT - 12)}
    for name in ("receive_over", "receive_over_client_stream", "decompression_bomb"):
        over = observed[name]
        assert code(over) == RESOURCE_EXHAUSTED and "request_info" not in over, (name, over)
        assert f"vs. {DEFAULT_LIMIT})" in over["status"]["message"], (name, over)


def test_limits_ignored_fault_lifts_the_server_default(tmp_path: Path) -> None:
    with running_server(f"--fault={Fault.SCRIPTED_LIMITS_IGNORED}") as server:
        observed = observe(server.port, tmp_path, DEFAULT_SERVER_CASES)
    for name, case in observed.items():
        assert ok(case), (name, case)
    assert echoed(observed["decompression_bomb"])[0]["values"] == {"by": zeros(5 * MiB)}
    assert echoed(observed["receive_over_client_stream"])[1] == {"values": {"by": zeros(DEFAULT_LIMIT - 9)}}


def test_server_receive_raised(tmp_path: Path) -> None:
    cases = {"six_mib": unary_fill(6 * MiB, channel=BIG_CHANNEL)}
    with running_server(f"--max_receive_message_length={8 * MiB}") as server:
        observed = observe(server.port, tmp_path, cases)["six_mib"]
    assert ok(observed) and echoed(observed)[0]["values"] == {"by": zeros(6 * MiB)}


# --- the client's limits ---------------------------------------------------------------------

CLIENT_CASES = {
    "receive_default_exact": stream_fills(DEFAULT_LIMIT - 10),
    "receive_default_over": stream_fills(DEFAULT_LIMIT - 9),
    "receive_default_over_unary": {
        "method": "Unary",
        "requests": [{"script": {"replies": [{"fill_bytes": DEFAULT_LIMIT - 9}]}}],
    },
    "receive_lowered": {
        "method": "ServerStream",
        "channel": {"max_receive_message_length": 1024},
        "requests": [{"script": {"replies": [{"fill_bytes": 1018}, {"fill_bytes": 1019}]}}],
    },
    "receive_raised": stream_fills(6 * MiB, channel={"max_receive_message_length": 8 * MiB}),
    "send_exact": unary_fill(1016, channel={"max_send_message_length": 1024}),
    "send_over": unary_fill(1017, channel={"max_send_message_length": 1024}),
}


def test_client_limits(server: RunningServer, tmp_path: Path) -> None:
    observed = observe(server.port, tmp_path, CLIENT_CASES)
    exact = observed["receive_default_exact"]
    # The 4 MiB response arrives; the last one, carrying RequestInfo (the script), is small.
    assert ok(exact) and [response.get("values") for response in exact["responses"]] == [
        {"by": zeros(DEFAULT_LIMIT - 10)},
        {"s": "end"},
    ]
    for name in ("receive_default_over", "receive_default_over_unary"):
        over = observed[name]
        assert code(over) == RESOURCE_EXHAUSTED and "responses" not in over, (name, over)
        assert f"vs. {DEFAULT_LIMIT})" in over["status"]["message"], (name, over)
    # The unary response also carries RequestInfo (the script), so it is a little larger.
    assert f"({DEFAULT_LIMIT + 1} vs. {DEFAULT_LIMIT})" in observed["receive_default_over"]["status"]["message"]
    lowered = observed["receive_lowered"]
    assert code(lowered) == RESOURCE_EXHAUSTED and lowered["responses"] == [{"values": {"by": zeros(1018)}}]
    raised = observed["receive_raised"]
    assert ok(raised) and raised["responses"][0] == {"values": {"by": zeros(6 * MiB)}}
    assert ok(observed["send_exact"]) and echoed(observed["send_exact"])[0]["values"] == {"by": zeros(1016)}
    over = observed["send_over"]
    assert code(over) == RESOURCE_EXHAUSTED and "request_info" not in over
    assert "Sent message larger than max (1025 vs. 1024)" in over["status"]["message"]


def test_client_limits_ignored_fault_lifts_every_channel_limit(server: RunningServer, tmp_path: Path) -> None:
    observed = observe(server.port, tmp_path, CLIENT_CASES, CLIENT_LIMITS_IGNORED)
    for name, case in observed.items():
        assert ok(case), (name, case)
    assert observed["receive_default_over"]["responses"][0] == {"values": {"by": zeros(DEFAULT_LIMIT - 9)}}
    assert observed["receive_default_over_unary"]["responses"][0]["values"] == {"by": zeros(DEFAULT_LIMIT - 9)}
    assert [response["values"] for response in observed["receive_lowered"]["responses"]] == [
        {"by": zeros(1018)},
        {"by": zeros(1019)},
    ]
    assert echoed(observed["send_over"])[0]["values"] == {"by": zeros(1017)}


def test_client_limits_ignored_fault_makes_the_shared_channel_unlimited(server: RunningServer) -> None:
    peer = Peer(host="127.0.0.1", port=server.port, timeout=10.0)
    faults = scripted_executor.ExecutorFaults.of("scripted-client-limits-ignored")
    assert faults == scripted_executor.ExecutorFaults(limits_ignored=True)
    try:
        shared = scripted_executor.shared_channel(peer, limits_ignored=True)
        assert scripted_executor.shared_channel(peer) is not shared
        # Server limits too: a 5 MiB request on the shared channel is refused by the server alone.
        observed = scripted_executor.execute(peer, unary_fill(5 * MiB), faults)
    finally:
        scripted_executor.close_channels()
    assert code(observed) == RESOURCE_EXHAUSTED and observed["status"]["message"].endswith(f"vs. {DEFAULT_LIMIT})")


# --- compression -----------------------------------------------------------------------------


def compressed_request(**instruction: Any) -> dict[str, Any]:
    return {"method": "Unary", "requests": [{"script": {}, "values": {"s": TEXT}}], **instruction}


COMPRESSION_CASES = {
    "gzip_per_call": compressed_request(compression="gzip"),
    "deflate_per_call": compressed_request(compression="deflate"),
    "identity_per_call": compressed_request(compression="identity"),
    "gzip_per_channel": compressed_request(channel={"compression": "gzip"}),
    "deflate_per_channel": compressed_request(channel={"compression": "deflate"}),
    "gzip_client_stream_per_channel": {
        "method": "ClientStream",
        "channel": {"compression": "gzip"},
        "requests": [{"script": {}, "values": {"s": TEXT}}, {"values": {"i64": "9007199254740993", "s": TEXT}}],
    },
    "gzip_bidi_per_call": {
        "method": "BidiStream",
        "compression": "gzip",
        "requests": [{"script": {"replies": [{"values": {"s": "one"}}]}, "values": {"s": TEXT}}, {"values": {"s": TEXT}}],
    },
    "gzip_responses": {
        "method": "ServerStream",
        "requests": [
            {"script": {"response_compression": "gzip", "replies": [{"values": {"s": TEXT}}, {"fill_bytes": MiB}]}}
        ],
    },
    "deflate_unary_response": {
        "method": "Unary",
        "requests": [{"script": {"response_compression": "deflate", "replies": [{"values": {"s": TEXT}}]}}],
    },
    "deflate_responses_headers_first": {
        "method": "BidiStream",
        "requests": [
            {
                "script": {
                    "response_compression": "deflate",
                    "send_headers_first": True,
                    "headers": [{"key": "x-h", "values": ["v"]}],
                    "replies": [{"values": {"s": TEXT}}],
                }
            }
        ],
    },
    "identity_responses": {
        "method": "Unary",
        "requests": [{"script": {"response_compression": "identity", "replies": [{"values": {"s": "x"}}]}}],
    },
    "unknown_response_compression": {
        "method": "ServerStream",
        "requests": [
            {"script": {"response_compression": "br", "headers": [{"key": "x-h", "values": ["v"]}], "replies": [{}]}}
        ],
    },
}


def test_compressed_requests_and_responses_arrive_intact(server: RunningServer, tmp_path: Path) -> None:
    observed = observe(server.port, tmp_path, COMPRESSION_CASES)
    for name in ("gzip_per_call", "deflate_per_call", "identity_per_call", "gzip_per_channel", "deflate_per_channel"):
        assert ok(observed[name]), (name, observed[name])
        assert echoed(observed[name]) == [{"script": {}, "values": {"s": TEXT}}], name
    stream = observed["gzip_client_stream_per_channel"]
    assert ok(stream) and echoed(stream)[1] == {"values": {"i64": "9007199254740993", "s": TEXT}}
    bidi = observed["gzip_bidi_per_call"]
    assert ok(bidi) and [request["values"] for request in echoed(bidi)] == [{"s": TEXT}, {"s": TEXT}]
    responses = observed["gzip_responses"]
    assert ok(responses) and [response["values"] for response in responses["responses"]] == [
        {"s": TEXT},
        {"by": zeros(MiB)},
    ]
    assert observed["deflate_unary_response"]["responses"][0]["values"] == {"s": TEXT}
    first = observed["deflate_responses_headers_first"]
    assert ok(first) and first["headers"] == [["x-h", "v"]] and first["responses"][0]["values"] == {"s": TEXT}
    assert ok(observed["identity_responses"])
    refused = observed["unknown_response_compression"]
    assert refused["status"]["code"] == UNIMPLEMENTED
    assert refused["status"]["message"].startswith("scripted: cannot compress responses with br: ")
    # Before anything was sent: no headers, no response; RequestInfo in the trailer.
    assert "headers" not in refused and "responses" not in refused and "request_info" in refused


class RawRecorder:
    """A grpcio server with core's decompression off that records every request's wire bytes
    (compressed as they came) and answers Unary with an empty message."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

        def unary(request: bytes, context: grpc.ServicerContext) -> bytes:
            self.received.append(request)
            return b""

        def client_stream(requests: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
            self.received.extend(requests)
            return b""

        handler = grpc.method_handlers_generic_handler(
            scripted_service.SERVICE,
            {
                "Unary": grpc.unary_unary_rpc_method_handler(unary),
                "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
            },
        )
        self.server = grpc.server(ThreadPoolExecutor(4), options=[compression.KEEP_COMPRESSED_OPTION])
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()


@pytest.fixture
def recorder() -> Iterator[RawRecorder]:
    raw = RawRecorder()
    try:
        yield raw
    finally:
        raw.server.stop(None)


def test_the_executor_compresses_on_the_wire(recorder: RawRecorder) -> None:
    peer = Peer(host="127.0.0.1", port=recorder.port, timeout=10.0)
    plain = scripted_pb2.ScriptedRequest(values=scripted_pb2.Values(s=TEXT))
    plain.script.SetInParent()
    wire = plain.SerializeToString()
    request = {"script": {}, "values": {"s": TEXT}}
    try:
        for instruction, inflate in (
            ({"compression": "gzip"}, gzip.decompress),
            ({"compression": "deflate"}, zlib.decompress),
            ({"channel": {"compression": "gzip"}}, gzip.decompress),
            ({"channel": {"compression": "deflate"}}, zlib.decompress),
            # The call's compression wins over the channel's.
            ({"channel": {"compression": "gzip"}, "compression": "deflate"}, zlib.decompress),
            ({"compression": "identity"}, None),
            ({"channel": {"compression": "gzip"}, "method": "ClientStream"}, gzip.decompress),
        ):
            recorder.received.clear()
            observed = scripted_executor.execute(peer, {"method": "Unary", "requests": [request], **instruction})
            assert ok(observed), (instruction, observed)
            [received] = recorder.received
            if inflate is None:
                assert received == wire, instruction
            else:
                assert len(received) < len(wire) // 10 and inflate(received) == wire, instruction
    finally:
        scripted_executor.close_channels()


def test_response_compression_on_the_wire(server: RunningServer) -> None:
    """A raw channel with core's decompression off receives the Python server's responses as the
    bytes it sent: compressed with the script's algorithm."""
    script = scripted_pb2.Script(replies=[scripted_pb2.Reply(values=scripted_pb2.Values(s=TEXT))])
    with grpc.insecure_channel(f"127.0.0.1:{server.port}", options=[compression.KEEP_COMPRESSED_OPTION]) as channel:
        call = channel.unary_stream(
            f"/{scripted_service.SERVICE}/ServerStream",
            request_serializer=scripted_pb2.ScriptedRequest.SerializeToString,
        )
        for name, inflate, headers_first in (
            ("gzip", gzip.decompress, False),
            ("deflate", zlib.decompress, False),
            ("gzip", gzip.decompress, True),  # the algorithm goes with the headers, sent first here
            ("", None, False),
        ):
            script.response_compression = name
            script.send_headers_first = headers_first
            [received] = list(call(scripted_pb2.ScriptedRequest(script=script), timeout=10))
            plain = received if inflate is None else inflate(received)
            response = scripted_pb2.ScriptedResponse.FromString(plain)
            assert response.values.s == TEXT and (inflate is None or len(received) < len(plain) // 10), name


def test_response_compression_names() -> None:
    assert scripted_service.response_compression("gzip") == grpc.Compression.Gzip
    assert scripted_service.response_compression("deflate") == grpc.Compression.Deflate
    assert scripted_service.response_compression("identity") == grpc.Compression.NoCompression
    for name in ("br", "GZIP", "snappy"):
        with pytest.raises(scripted_service.UnknownCompression, match=f"cannot compress responses with {name}: grpcio"):
            scripted_service.response_compression(name)


# --- deadlines -------------------------------------------------------------------------------

THIRTY_DAYS_MS = 2_592_000_000
ONE_YEAR_MS = 31_536_000_000
DEADLINE_CASES = {
    "already_expired": {"method": "Unary", "timeout_ms": 0, "requests": [{"script": {"delay_ms": 200}}]},
    "already_expired_client_stream": {
        "method": "ClientStream",
        "timeout_ms": 0,
        "requests": [{"script": {"delay_ms": 200}}, {"values": {"s": "x"}}],
    },
    "thirty_days": {"method": "Unary", "timeout_ms": THIRTY_DAYS_MS, "requests": [{"script": {}}]},
    "one_year": {"method": "Unary", "timeout_ms": ONE_YEAR_MS, "requests": [{"script": {}}]},
    "longest": {"method": "ServerStream", "timeout_ms": scripted_executor.MAX_TIMEOUT_MS, "requests": [{"script": {}}]},
}


def wire_rounding_ms(timeout_ms: int) -> int:
    """How much gRPC core may round a grpc-timeout up (src/core/lib/transport/timeout_encoding.cc:
    Timeout::FromSeconds / FromMinutes / FromHours, each rounding up to a coarser unit): up to 100
    minutes below 100 000 minutes (69 days), an hour above."""
    return 100 * 60_000 if timeout_ms < 100_000 * 60_000 else 3_600_000


def seen_timeout(observed: Observed) -> int:
    info = observed.get("request_info") or observed["responses"][-1]["request_info"]
    return int(info.get("timeout_ms", "0"))  # 0 is not present (proto3)


def test_deadlines(server: RunningServer, tmp_path: Path) -> None:
    observed = observe(server.port, tmp_path, DEADLINE_CASES, "--rpc_timeout_ms=5000")
    for name in ("already_expired", "already_expired_client_stream"):
        assert code(observed[name]) == DEADLINE_EXCEEDED, (name, observed[name])
        assert "request_info" not in observed[name] and "responses" not in observed[name], name
    for name, timeout in (
        ("thirty_days", THIRTY_DAYS_MS),
        ("one_year", ONE_YEAR_MS),
        ("longest", scripted_executor.MAX_TIMEOUT_MS),
    ):
        assert ok(observed[name]), (name, observed[name])
        # Never capped by the executor: about what was asked (2 minutes of slack for a loaded
        # machine), or more by gRPC core's rounding of the grpc-timeout it sends.
        seen = seen_timeout(observed[name])
        assert timeout - 120_000 <= seen <= timeout + wire_rounding_ms(timeout), (name, seen)


def test_a_deadline_of_0_has_passed_a_second_before_the_call(server: RunningServer) -> None:
    """timeout_ms 0 is grpcio's timeout=-1 (docs/peer-contract.md): DEADLINE_EXCEEDED on every call
    shape, even against a handler that answers at once (timeout=0 is not reliably expired: gRPC core
    rounds a deadline up to its next millisecond, Timestamp::FromTimespecRoundUp)."""
    peer = Peer(host="127.0.0.1", port=server.port, timeout=5.0)
    assert scripted_executor.parse_instruction(DEADLINE_CASES["already_expired"], 5.0).timeout == -1.0
    try:
        for method in ("Unary", "ServerStream", "ClientStream", "BidiStream") * 5:
            observed = scripted_executor.execute(peer, {"method": method, "timeout_ms": 0, "requests": [{"script": {}}]})
            assert code(observed) == DEADLINE_EXCEEDED, (method, observed)
            assert "request_info" not in observed and "responses" not in observed, (method, observed)
    finally:
        scripted_executor.close_channels()


def test_deadline_ignored_fault_gives_every_call_the_default(server: RunningServer, tmp_path: Path) -> None:
    observed = observe(server.port, tmp_path, DEADLINE_CASES, "--rpc_timeout_ms=5000", DEADLINE_IGNORED)
    for name, case in observed.items():
        assert ok(case), (name, case)
        assert 0 < seen_timeout(case) <= 5000 + 50, (name, case)  # grpc-timeout "may round up" a little


def test_a_delay_past_a_long_deadline_still_ends(server: RunningServer) -> None:
    """A call with a year's deadline ends with the call (the wait for its status is no longer
    than the call): a script that cancels itself early is observed at once."""
    peer = Peer(host="127.0.0.1", port=server.port, timeout=5.0)
    started = time.monotonic()
    try:
        observed = scripted_executor.execute(
            peer,
            {
                "method": "ServerStream",
                "timeout_ms": ONE_YEAR_MS,
                "cancel_after_responses": 1,
                "requests": [{"script": {"replies": [{"values": {"i32": 1}}, {"values": {"i32": 2}, "delay_ms": 60_000}]}}],
            },
        )
    finally:
        scripted_executor.close_channels()
    assert code(observed) == 1 and time.monotonic() - started < 10


# --- instructions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ({"timeout_ms": -1}, "timeout_ms: expected an integer from 0 to 31622400000"),
        ({"timeout_ms": 31_622_400_001}, "timeout_ms: expected an integer from 0"),
        ({"timeout_ms": True}, "timeout_ms"),
        ({"timeout_ms": 1.5}, "timeout_ms"),
        ({"timeout_ms": "5000"}, "timeout_ms"),
        ({"compression": 1}, "compression: expected a string, got 1"),
        ({"compression": None}, "compression: expected a string, got null"),
        ({"channel": []}, "channel: expected an object"),
        ({"channel": {"max_receive": 1}}, "channel: unknown member"),
        ({"channel": {"max_receive_message_length": -1}}, "channel.max_receive_message_length: expected an integer >= 0"),
        ({"channel": {"max_send_message_length": "1024"}}, "channel.max_send_message_length"),
        ({"channel": {"max_send_message_length": False}}, "channel.max_send_message_length"),
        ({"channel": {"compression": "br"}}, "channel.compression: expected one of identity, deflate, gzip"),
        ({"channel": {"compression": 2}}, "channel.compression"),
        ({"requests": [{"$fill_bytes": -1}]}, r"requests\[0\]\.\$fill_bytes: expected an integer >= 0"),
        ({"requests": [{"$fill_bytes": "10"}]}, r"\$fill_bytes"),
    ],
)
def test_instructions_that_cannot_run(member: dict[str, Any], message: str) -> None:
    with pytest.raises(scripted_executor.InstructionError, match=message):
        scripted_executor.parse_instruction({"method": "Unary", "requests": [{}], **member}, 1.0)


def test_instruction_members_are_parsed() -> None:
    parse = scripted_executor.parse_instruction
    parsed = parse(
        {
            "method": "Unary",
            "timeout_ms": 0,
            "compression": "deflate",
            "channel": {"max_receive_message_length": 0, "max_send_message_length": 2**40, "compression": "identity"},
            "requests": [{"script": {"code": 1}, "$fill_bytes": 3}],
        },
        5.0,
    )
    assert parsed.timeout == -1.0 and parsed.compression == grpc.Compression.Deflate and parsed.compression_refused is None
    assert parsed.channel == scripted_executor.ChannelSpec(0, 2**40, grpc.Compression.NoCompression)
    assert parsed.channel.options() == (
        ("grpc.max_receive_message_length", 0),
        ("grpc.max_send_message_length", 2**40),
    )
    assert parsed.channel.options(limits_ignored=True) == (
        ("grpc.max_receive_message_length", -1),
        ("grpc.max_send_message_length", -1),
    )
    [request] = parsed.requests
    assert request.values.by == b"\0\0\0" and request.script.code == 1
    # $fill_bytes 0 still makes `values` present; scripted-lenient leaves $fill_bytes alone.
    [empty] = parse({"method": "Unary", "requests": [{"values": {"s": "x"}, "$fill_bytes": 0}]}, 1.0, lenient=True).requests
    assert empty.HasField("values") and empty.values == scripted_pb2.Values()
    assert parse({"method": "Unary", "timeout_ms": ONE_YEAR_MS, "requests": [{}]}, 1.0).timeout == ONE_YEAR_MS / 1000
    assert parse({"method": "Unary", "timeout_ms": 0, "requests": [{}]}, 2.5, deadline_ignored=True).timeout == 2.5
    assert parse({"method": "Unary", "channel": {}, "requests": [{}]}, 1.0).channel == scripted_executor.ChannelSpec()
    refused = parse({"method": "Unary", "compression": "br", "requests": [{}]}, 1.0)
    assert refused.compression is None and refused.compression_refused is not None
    assert '"br"' in refused.compression_refused and "grpc.Compression" in refused.compression_refused


def test_what_grpcio_refuses_is_a_local_error(server: RunningServer, tmp_path: Path) -> None:
    cases = {
        "unknown_compression": compressed_request(compression="br"),
        "length_past_a_c_int": unary_fill(1, channel={"max_receive_message_length": 2**31}),
    }
    observed = observe(server.port, tmp_path, cases)
    assert set(observed["unknown_compression"]) == {"local_error"}
    assert "grpcio has no compression algorithm" in observed["unknown_compression"]["local_error"]
    assert observed["length_past_a_c_int"] == {"local_error": "OverflowError: value too large to convert to int"}
    # Under scripted-client-limits-ignored the channel's lengths are not used at all.
    lifted = observe(server.port, tmp_path, cases, CLIENT_LIMITS_IGNORED)["length_past_a_c_int"]
    assert ok(lifted)


def test_a_case_with_channel_closes_its_channel(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    peer = Peer(host="127.0.0.1", port=server.port, timeout=5.0)
    made: list[grpc.Channel] = []
    real_channel = Peer.channel

    def channel(self: Peer, *args: Any, **kwargs: Any) -> grpc.Channel:
        made.append(real_channel(self, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(Peer, "channel", channel)
    try:
        for _ in range(2):
            assert ok(scripted_executor.execute(peer, {"method": "Unary", "channel": {}, "requests": [{}]}))
        assert len(made) == 2 and scripted_executor._channels == {}  # one each; no shared channel made
        for own in made:
            # grpcio refuses a call on a closed channel.
            with pytest.raises(ValueError, match="closed channel"):
                own.unary_unary(f"/{scripted_service.SERVICE}/Unary")(b"", timeout=1)
    finally:
        scripted_executor.close_channels()


# --- large messages --------------------------------------------------------------------------


def test_long_bytes_are_reported_by_their_digest() -> None:
    encode = scripted_executor.encode_message
    limit = scripted_executor.LONG_BYTES
    assert encode(scripted_pb2.Values(by=bytes(limit))) == {"by": {"$bytes": "00" * limit}}
    data = bytes(range(256)) * (limit // 256) + b"x"
    assert encode(scripted_pb2.Values(by=data, bytes_list=[b"\x01", data], i32_bytes={1: data})) == {
        "by": {"$sha256": hashlib.sha256(data).hexdigest(), "$length": limit + 1},
        "bytes_list": [{"$bytes": "01"}, {"$sha256": hashlib.sha256(data).hexdigest(), "$length": limit + 1}],
        "i32_bytes": {"1": {"$sha256": hashlib.sha256(data).hexdigest(), "$length": limit + 1}},
    }
    # Metadata keeps its hex, whatever its length.
    assert scripted_executor.encode_metadata([("x-bin", data)]) == [["x-bin", {"$bytes": data.hex()}]]


def test_a_cases_file_with_megabytes_of_base64(tmp_path: Path) -> None:
    """A 6 MiB bytes value written out in the cases file (8 MiB of base64) is read, sent and
    reported in bounded time; what comes back is reported by its digest."""
    data = bytes(range(256)) * (6 * MiB // 256)
    cases = {
        "big": {
            "method": "Unary",
            "channel": {"max_receive_message_length": 32 * MiB, "max_send_message_length": 32 * MiB},
            "requests": [{"script": {"replies": [{"values": {"by": base64.b64encode(data).decode()}}]}}],
        }
    }
    digest = {"$sha256": hashlib.sha256(data).hexdigest(), "$length": len(data)}
    started = time.monotonic()
    with running_server(f"--max_receive_message_length={32 * MiB}") as server:
        observed = observe(server.port, tmp_path, cases)["big"]
    assert time.monotonic() - started < 30
    assert ok(observed) and observed["responses"][0]["values"] == {"by": digest}
    assert echoed(observed)[0]["script"]["replies"][0]["values"] == {"by": digest}


def test_fill_bytes_units() -> None:
    reply = scripted_pb2.Reply(values=scripted_pb2.Values(s="kept", by=b"replaced"), fill_bytes=3)
    values = scripted_service.reply_values(reply)
    assert values is not None and (values.s, values.by) == ("kept", b"\0\0\0") and reply.values.by == b"replaced"
    created = scripted_service.reply_values(scripted_pb2.Reply(fill_bytes=2))
    assert created == scripted_pb2.Values(by=b"\0\0")
    assert scripted_service.reply_values(scripted_pb2.Reply(fill_bytes=-1)) is None
    plain = scripted_pb2.Reply(values=scripted_pb2.Values(i32=1))
    assert scripted_service.reply_values(plain) is plain.values


def test_fill_bytes_come_before_the_faults(tmp_path: Path) -> None:
    cases = {"fill": stream_fills(10, 70_000)}
    with running_server(f"--fault={Fault.SCRIPTED_BYTES_TRUNCATED}") as server:
        observed = observe(server.port, tmp_path, cases)["fill"]
    assert [response["values"] for response in observed["responses"]] == [
        {"by": zeros(9)},
        {"by": zeros(69_999)},
        {"s": "end"},
    ]


# --- compression.py's limit ------------------------------------------------------------------


def test_uncompress_limits() -> None:
    bomb = gzip.compress(bytes(5 * MiB))
    with pytest.raises(compression.MessageTooLarge, match=rf"\({5 * MiB} vs. {DEFAULT_LIMIT}\)"):
        compression.uncompress(bomb)
    with pytest.raises(compression.MessageTooLarge, match=r"\(5242880 vs. 1024\)"):
        compression.uncompress(zlib.compress(bytes(5 * MiB)), 1024)
    assert compression.uncompress(bomb, None) == (bytes(5 * MiB), True)
    assert compression.uncompress(bomb, 5 * MiB) == (bytes(5 * MiB), True)
    assert compression.uncompress(gzip.compress(b"abc"), 3) == (b"abc", True)
    # A corrupt stream past the limit: its size so far.
    with pytest.raises(compression.MessageTooLarge, match="at least"):
        compression.uncompress(bomb[: len(bomb) // 2] + bytes(64), 1024)


def test_the_interceptor_refuses_what_inflates_past_the_limit() -> None:
    """DecompressingInterceptor: RESOURCE_EXHAUSTED with core's text for a request that inflates
    past the server's limit, unary and streamed; the method never sees it."""
    seen: list[bytes] = []

    def unary(request: bytes, context: grpc.ServicerContext) -> bytes:
        seen.append(request)
        return b"ok"

    def stream(requests: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        for request in requests:
            seen.append(request)
        return b"ok"

    handler = grpc.method_handlers_generic_handler(
        "t.S",
        {"U": grpc.unary_unary_rpc_method_handler(unary), "C": grpc.stream_unary_rpc_method_handler(stream)},
    )
    server = grpc.server(
        ThreadPoolExecutor(4),
        options=[compression.KEEP_COMPRESSED_OPTION],
        interceptors=[compression.DecompressingInterceptor(1000)],
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary("/t.S/U")
            assert call(bytes(1000), timeout=10, compression=grpc.Compression.Gzip) == b"ok"
            with pytest.raises(grpc.RpcError) as refused:
                call(bytes(1001), timeout=10, compression=grpc.Compression.Gzip)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert refused.value.details() == "Received message larger than max (1001 vs. 1000)"
            streamed = channel.stream_unary("/t.S/C")
            with pytest.raises(grpc.RpcError) as refused:
                streamed(iter([b"a", bytes(2000)]), timeout=10, compression=grpc.Compression.Deflate)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert seen == [bytes(1000), b"a"]
    finally:
        server.stop(None)


def test_lenient_asks_for_no_compression() -> None:
    """scripted-lenient leaves out `compression` and `channel.compression` (docs/peer-contract.md)."""
    raw = {"method": "Unary", "compression": "deflate", "channel": {"compression": "gzip", "max_receive_message_length": 9}, "requests": [{}]}
    strict = scripted_executor.parse_instruction(raw, 5.0)
    assert strict.compression == grpc.Compression.Deflate and strict.channel.compression == grpc.Compression.Gzip
    cleaned = scripted_executor.parse_instruction(raw, 5.0, lenient=True)
    assert cleaned.compression is None and cleaned.compression_refused is None
    assert cleaned.channel.compression is None and cleaned.channel.max_receive_message_length == 9
