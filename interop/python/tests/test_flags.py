"""Unit tests of flag and fault parsing, and of the client's failure wording."""

from __future__ import annotations

import pytest
from peers import SEED_CASES

from interop_peer import checks, client_main, server_main
from interop_peer.cases import CASES
from interop_peer.faults import Fault, parse_faults
from interop_peer.flags import FlagError, parse_client_flags, parse_server_flags
from interop_peer.protos import helloworld_pb2, streaming_pb2


def test_parse_faults() -> None:
    assert parse_faults("") == frozenset()
    assert parse_faults("again-wrong, single-worker") == {Fault.AGAIN_WRONG, Fault.SINGLE_WORKER}
    assert len(Fault) == 14
    with pytest.raises(ValueError, match="unknown fault 'nope'"):
        parse_faults("again-wrong,nope")


def test_server_flags() -> None:
    options = parse_server_flags(["--port=0", "--workers", "4", "--fault=bidi-buffered", "--use_tls=false"])
    assert (options.port, options.host, options.workers, options.use_tls) == (0, "127.0.0.1", 4, False)
    assert options.faults == {Fault.BIDI_BUFFERED} and not options.worker_child
    assert parse_server_flags(["--port=1", "--use_tls"]).use_tls


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: --port"),
        (["--port=x"], "--port"),
        (["--port=65536"], "0..65535"),
        (["--port=0", "--workers=0"], "--workers"),
        (["--port=0", "--fault=nope"], "unknown fault"),
        (["--port=0", "--use_tls=maybe"], "--use_tls"),
        (["--port=0", "--bogus=1"], "unrecognized"),
        (["--port=0", "--wor=2"], "unrecognized"),  # no abbreviations
    ],
)
def test_server_flag_errors(argv: list[str], message: str) -> None:
    with pytest.raises(FlagError, match=message):
        parse_server_flags(argv)


def test_client_flags() -> None:
    options = parse_client_flags(
        ["--server_host=localhost", "--server_port=50051", "--test_case=a, b", "--use_tls=False", "--use_test_ca=true"]
    )
    assert options.test_cases == ("a", "b") and options.server_port == 50051 and options.rpc_timeout_ms == 5000
    assert (options.use_tls, options.use_test_ca, options.server_host_override) == (False, True, "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--server_port=1", "--test_case=a"], "--server_host"),
        (["--server_host=h", "--test_case=a"], "--server_port"),
        (["--server_host=h", "--server_port=0", "--test_case=a"], "1..65535"),
        (["--server_host=h", "--server_port=1"], "--test_case"),
        (["--server_host=h", "--server_port=1", "--test_case=a,,b"], "empty test case"),
        (["--server_host=h", "--server_port=1", "--test_case=a", "--rpc_timeout_ms=0"], "--rpc_timeout_ms"),
    ],
)
def test_client_flag_errors(argv: list[str], message: str) -> None:
    with pytest.raises(FlagError, match=message):
        parse_client_flags(argv)


def test_tls_is_refused_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert server_main.main(["--port=0", "--use_tls=true"]) == 2
    assert client_main.main(["--server_host=h", "--server_port=1", "--test_case=a", "--use_tls=true"]) == 2
    err = capsys.readouterr().err
    assert err.count("TLS is not supported by this peer yet") == 2


def test_bad_flags_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert server_main.main(["--port=x"]) == 2
    assert client_main.main(["--server_port=1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 2


def test_every_seed_case_is_registered_in_order() -> None:
    assert tuple(CASES) == SEED_CASES


def test_failure_wording() -> None:
    assert checks.call_label("SayHello", helloworld_pb2.HelloRequest(name="世界")) == 'SayHello("世界")'
    label = checks.call_label("LotsOfReplies", streaming_pb2.HelloStreamRequest(name="a", count=0))
    assert label == 'LotsOfReplies(name="a", count=0)'
    with pytest.raises(checks.CaseFailure) as failure:
        checks.expect_equal('SayHello("world")', "Hello, world!", "Hello, world")
    assert str(failure.value) == 'SayHello("world"): expected "Hello, world!", got "Hello, world"'
