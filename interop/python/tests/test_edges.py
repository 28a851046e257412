"""The testing-edges suite: its cases pass against the healthy server, and each of its faults
changes what TestService does and breaks exactly the cases the contract lists."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import grpc
import pytest
from peers import CLIENT_TRANSPORT_FLAGS, EDGES_CASES, RunningServer, run_client, running_server
from test_interop import assert_well_formed

from interop_peer import testing_service
from interop_peer.faults import Fault
from interop_peer.protos import messages_pb2, test_pb2_grpc

EchoStatus = messages_pb2.EchoStatus
ResponseParameters = messages_pb2.ResponseParameters
SimpleRequest = messages_pb2.SimpleRequest
StreamingOutputCallRequest = messages_pb2.StreamingOutputCallRequest

# docs/peer-contract.md, "The testing-edges suite": the cases each fault must break, and how.
EDGES_BREAKS: dict[Fault, dict[str, str]] = {
    Fault.TESTING_STATUS_UNKNOWN: {
        "status_unary_non_unknown": 'expected status FAILED_PRECONDITION with message "precondition failed: edges", '
        'got status UNKNOWN: "precondition failed: edges"',
        "status_server_streaming_non_unknown": "expected status OUT_OF_RANGE",
        "status_bidi_non_unknown": "expected status ALREADY_EXISTS",
    },
    Fault.TESTING_STREAM_STATUS_OK: {
        "status_server_streaming_non_unknown": 'expected status OUT_OF_RANGE with message "out of range after 2", '
        "got status OK",
    },
    Fault.TESTING_INTERVAL_IGNORED: {
        "streaming_output_interval": "expected the third payload at least 135 ms after the call started",
    },
}


def test_every_edges_fault_is_covered() -> None:
    edges = {Fault.TESTING_STATUS_UNKNOWN, Fault.TESTING_STREAM_STATUS_OK, Fault.TESTING_INTERVAL_IGNORED}
    assert set(EDGES_BREAKS) == edges
    assert set().union(*EDGES_BREAKS.values()) == set(EDGES_CASES)


def test_every_edges_case_passes(transport: tuple[str, RunningServer]) -> None:
    name, server = transport
    run = run_client(server.port, EDGES_CASES, *CLIENT_TRANSPORT_FLAGS[name])
    assert_well_formed(run.records, EDGES_CASES)
    assert [record for record in run.records if record["status"] != "passed"] == []
    assert run.returncode == 0 and run.stderr == ""


@pytest.mark.parametrize("fault", list(EDGES_BREAKS), ids=str)
def test_edges_fault_breaks_exactly_its_cases(fault: Fault) -> None:
    with running_server(f"--fault={fault}") as server:
        run = run_client(server.port, EDGES_CASES)
    failed = {str(record["case"]): str(record["error"]) for record in run.records if record["status"] == "failed"}
    assert set(failed) == set(EDGES_BREAKS[fault]), run.stderr
    for case, reason in EDGES_BREAKS[fault].items():
        assert reason in failed[case]
    assert run.returncode == 1


def test_fault_helpers() -> None:
    none: frozenset[Fault] = frozenset()
    ignored = frozenset({Fault.TESTING_INTERVAL_IGNORED})
    assert testing_service.wait_us(200_000, none, ignorable=True) == 200_000
    assert testing_service.wait_us(200_000, ignored, ignorable=True) == 0
    assert testing_service.wait_us(200_000, ignored, ignorable=False) == 200_000
    code = grpc.StatusCode.FAILED_PRECONDITION
    assert testing_service.echoed_code(code, none) == code
    assert testing_service.echoed_code(code, frozenset({Fault.TESTING_STATUS_UNKNOWN})) == grpc.StatusCode.UNKNOWN


@pytest.fixture
def faulty_stub(request: pytest.FixtureRequest) -> Iterator[test_pb2_grpc.TestServiceStub]:
    """A TestService stub on a server started with --fault=<the test's parameter>."""
    with running_server(f"--fault={request.param}") as server:
        target = f"127.0.0.1:{server.port}"
        with grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)]) as channel:
            yield test_pb2_grpc.TestServiceStub(channel)


def failure(invoke: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        invoke()
    return error.value


def streamed(responses: Iterator[messages_pb2.StreamingOutputCallResponse], into: list[int]) -> None:
    for response in responses:
        into.append(len(response.payload.body))


@pytest.mark.parametrize("faulty_stub", [Fault.TESTING_STATUS_UNKNOWN], indirect=True)
def test_status_unknown_makes_every_echoed_status_unknown(faulty_stub: test_pb2_grpc.TestServiceStub) -> None:
    status = EchoStatus(code=9, message="kept as is")
    error = failure(lambda: faulty_stub.UnaryCall(SimpleRequest(response_status=status), timeout=5))
    assert (error.code(), error.details()) == (grpc.StatusCode.UNKNOWN, "kept as is")
    request = StreamingOutputCallRequest(response_parameters=[ResponseParameters(size=8)] * 2, response_status=status)
    sizes: list[int] = []
    error = failure(lambda: streamed(faulty_stub.StreamingOutputCall(request, timeout=5), sizes))
    assert sizes == [8, 8] and (error.code(), error.details()) == (grpc.StatusCode.UNKNOWN, "kept as is")
    duplex = StreamingOutputCallRequest(response_status=status)
    error = failure(lambda: list(faulty_stub.FullDuplexCall(iter([duplex]), timeout=5)))
    assert error.code() == grpc.StatusCode.UNKNOWN
    ok = SimpleRequest(response_size=1, response_status=EchoStatus(code=0, message="x"))
    assert len(faulty_stub.UnaryCall(ok, timeout=5).payload.body) == 1  # code 0 is still no status


@pytest.mark.parametrize("faulty_stub", [Fault.TESTING_STREAM_STATUS_OK], indirect=True)
def test_stream_status_ok_alters_streaming_output_call_only(faulty_stub: test_pb2_grpc.TestServiceStub) -> None:
    status = EchoStatus(code=11, message="m")
    request = StreamingOutputCallRequest(response_parameters=[ResponseParameters(size=8)] * 2, response_status=status)
    assert [len(r.payload.body) for r in faulty_stub.StreamingOutputCall(request, timeout=5)] == [8, 8]
    error = failure(lambda: list(faulty_stub.FullDuplexCall(iter([request]), timeout=5)))
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE
    error = failure(lambda: faulty_stub.UnaryCall(SimpleRequest(response_status=status), timeout=5))
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE


@pytest.mark.parametrize("faulty_stub", [Fault.TESTING_INTERVAL_IGNORED], indirect=True)
def test_interval_ignored_by_streaming_output_and_full_duplex(faulty_stub: test_pb2_grpc.TestServiceStub) -> None:
    request = StreamingOutputCallRequest(response_parameters=[ResponseParameters(size=1, interval_us=200_000)] * 3)
    for call in (
        lambda: list(faulty_stub.StreamingOutputCall(request, timeout=5)),
        lambda: list(faulty_stub.FullDuplexCall(iter([request]), timeout=5)),
    ):
        started = time.monotonic()
        assert len(call()) == 3
        assert time.monotonic() - started < 0.3  # 600 ms if the intervals were waited
    started = time.monotonic()
    assert len(list(faulty_stub.HalfDuplexCall(iter([request]), timeout=5))) == 3
    assert time.monotonic() - started >= 0.54  # HalfDuplexCall still waits
