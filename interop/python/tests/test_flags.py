"""Unit tests of flag and fault parsing, and of the client's failure wording."""

from __future__ import annotations

from pathlib import Path

import pytest
from peers import CERTS, DISCOVERY_CASES, EDGES_CASES, SEED_CASES, TESTING_CASES

from interop_peer import checks, client_main, server_main
from interop_peer.cases import CASES
from interop_peer.faults import Fault, parse_faults
from interop_peer.flags import FlagError, Lifecycle, parse_client_flags, parse_server_flags
from interop_peer.tls import TlsError, client_pem, server_pem
from interop_peer.protos import helloworld_pb2, streaming_pb2


def test_parse_faults() -> None:
    assert parse_faults("") == frozenset()
    assert parse_faults("again-wrong, single-worker") == {Fault.AGAIN_WRONG, Fault.SINGLE_WORKER}
    assert len(Fault) == 63  # 23 seeds (discovery's 4 among them), 14 testing-*, 26 scripted-*
    assert parse_faults("scripted-limits-ignored") == {Fault.SCRIPTED_LIMITS_IGNORED}
    assert parse_faults("scripted-lifecycle-ignored,scripted-cancel-ignored,scripted-shutdown-abrupt") == {
        Fault.SCRIPTED_LIFECYCLE_IGNORED,
        Fault.SCRIPTED_CANCEL_IGNORED,
        Fault.SCRIPTED_SHUTDOWN_ABRUPT,
    }
    assert parse_faults("scripted-delay-ignored") == {Fault.SCRIPTED_DELAY_IGNORED}
    assert parse_faults("testing-duplex-extra") == {Fault.TESTING_DUPLEX_EXTRA}
    with pytest.raises(ValueError, match="unknown fault 'nope'"):
        parse_faults("again-wrong,nope")


def test_server_flags() -> None:
    options = parse_server_flags(["--port=0", "--workers", "4", "--fault=bidi-buffered", "--use_tls=false"])
    assert (options.port, options.host, options.workers, options.use_tls) == (0, "127.0.0.1", 4, False)
    assert options.faults == {Fault.BIDI_BUFFERED} and not options.worker_child
    assert parse_server_flags(["--port=1", "--use_tls"]).use_tls
    assert (options.max_receive_message_length, options.max_send_message_length) == (None, None)
    assert options.lifecycle == Lifecycle() and options.lifecycle.flags() == []


def test_server_message_length_flags() -> None:
    options = parse_server_flags(["--port=0", "--max_receive_message_length=1024", "--max_send_message_length", "0"])
    assert (options.max_receive_message_length, options.max_send_message_length) == (1024, 0)
    largest = parse_server_flags(["--port=0", f"--max_receive_message_length={2**31 - 1}"])
    assert largest.max_receive_message_length == 2**31 - 1 and largest.max_send_message_length is None


def test_server_lifecycle_flags() -> None:
    argv = [
        "--port=0",
        "--max_concurrent_streams=1",
        "--max_connection_age_ms",
        "500",
        "--max_connection_age_grace_ms=0",
        "--max_connection_idle_ms=2147483647",
        "--keepalive_time_ms=10000",
        "--keepalive_timeout_ms=2000",
        "--keepalive_min_time_ms=50",
        "--keepalive_permit_without_calls",
    ]
    lifecycle = parse_server_flags(argv).lifecycle
    assert lifecycle == Lifecycle(1, 500, 0, 2**31 - 1, 10000, 2000, 50, keepalive_permit_without_calls=True)
    # What the --workers parent passes on to every worker gives the same values again.
    assert lifecycle.flags() == [
        "--max_concurrent_streams=1",
        "--max_connection_age_ms=500",
        *argv[4:9],
        "--keepalive_permit_without_calls=true",
    ]
    assert parse_server_flags(["--port=0", *lifecycle.flags()]).lifecycle == lifecycle
    assert parse_server_flags(["--port=0", "--keepalive_permit_without_calls=false"]).lifecycle == Lifecycle()


def test_server_tls_flags_default_to_the_project_certs() -> None:
    options = parse_server_flags(["--port=0", "--use_tls=true", "--require_client_cert=true"])
    assert (options.tls_cert_file, options.tls_key_file) == (CERTS / "server.pem", CERTS / "server.key")
    assert options.require_client_cert and options.client_ca_file == CERTS / "ca.pem"
    pem = server_pem(options)
    assert pem is not None and pem.mode == "mtls" and pem.client_ca == (CERTS / "ca.pem").read_bytes()
    assert server_pem(parse_server_flags(["--port=0"])) is None
    tls = server_pem(parse_server_flags(["--port=0", "--use_tls", "--tls_cert_file", str(CERTS / "client.pem")]))
    assert tls is not None and tls.mode == "tls" and tls.cert == (CERTS / "client.pem").read_bytes()


def test_client_tls_flags() -> None:
    base = ["--server_host=h", "--server_port=1", "--test_case=a"]
    options = parse_client_flags([*base, "--use_tls", "--use_test_ca", "--server_host_override=foo.test.google.fr"])
    pem = client_pem(options)
    assert pem is not None and pem.root == (CERTS / "ca.pem").read_bytes() and pem.cert is None
    assert pem.server_host_override == "foo.test.google.fr"
    mtls = [f"--client_cert_file={CERTS / 'client.pem'}", f"--client_key_file={CERTS / 'client.key'}"]
    pem = client_pem(parse_client_flags([*base, "--use_tls", *mtls]))
    assert pem is not None and pem.root is None and pem.key == (CERTS / "client.key").read_bytes()
    assert client_pem(parse_client_flags(base)) is None
    assert parse_client_flags([*base, "--client_fault=no-cancel"]).client_fault == "no-cancel"
    assert parse_client_flags([*base, "--client_fault=no-checks"]).client_fault == "no-checks"
    assert parse_client_flags([*base, "--client_fault=scripted-lenient"]).client_fault == "scripted-lenient"
    for fault in ("scripted-deadline-ignored", "scripted-client-limits-ignored", "scripted-server-name-ignored"):
        assert parse_client_flags([*base, f"--client_fault={fault}"]).client_fault == fault


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port=0", "--use_tls", "--tls_cert_file=/no/such.pem"], "--tls_cert_file: cannot read /no/such.pem"),
        (["--port=0", "--use_tls", "--require_client_cert", "--client_ca_file=/no/ca.pem"], "--client_ca_file"),
        (["--port=0", "--use_tls", f"--tls_key_file={Path(__file__)}"], "is not a PEM file"),
    ],
)
def test_unusable_server_tls_files(argv: list[str], message: str) -> None:
    with pytest.raises(TlsError, match=message):
        server_pem(parse_server_flags(argv))


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
        (["--port=0", "--require_client_cert=true"], "needs --use_tls=true"),
        (["--port=0", "--tls_cert_file="], "--tls_cert_file"),
        (["--port=0", "--max_receive_message_length=-1"], "--max_receive_message_length: invalid message length"),
        (["--port=0", f"--max_receive_message_length={2**31}"], r"0\.\.2147483647"),
        (["--port=0", "--max_send_message_length=4MiB"], "--max_send_message_length"),
        (["--port=0", "--max_send_message_length="], "--max_send_message_length"),
        (["--port=0", "--max_receive_message_lengt=1"], "unrecognized"),
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
        (["--server_host=h", "--server_port=1", "--test_case=a", "--client_cert_file=c"], "give both or neither"),
        (["--server_host=h", "--server_port=1", "--test_case=a", "--client_key_file=k"], "give both or neither"),
        (["--server_host=h", "--server_port=1", "--test_case=a", "--client_fault=nope"], "--client_fault"),
    ],
)
def test_client_flag_errors(argv: list[str], message: str) -> None:
    with pytest.raises(FlagError, match=message):
        parse_client_flags(argv)


def test_unreadable_tls_files_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert server_main.main(["--port=0", "--use_tls=true", "--tls_key_file=/no/such.key"]) == 2
    client = ["--server_host=h", "--server_port=1", "--test_case=a", "--use_tls=true", "--use_test_ca=true"]
    assert client_main.main([*client, "--ca_file=/no/ca.pem"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 2
    assert "--tls_key_file: cannot read /no/such.key" in captured.err and "--ca_file: cannot read" in captured.err


def test_bad_flags_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert server_main.main(["--port=x"]) == 2
    assert client_main.main(["--server_port=1"]) == 2
    assert server_main.main(["--port=0", "--max_receive_message_length=-5"]) == 2
    assert server_main.main(["--port=0", "--workers=2", "--max_send_message_length=x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 4
    assert "server: argument --max_receive_message_length: invalid message length: must be in 0..2147483647" in captured.err


@pytest.mark.parametrize(
    "flag",
    [
        "--max_concurrent_streams=-1",
        "--max_connection_age_ms=x",
        "--max_connection_age_grace_ms=2147483648",
        "--max_connection_idle_ms=1.5",
        "--keepalive_time_ms=",
        "--keepalive_timeout_ms=-5",
        "--keepalive_min_time_ms=ten",
        "--keepalive_permit_without_calls=maybe",
    ],
)
def test_bad_lifecycle_flags_exit_2_with_one_line(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert server_main.main(["--port=0", "--workers=2", flag]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1
    assert captured.err.startswith(f"server: argument {flag.split('=')[0]}: invalid ")


# The netrpc suite's JSON-RPC and HTTP cases (the gob ones are the Go client's only).
NETRPC_CASES = (
    "netrpc_jsonrpc_getinfo",
    "netrpc_jsonrpc_beyond_2_53",
    "netrpc_jsonrpc_int64_edges",
    "netrpc_jsonrpc_wraps",
    "netrpc_jsonrpc_not_an_int",
    "netrpc_jsonrpc_unknown_method",
    "netrpc_jsonrpc_pipelined",
    "netrpc_http_panda",
)


def test_every_case_is_registered_in_order() -> None:
    assert tuple(CASES) == (
        SEED_CASES + TESTING_CASES + EDGES_CASES + ("mtls_client_without_certificate",) + DISCOVERY_CASES + NETRPC_CASES
    )


def test_failure_wording() -> None:
    assert checks.call_label("SayHello", helloworld_pb2.HelloRequest(name="世界")) == 'SayHello("世界")'
    label = checks.call_label("LotsOfReplies", streaming_pb2.HelloStreamRequest(name="a", count=0))
    assert label == 'LotsOfReplies(name="a", count=0)'
    with pytest.raises(checks.CaseFailure) as failure:
        checks.expect_equal('SayHello("world")', "Hello, world!", "Hello, world")
    assert str(failure.value) == 'SayHello("world"): expected "Hello, world!", got "Hello, world"'
