"""One server process: every service on host:port (and on [::1], a second IPv4 loopback address
and a Unix domain socket when asked) until SIGTERM/SIGINT, with a new grpc.Server on the same
addresses whenever a scripted call asks for a restart (Serving)."""

from __future__ import annotations

import os
import signal
import stat
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc

from .compression import KEEP_COMPRESSED_OPTION, MAX_MESSAGE_BYTES, DecompressingInterceptor, Limit
from .faults import Fault, Faults
from .flags import Lifecycle
from .jsonl import emit, listening
from .reflection_service import add_reflection_service
from .scripted_service import STOPPING, Restart, add_scripted_service
from .services import add_seed_services
from .support import add_support_services
from .testing_service import add_testing_services
from .tls import ServerPem, server_credentials

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
GRACE_SECONDS = 1.0
# A restart's graceful stop (script.restart_server_after_ms): the calls in flight get this long.
RESTART_GRACE_SECONDS = 30.0
# How long stop() waits for a restart under way to give up (it has nothing left to wait for).
RESTART_JOIN_SECONDS = 5.0
# Enough handler threads for concurrent_unary's 100 calls plus held-open streams (Health/Watch).
HANDLER_THREADS = 64


def log(message: str) -> None:
    print(f"python server[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def grpc_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


IPV6_LOOPBACK = "::1"


@dataclass(frozen=True)
class Listeners:
    """Where the server listens besides host:port (--ipv6_loopback, --second_host, --unix_socket)."""

    ipv6_loopback: bool = False  # [::1] at the port bound for host:port
    second_host: str | None = None  # an IPv4 loopback address (127.0.0.2), at the port bound for host:port
    unix_socket: str | None = None  # the path of a Unix domain socket

    def addresses(self, port: int, faults: Faults = frozenset()) -> list[str]:
        """grpcio's addresses of the extra listeners, once host:port is bound at `port`; without the
        second host under scripted-second-host-ignored."""
        addresses = [grpc_address(IPV6_LOOPBACK, port)] if self.ipv6_loopback else []
        if self.second_host is not None and Fault.SCRIPTED_SECOND_HOST_IGNORED not in faults:
            addresses.append(grpc_address(self.second_host, port))
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


@dataclass(frozen=True)
class ServerConfig:
    """Everything a gRPC server of this process is made from (the command line): the first one, and
    the one a restart makes exactly like it.

    worker: a --workers child, which shares its port with the other workers (SO_REUSEPORT) and does
    not restart; a lone server turns SO_REUSEPORT off, so that a port already in use is an error
    instead of a silent share.
    tls (None: insecure) serves TLS, and with a client CA demands a client certificate (mTLS).
    limits: the message size flags, for the whole server (scripted-limits-ignored: none).
    lifecycle: the connection lifecycle flags, for every connection (scripted-lifecycle-ignored: none).
    listeners: the addresses served besides host:port, bound after it (the [::1] and second host
    ones at the port it got) with the same credentials; any that cannot be bound is a failure to
    start (scripted-second-host-ignored: no second host).
    """

    host: str
    port: int
    faults: Faults
    worker: bool = False
    tls: ServerPem | None = None
    limits: MessageLimits = MessageLimits()
    listeners: Listeners = Listeners()
    lifecycle: Lifecycle = Lifecycle()

    def options(self) -> list[tuple[str, int]]:
        return [
            ("grpc.so_reuseport", int(self.worker)),
            KEEP_COMPRESSED_OPTION,
            *self.limits.options(self.faults),
            *lifecycle_options(self.lifecycle, self.faults),
        ]


class BindError(Exception):
    """An address a server could not listen on; the message says which and why."""


def build_server(config: ServerConfig, pool: ThreadPoolExecutor, restart: Restart | None) -> grpc.Server:
    """A new grpc.Server with every service, not bound yet. restart: the scripted service's way to
    restart this server (None: it cannot).

    gRPC core's per-message decompression is off, so that TestService sees which requests arrived
    compressed (compression.py); the interceptor decompresses them for every other service, and
    applies the receive limit to the decompressed size."""
    server = grpc.server(
        pool,
        options=config.options(),
        interceptors=[DecompressingInterceptor(config.limits.decompressed(config.faults))],
    )
    faults = config.faults
    served = [
        *add_seed_services(server, faults),
        *add_testing_services(server, faults),
        add_scripted_service(server, faults, restart),
    ]
    add_reflection_service(server, add_support_services(server, served, faults), faults)
    return server


def bind(
    server: grpc.Server, config: ServerConfig, port: int, credentials: grpc.ServerCredentials | None
) -> tuple[int, list[str]]:
    """Binds server to host:port (port 0: an ephemeral one), then to the extra listeners (the [::1]
    and second host ones at the port host:port got); returns the port host:port got and the
    addresses bound, host:port's first. BindError for the first that cannot be bound: grpcio's
    server raises RuntimeError (_common.validate_port_binding_result, since grpc/grpc#23632 in
    2020); gRPC core, grpc.aio and older releases return port 0, taken as a failure too."""
    address = grpc_address(config.host, port)
    try:
        bound = _add_port(server, address, credentials)
        addresses = [grpc_address(config.host, bound)]
        # `address` names the one that failed.
        for address in config.listeners.addresses(bound, config.faults):
            _add_port(server, address, credentials)
            addresses.append(address)
    except RuntimeError as err:
        raise BindError(f"cannot listen on {address}: {err}") from None
    return bound, addresses


def _add_port(server: grpc.Server, address: str, credentials: grpc.ServerCredentials | None) -> int:
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:
        raise RuntimeError("grpcio bound no port")
    return int(port)


def remove_stale_socket(path: str | None) -> None:
    """Removes the Unix domain socket left at path (None: no --unix_socket), so that it can be bound
    again. A file there that is not a socket stays: binding it then fails."""
    if path is None:
        return
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISSOCK(mode):
        os.unlink(path)


class Serving:
    """The process's gRPC server, and its restarts (docs/peer-contract.md, the scripted server's
    "Restart"): a scripted call's script.restart_server_after_ms stops the server that serves it
    (`server.stop(grace=RESTART_GRACE_SECONDS)`, or `server.stop(None)` under
    scripted-shutdown-abrupt), waits that many ms, then serves the same addresses (the port bound
    first, not a new ephemeral one) with a new server made exactly like it (build_server). What the
    scripted calls share across servers, ACTIVE_CALLS and CALL_RECORDS, belongs to the process
    (scripted_service.py); every server takes its handler threads from one pool.

    A restart that cannot bind is a failure of the process: `failure` says why and `failed` is
    called (serve() then exits 1). stop() stops whichever server is current; a restart under way
    then gives up."""

    def __init__(self, config: ServerConfig, failed: Callable[[], None]) -> None:
        self._config = config
        self._failed = failed
        self._credentials = None if config.tls is None else server_credentials(config.tls)
        self._pool = ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="rpc")
        self._port = config.port  # the port bound, once start() has bound it
        self._lock = threading.Lock()
        self._current: grpc.Server | None = None  # serving, or being stopped by a restart
        self._restarting = False  # current is stopping or stopped, and not yet replaced
        self._stopping = threading.Event()  # the process is stopping: nothing restarts any more
        self._restarts: list[threading.Thread] = []
        self.failure: str | None = None

    def start(self) -> list[str]:
        """Serves with the first server; returns the addresses bound (host:port's first). BindError."""
        server, self._port, addresses = self._new_server(self._config.port)
        with self._lock:
            self._current = server
        return addresses

    @property
    def port(self) -> int:
        return self._port

    def _new_server(self, port: int) -> tuple[grpc.Server, int, list[str]]:
        """A new server, bound (at port: 0 for an ephemeral one) and started; the port bound and the
        addresses. BindError."""

        # The scripted service restarts the server it is registered on: `server` is assigned before
        # any call can come.
        def restart(after_ms: int, graceful: bool) -> threading.Event | None:
            return self.restart(server, after_ms, graceful)

        server = build_server(self._config, self._pool, restart)
        bound, addresses = bind(server, self._config, port, self._credentials)
        server.start()
        return server, bound, addresses

    def restart(self, server: grpc.Server, after_ms: int, graceful: bool) -> threading.Event | None:
        """Sets off, in another thread, the restart of server (its stop, after_ms of downtime, a new
        server); returns an Event set once the stop has completed. None (after a line on stderr) when
        it restarts nothing: in a worker of --workers (whose port the other workers share), while
        another restart is under way (or server is no longer the current one), once the process is
        stopping."""
        if self._config.worker:
            log(f"restart_server_after_ms={after_ms} ignored: a worker of --workers does not restart")
            return None
        with self._lock:
            if self._stopping.is_set():
                log(f"restart_server_after_ms={after_ms} ignored: the server is stopping")
                return None
            if self._restarting or server is not self._current:
                log(f"restart_server_after_ms={after_ms} ignored: a restart is under way")
                return None
            self._restarting = True
            stopped = threading.Event()
            thread = threading.Thread(
                target=self._restart, args=(server, after_ms, graceful, stopped), name="restart"
            )
            self._restarts.append(thread)
            thread.start()
        return stopped

    def _restart(self, server: grpc.Server, after_ms: int, graceful: bool, stopped: threading.Event) -> None:
        # grpcio's stop stops listening at once (gRPC core's grpc_server_shutdown_and_notify closes
        # the listeners and sends GOAWAY on every connection); the graceful one lets the calls in
        # flight run to their end (cancelling them after the grace), None cancels them at once.
        # Either way its Event is set once every call has ended and the server is destroyed.
        if graceful:
            log(f"restart: stopping gracefully (stop(grace={RESTART_GRACE_SECONDS:g})), then {after_ms} ms of downtime")
            server.stop(grace=RESTART_GRACE_SECONDS).wait()
        else:
            log(f"restart: stopping at once (stop(None), scripted-shutdown-abrupt), then {after_ms} ms of downtime")
            server.stop(None).wait()
        stopped.set()
        log("restart: stopped")
        if self._stopping.wait(after_ms / 1000):
            return
        with self._lock:
            if self._stopping.is_set():
                return
            try:
                remove_stale_socket(self._config.listeners.unix_socket)
                self._current, _, addresses = self._new_server(self._port)
            except (BindError, OSError) as err:
                self.failure = f"restart: {err}"
                log(self.failure)
                self._failed()
                return
            self._restarting = False
        log(f"restart: serving again on {', '.join(addresses)}")

    def stop(self, grace: float | None) -> None:
        """Stops whichever server is current (waiting for its stop) and the restart under way;
        nothing restarts after it."""
        with self._lock:
            self._stopping.set()
            server = self._current
            restarts = list(self._restarts)
        if server is not None:
            server.stop(grace).wait()
        for thread in restarts:
            thread.join(RESTART_JOIN_SECONDS)


def serve(config: ServerConfig) -> int:
    """Serves until SIGTERM/SIGINT, or until a restart cannot bind; returns the exit code."""
    # Block the stop signals before grpc starts its threads (they inherit the mask), so that only
    # the sigwait of the thread below receives them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    ended = threading.Event()  # a stop signal came, or a restart failed
    received: list[int] = []

    def wait_for_signal() -> None:
        received.append(signal.sigwait(STOP_SIGNALS))
        ended.set()

    # A daemon: it may still wait for a signal when the process exits after a failed restart.
    threading.Thread(target=wait_for_signal, name="stop-signals", daemon=True).start()
    serving = Serving(config, failed=ended.set)
    try:
        addresses = serving.start()
    except BindError as err:
        log(str(err))
        return 1
    emit(listening(serving.port))
    faults, limits, lifecycle = config.faults, config.limits, config.lifecycle
    fault_list = ",".join(sorted(faults)) or "none"
    transport = "insecure" if config.tls is None else config.tls.mode
    sizes = ", ".join(f"{key.removeprefix('grpc.')}={value}" for key, value in limits.options(faults)) or "default"
    connections = (
        ", ".join(f"{key.removeprefix('grpc.')}={value}" for key, value in lifecycle_options(lifecycle, faults))
        or "default"
    )
    log(
        f"serving {transport} on {', '.join(addresses)} "
        f"(grpcio {grpc.__version__}, message limits: {sizes}, connections: {connections}, faults: {fault_list})"
    )
    ended.wait()
    if serving.failure is not None:
        log(f"stopping: {serving.failure}")
        serving.stop(None)
        STOPPING.set()
        return 1
    log(f"{signal.Signals(received[0]).name}: stopping (grace {GRACE_SECONDS:g} s)")
    serving.stop(GRACE_SECONDS)
    STOPPING.set()  # scripted-cancel-ignored's handlers, which no cancellation stops
    return 0
