"""Command-line flags of the server and the client (docs/peer-contract.md).

Both accept `--flag=value` and `--flag value`; booleans take true/false (also 1/0, t/f, as Go's
flag package does, so upstream runners' spellings work). Any problem raises FlagError with a
one-line message; the entry points turn it into exit code 2.

Certificate paths given on the command line are used as given (relative to the working
directory); their defaults are the project's test PKI in certs/ at the repository root.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from .faults import Faults, parse_faults

REPO = Path(__file__).resolve().parents[3]
CERTS = REPO / "certs"
# The first three break the ordinary cases, the scripted-* ones only the generic executor's (the
# data suites': client_main.run_scripted_case, scripted_executor.ExecutorFaults); none applies to
# the other kind.
SCRIPTED_LENIENT = "scripted-lenient"
SCRIPTED_DEADLINE_IGNORED = "scripted-deadline-ignored"
SCRIPTED_CLIENT_LIMITS_IGNORED = "scripted-client-limits-ignored"
SCRIPTED_SERVER_NAME_IGNORED = "scripted-server-name-ignored"
SCRIPTED_TARGET_IGNORED = "scripted-target-ignored"
SCRIPTED_AUTHORITY_IGNORED = "scripted-authority-ignored"
CLIENT_FAULTS = (
    "no-cancel",
    "with-certificate",
    "no-checks",
    SCRIPTED_LENIENT,
    SCRIPTED_DEADLINE_IGNORED,
    SCRIPTED_CLIENT_LIMITS_IGNORED,
    SCRIPTED_SERVER_NAME_IGNORED,
    SCRIPTED_TARGET_IGNORED,
    SCRIPTED_AUTHORITY_IGNORED,
)
# --max_receive_message_length / --max_send_message_length: gRPC core's channel arguments are C
# ints (grpcio raises OverflowError past 2**31 - 1); the other servers take the same range.
MAX_MESSAGE_LENGTH = 2**31 - 1
# The connection lifecycle flags (docs/peer-contract.md, "Server"), each an int channel argument of
# gRPC core (serving.LIFECYCLE_OPTIONS): 0 to a C int's largest, as the message lengths.
MAX_CHANNEL_INT = 2**31 - 1
# Load mode's measurements (docs/peer-contract.md, "Load mode"); bench.py runs them.
BENCH_MEASUREMENTS = ("unary", "server_streaming")

_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}


class FlagError(Exception):
    """A bad command line; the message is a single line."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, prog: str, add_help: bool = True) -> None:
        super().__init__(prog=prog, allow_abbrev=False, add_help=add_help)

    def error(self, message: str) -> NoReturn:
        raise FlagError(message)


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be in {low}..{high}, got {value}")
        return value

    return parse


def _typed(parse: Callable[[str], object], name: str) -> Callable[[str], object]:
    """Wraps parse so that argparse reports its ValueError text, not a generic message."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"invalid {name}: {err}") from None

    return convert


def _add_bool(parser: argparse.ArgumentParser, flag: str) -> None:
    # `--flag` alone means true, as with Go's boolean flags.
    parser.add_argument(flag, type=_typed(parse_bool, "boolean"), nargs="?", const=True, default=False)


def _nonempty(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    return text


def _path(text: str) -> Path:
    return Path(_nonempty(text))


@dataclass(frozen=True)
class Lifecycle:
    """The server's connection lifecycle flags; None (False): absent, the library's default."""

    max_concurrent_streams: int | None = None
    max_connection_age_ms: int | None = None
    max_connection_age_grace_ms: int | None = None
    max_connection_idle_ms: int | None = None
    keepalive_time_ms: int | None = None
    keepalive_timeout_ms: int | None = None
    keepalive_min_time_ms: int | None = None
    keepalive_permit_without_calls: bool = False

    def given(self) -> list[tuple[str, int | bool]]:
        """The flags given, by their names without `--`, in the contract's order."""
        given: list[tuple[str, int | bool]] = [
            (name, value) for name in LIFECYCLE_INT_FLAGS if (value := getattr(self, name)) is not None
        ]
        if self.keepalive_permit_without_calls:
            given.append(("keepalive_permit_without_calls", True))
        return given

    def flags(self) -> list[str]:
        """The command-line flags that give these values again (the --workers parent's children)."""
        return [f"--{name}={str(value).lower()}" for name, value in self.given()]


# Lifecycle's integer flags, in the contract's order (its fields of the same names).
LIFECYCLE_INT_FLAGS = (
    "max_concurrent_streams",
    "max_connection_age_ms",
    "max_connection_age_grace_ms",
    "max_connection_idle_ms",
    "keepalive_time_ms",
    "keepalive_timeout_ms",
    "keepalive_min_time_ms",
)


@dataclass(frozen=True)
class ServerOptions:
    port: int
    host: str
    use_tls: bool
    workers: int
    faults: Faults
    worker_child: bool
    tls_cert_file: Path = CERTS / "server.pem"
    tls_key_file: Path = CERTS / "server.key"
    require_client_cert: bool = False
    client_ca_file: Path = CERTS / "ca.pem"
    # The largest message the server accepts / sends, in bytes; None: grpcio's default (4 MiB / unlimited).
    max_receive_message_length: int | None = None
    max_send_message_length: int | None = None
    # Also listen on [::1] / on this IPv4 loopback address (--second_host) at the port bound for
    # --host, and on the Unix domain socket at this path (serving.py); none is taken with --workers > 1.
    ipv6_loopback: bool = False
    second_host: str | None = None
    unix_socket: str | None = None
    # --max_concurrent_streams, --max_connection_age_ms, … --keepalive_permit_without_calls (serving.py;
    # every worker's, with --workers).
    lifecycle: Lifecycle = Lifecycle()


@dataclass(frozen=True)
class BenchLoad:
    """Load mode's bounds; the defaults are the contract's."""

    calls: int = 2000  # measured unary calls
    warmup: int = 200  # unary calls before measuring
    messages: int = 20_000  # messages of the server stream
    size: int = 16  # payload bytes per request and per response message
    time_limit_ms: int = 20_000  # time bound of each measurement


@dataclass(frozen=True)
class ClientOptions:
    server_host: str
    server_port: int
    test_cases: tuple[str, ...]  # empty in load mode
    use_tls: bool
    use_test_ca: bool
    server_host_override: str
    rpc_timeout_ms: int
    ca_file: Path = CERTS / "ca.pem"
    client_cert_file: Path | None = None
    client_key_file: Path | None = None
    client_fault: str | None = None
    bench: tuple[str, ...] = ()  # load mode's measurements, in order; empty: run test_cases
    bench_load: BenchLoad = BenchLoad()
    # The data suites' instructions (docs/peer-contract.md, "Client: the generic executor"): a
    # --test_case named there is run by scripted_executor.py.
    cases_file: Path | None = None
    # --server_unix_socket: the server's Unix domain socket, which an instruction's channel.target
    # names as {unix_socket}; None when not given.
    server_unix_socket: str | None = None


def parse_server_flags(argv: Sequence[str]) -> ServerOptions:
    parser = _Parser("server")
    parser.add_argument("--port", type=_typed(_int_in(0, 65535), "port"), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    _add_bool(parser, "--use_tls")
    parser.add_argument("--workers", type=_typed(_int_in(1, 64), "worker count"), default=1)
    for flag in ("--max_receive_message_length", "--max_send_message_length"):
        parser.add_argument(flag, type=_typed(_int_in(0, MAX_MESSAGE_LENGTH), "message length"), default=None)
    _add_bool(parser, "--ipv6_loopback")
    parser.add_argument("--second_host", type=_typed(_nonempty, "address"), default=None)
    parser.add_argument("--unix_socket", type=_typed(_nonempty, "path"), default=None)
    for name in LIFECYCLE_INT_FLAGS:
        parser.add_argument(f"--{name}", type=_typed(_int_in(0, MAX_CHANNEL_INT), "number"), default=None)
    _add_bool(parser, "--keepalive_permit_without_calls")
    parser.add_argument("--fault", type=_typed(parse_faults, "fault list"), default=frozenset())
    parser.add_argument("--tls_cert_file", type=_typed(_path, "path"), default=CERTS / "server.pem")
    parser.add_argument("--tls_key_file", type=_typed(_path, "path"), default=CERTS / "server.key")
    _add_bool(parser, "--require_client_cert")
    parser.add_argument("--client_ca_file", type=_typed(_path, "path"), default=CERTS / "ca.pem")
    # Internal: set by the --workers parent on the processes it spawns.
    parser.add_argument("--worker_child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.host:
        raise FlagError("argument --host: must not be empty")
    if args.require_client_cert and not args.use_tls:
        raise FlagError("argument --require_client_cert: needs --use_tls=true")
    for flag, given in (
        ("--ipv6_loopback", args.ipv6_loopback),
        ("--second_host", args.second_host is not None),
        ("--unix_socket", args.unix_socket is not None),
    ):
        if given and args.workers > 1:
            raise FlagError(f"argument {flag}: not allowed with --workers > 1")
    return ServerOptions(
        port=args.port,
        host=args.host,
        use_tls=args.use_tls,
        workers=args.workers,
        faults=args.fault,
        worker_child=args.worker_child,
        tls_cert_file=args.tls_cert_file,
        tls_key_file=args.tls_key_file,
        require_client_cert=args.require_client_cert,
        client_ca_file=args.client_ca_file,
        max_receive_message_length=args.max_receive_message_length,
        max_send_message_length=args.max_send_message_length,
        ipv6_loopback=args.ipv6_loopback,
        second_host=args.second_host,
        unix_socket=args.unix_socket,
        lifecycle=Lifecycle(
            **{name: getattr(args, name) for name in LIFECYCLE_INT_FLAGS},
            keepalive_permit_without_calls=args.keepalive_permit_without_calls,
        ),
    )


def _name_list(text: str, what: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise ValueError(f"empty {what} name in {text!r}")
    return names


def _case_list(text: str) -> tuple[str, ...]:
    return _name_list(text, "test case")


def _bench_list(text: str) -> tuple[str, ...]:
    names = _name_list(text, "measurement")
    for name in names:
        if name not in BENCH_MEASUREMENTS:
            raise ValueError(f"unknown measurement {name!r}, expected {', '.join(BENCH_MEASUREMENTS)}")
    return names


def _add_bench_load(parser: argparse.ArgumentParser) -> None:
    defaults = BenchLoad()
    for flag, low, high, default in (
        ("--bench_calls", 1, 10_000_000, defaults.calls),
        ("--bench_warmup", 0, 10_000_000, defaults.warmup),
        ("--bench_messages", 1, 10_000_000, defaults.messages),
        ("--bench_size", 0, 4_000_000, defaults.size),
        ("--bench_time_limit_ms", 1, 3_600_000, defaults.time_limit_ms),
    ):
        parser.add_argument(flag, type=_typed(_int_in(low, high), "number"), default=default)


def parse_client_flags(argv: Sequence[str], with_help: bool = True) -> ClientOptions:
    """The client's options. with_help=False makes -h/--help an unknown flag (a FlagError) instead of
    printing the help on stdout and exiting: executor mode's stdout carries only result lines, and
    one request must never end the process (docs/peer-contract.md, "Executor mode")."""
    parser = _Parser("client", add_help=with_help)
    parser.add_argument("--server_host", required=True)
    parser.add_argument("--server_port", type=_typed(_int_in(1, 65535), "port"), required=True)
    # Cases, or load mode (docs/peer-contract.md, "Load mode"): exactly one of the two.
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--test_case", type=_typed(_case_list, "test case list"), default=())
    mode.add_argument("--bench", type=_typed(_bench_list, "measurement list"), default=())
    _add_bench_load(parser)
    _add_bool(parser, "--use_tls")
    _add_bool(parser, "--use_test_ca")
    parser.add_argument("--server_host_override", default="")
    parser.add_argument("--rpc_timeout_ms", type=_typed(_int_in(1, 3_600_000), "timeout"), default=5000)
    parser.add_argument("--ca_file", type=_typed(_path, "path"), default=CERTS / "ca.pem")
    parser.add_argument("--client_cert_file", type=_typed(_path, "path"), default=None)
    parser.add_argument("--client_key_file", type=_typed(_path, "path"), default=None)
    parser.add_argument("--cases_file", type=_typed(_path, "path"), default=None)
    parser.add_argument("--server_unix_socket", type=_typed(_nonempty, "path"), default=None)
    # Self-test only (docs/peer-contract.md): no-cancel makes the cancel and deadline cases half-close
    # instead, with-certificate the security case present its certificate, no-checks every case pass;
    # the scripted-* ones break the generic executor: scripted-lenient drops request values and cleans
    # text metadata, scripted-deadline-ignored ignores timeout_ms, scripted-client-limits-ignored
    # lifts every message size limit of its channels, scripted-server-name-ignored,
    # scripted-target-ignored and scripted-authority-ignored ignore channel.server_name, .target
    # (and .addresses) and .authority.
    parser.add_argument("--client_fault", choices=CLIENT_FAULTS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.server_host:
        raise FlagError("argument --server_host: must not be empty")
    if (args.client_cert_file is None) != (args.client_key_file is None):
        raise FlagError("arguments --client_cert_file and --client_key_file: give both or neither")
    if args.cases_file is not None and args.bench:
        raise FlagError("argument --cases_file: not allowed with --bench")
    return ClientOptions(
        server_host=args.server_host,
        server_port=args.server_port,
        test_cases=args.test_case,
        use_tls=args.use_tls,
        use_test_ca=args.use_test_ca,
        server_host_override=args.server_host_override,
        rpc_timeout_ms=args.rpc_timeout_ms,
        ca_file=args.ca_file,
        client_cert_file=args.client_cert_file,
        client_key_file=args.client_key_file,
        client_fault=args.client_fault,
        bench=args.bench,
        bench_load=BenchLoad(
            calls=args.bench_calls,
            warmup=args.bench_warmup,
            messages=args.bench_messages,
            size=args.bench_size,
            time_limit_ms=args.bench_time_limit_ms,
        ),
        cases_file=args.cases_file,
        server_unix_socket=args.server_unix_socket,
    )
