"""One server process: every service on host:port (and on [::1] and a Unix domain socket when
asked) until SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc

from .compression import KEEP_COMPRESSED_OPTION, MAX_MESSAGE_BYTES, DecompressingInterceptor, Limit
from .faults import Fault, Faults
from .flags import Lifecycle
from .jsonl import emit, listening
from .reflection_service import add_reflection_service
from .scripted_service import STOPPING, add_scripted_service
from .services import add_seed_services
from .support import add_support_services
from .testing_service import add_testing_services
from .tls import ServerPem, server_credentials

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
GRACE_SECONDS = 1.0
# Enough handler threads for concurrent_unary's 100 calls plus held-open streams (Health/Watch).
HANDLER_THREADS = 64


def log(message: str) -> None:
    print(f"python server[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def grpc_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


IPV6_LOOPBACK = "::1"


@dataclass(frozen=True)
class Listeners:
    """Where the server listens besides host:port (--ipv6_loopback, --unix_socket)."""

    ipv6_loopback: bool = False  # [::1] at the port bound for host:port
    unix_socket: str | None = None  # the path of a Unix domain socket

    def addresses(self, port: int) -> list[str]:
        """grpcio's addresses of the extra listeners, once host:port is bound at `port`."""
        addresses = [grpc_address(IPV6_LOOPBACK, port)] if self.ipv6_loopback else []
        if self.unix_socket is not None:
            addresses.append(f"unix:{self.unix_socket}")
        return addresses


# grpcio's "no limit" for grpc.max_receive_message_length / grpc.max_send_message_length.
UNLIMITED = -1


@dataclass(frozen=True)
class MessageLimits:
    """--max_receive_message_length / --max_send_message_length (None: absent, grpcio's default)."""

    max_receive: int | None = None
    max_send: int | None = None

    def options(self, faults: Faults) -> list[tuple[str, int]]:
        """The server's channel arguments (every service, every worker): the flags given, or both
        unlimited under scripted-limits-ignored, whatever the flags say."""
        if Fault.SCRIPTED_LIMITS_IGNORED in faults:
            return [("grpc.max_receive_message_length", UNLIMITED), ("grpc.max_send_message_length", UNLIMITED)]
        options = []
        if self.max_receive is not None:
            options.append(("grpc.max_receive_message_length", self.max_receive))
        if self.max_send is not None:
            options.append(("grpc.max_send_message_length", self.max_send))
        return options

    def decompressed(self, faults: Faults) -> Limit:
        """The limit DecompressingInterceptor applies to a decompressed request (gRPC core, with its
        decompression off, checks only the compressed size): the same receive limit."""
        if Fault.SCRIPTED_LIMITS_IGNORED in faults:
            return None
        return MAX_MESSAGE_BYTES if self.max_receive is None else self.max_receive


# The connection lifecycle flags (docs/peer-contract.md, "Server") as gRPC core's channel arguments,
# each given the flag's value as it is (core itself adds a jitter of +/-10% to the age and the idle
# time: src/core/ext/filters/channel_idle/legacy_channel_idle_filter.cc, kMaxConnectionAgeJitter).
# --keepalive_min_time_ms is the contract's two names; gRPC core knows only the first
# (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS is "grpc.http2.min_ping_interval_without_data_ms",
# include/grpc/impl/channel_arg_names.h) and ignores the second, as it ignores any name it does not
# know. Every one of them is in grpcio 1.62.3, 1.70.0 and 1.85.1 (compat.py), so no flag is left out.
LIFECYCLE_OPTIONS = {
    "max_concurrent_streams": ("grpc.max_concurrent_streams",),
    "max_connection_age_ms": ("grpc.max_connection_age_ms",),
    "max_connection_age_grace_ms": ("grpc.max_connection_age_grace_ms",),
    "max_connection_idle_ms": ("grpc.max_connection_idle_ms",),
    "keepalive_time_ms": ("grpc.keepalive_time_ms",),
    "keepalive_timeout_ms": ("grpc.keepalive_timeout_ms",),
    "keepalive_min_time_ms": ("grpc.http2.min_ping_interval_without_data_ms",),
    "keepalive_permit_without_calls": ("grpc.keepalive_permit_without_calls",),
}


def lifecycle_options(lifecycle: Lifecycle, faults: Faults) -> list[tuple[str, int]]:
    """The server's channel arguments for the lifecycle flags given (every service, every worker);
    none under scripted-lifecycle-ignored, whatever the flags say (grpcio's defaults)."""
    if Fault.SCRIPTED_LIFECYCLE_IGNORED in faults:
        return []
    return [(key, int(value)) for name, value in lifecycle.given() for key in LIFECYCLE_OPTIONS[name]]


def serve(
    host: str,
    port: int,
    faults: Faults,
    reuse_port: bool,
    tls: ServerPem | None = None,
    limits: MessageLimits = MessageLimits(),
    listeners: Listeners = Listeners(),
    lifecycle: Lifecycle = Lifecycle(),
) -> int:
    """Serves until SIGTERM/SIGINT; returns the exit code.

    reuse_port lets several processes (the --workers children) share the port; a lone server
    turns it off so that a port already in use is an error instead of a silent share.
    tls (None: insecure) serves TLS, and with a client CA demands a client certificate (mTLS).

    gRPC core's per-message decompression is off, so that TestService sees which requests arrived
    compressed (compression.py); the interceptor decompresses them for every other service, and
    applies the receive limit to the decompressed size.

    limits: the message size flags, for the whole server (scripted-limits-ignored: none).

    lifecycle: the connection lifecycle flags, for every connection (scripted-lifecycle-ignored: none).

    listeners: the addresses served besides host:port, bound after it (the [::1] one at the port
    it got) with the same credentials; any that cannot be bound is a start-up failure.
    """
    # Block the stop signals before grpc starts its threads (they inherit the mask), so that
    # only the sigwait below receives them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    server = grpc.server(
        ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="rpc"),
        options=[
            ("grpc.so_reuseport", int(reuse_port)),
            KEEP_COMPRESSED_OPTION,
            *limits.options(faults),
            *lifecycle_options(lifecycle, faults),
        ],
        interceptors=[DecompressingInterceptor(limits.decompressed(faults))],
    )
    served = [
        *add_seed_services(server, faults),
        *add_testing_services(server, faults),
        add_scripted_service(server, faults),
    ]
    add_reflection_service(server, add_support_services(server, served, faults), faults)
    credentials = None if tls is None else server_credentials(tls)

    def add_port(address: str) -> int:
        if credentials is None:
            return server.add_insecure_port(address)
        return server.add_secure_port(address, credentials)

    address = grpc_address(host, port)
    try:
        bound = add_port(address)
        extra = listeners.addresses(bound)
        for address in extra:  # `address` names the one that failed
            add_port(address)
    except RuntimeError as err:
        log(f"cannot listen on {address}: {err}")
        return 1
    server.start()
    emit(listening(bound))
    fault_list = ",".join(sorted(faults)) or "none"
    transport = "insecure" if tls is None else tls.mode
    sizes = ", ".join(f"{key.removeprefix('grpc.')}={value}" for key, value in limits.options(faults)) or "default"
    connections = (
        ", ".join(f"{key.removeprefix('grpc.')}={value}" for key, value in lifecycle_options(lifecycle, faults))
        or "default"
    )
    log(
        f"serving {transport} on {', '.join([grpc_address(host, bound), *extra])} "
        f"(grpcio {grpc.__version__}, message limits: {sizes}, connections: {connections}, faults: {fault_list})"
    )
    received = signal.sigwait(STOP_SIGNALS)
    log(f"{signal.Signals(received).name}: stopping (grace {GRACE_SECONDS:g} s)")
    server.stop(grace=GRACE_SECONDS).wait()
    STOPPING.set()  # scripted-cancel-ignored's handlers, which no cancellation stops
    return 0
