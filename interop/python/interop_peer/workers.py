"""--workers=N: N server processes share one port through SO_REUSEPORT; this parent only supervises.

The parent never loads grpc (it forks). With --port=0 it first reserves an ephemeral port with
a bound, non-listening SO_REUSEPORT socket, which keeps other programs off the port until every
worker has bound it too. Each worker is `server.py --worker_child` with the parent's TLS flags,
an ordinary single server that dies with the parent (PR_SET_PDEATHSIG) and reports readiness
with its usual listening line on its stdout, a pipe to the parent. When all N are ready the parent prints the one
listening line. SIGTERM/SIGINT are forwarded to the workers and awaited; a worker that exits on
its own stops the rest and the parent exits 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .flags import ServerOptions
from .jsonl import emit, listening

SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "server.py"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0  # the workers' 1 s grace plus their exit
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class WorkerFailure(Exception):
    """A worker could not start or stopped on its own."""


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    pending: bytes = b""
    ready: bool = False

    @property
    def stdout_fd(self) -> int:
        assert self.process.stdout is not None
        return self.process.stdout.fileno()


def log(message: str) -> None:
    print(f"python server[{os.getpid()}] (workers parent): {message}", file=sys.stderr, flush=True)


def supervise(options: ServerOptions) -> int:
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)  # a stop signal becomes a byte that select() sees
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: None)
    workers: list[Worker] = []
    try:
        with _reserved_port(options.host, options.port) as port:
            die_with_parent = _die_with_parent_hook()
            for _ in range(options.workers):
                workers.append(_spawn(options, port, die_with_parent))  # appended one by one: _stop sees each
            if not _watch(workers, wakeup_read, port, time.monotonic() + READY_TIMEOUT_SECONDS):
                return 0
        emit(listening(port))
        log(f"{len(workers)} workers serve port {port}: pids {[w.process.pid for w in workers]}")
        _watch(workers, wakeup_read, port, deadline=None)
        return 0
    except (WorkerFailure, OSError, subprocess.SubprocessError) as err:
        log(f"error: {err}")
        return 1
    finally:
        _stop(workers)


@contextlib.contextmanager
def _reserved_port(host: str, port: int) -> Iterator[int]:
    if port != 0:
        yield port
        return
    family, kind, proto, _, address = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as reservation:
        reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reservation.bind(address)
        yield int(reservation.getsockname()[1])


def _die_with_parent_hook() -> Callable[[], None]:
    """A preexec_fn making the child receive SIGTERM when this process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def hook() -> None:
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os._exit(1)

    return hook


def _spawn(options: ServerOptions, port: int, preexec: Callable[[], None]) -> Worker:
    command = [
        sys.executable,
        str(SERVER_SCRIPT),
        f"--port={port}",
        f"--host={options.host}",
        f"--fault={','.join(sorted(options.faults))}",
        "--worker_child",
    ]
    # The message size limits hold for every worker (the whole server).
    for flag, value in (
        ("--max_receive_message_length", options.max_receive_message_length),
        ("--max_send_message_length", options.max_send_message_length),
    ):
        if value is not None:
            command.append(f"{flag}={value}")
    # So do the connection lifecycle flags (each worker's own connections).
    command += options.lifecycle.flags()
    if options.use_tls:
        command += [
            "--use_tls=true",
            f"--tls_cert_file={options.tls_cert_file.resolve()}",
            f"--tls_key_file={options.tls_key_file.resolve()}",
            f"--require_client_cert={str(options.require_client_cert).lower()}",
            f"--client_ca_file={options.client_ca_file.resolve()}",
        ]
    # preexec_fn is unsafe only with threads, and this parent has none.
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, preexec_fn=preexec)
    return Worker(process)


def _watch(workers: list[Worker], wakeup_read: int, port: int, deadline: float | None) -> bool:
    """Waits for a stop signal (→ False) or, with a deadline, for every worker to be ready (→ True).

    Raises WorkerFailure when a worker exits, misbehaves on stdout, or the deadline passes.
    """
    with selectors.DefaultSelector() as selector:
        selector.register(wakeup_read, selectors.EVENT_READ)
        for worker in workers:
            selector.register(worker.stdout_fd, selectors.EVENT_READ, worker)
        while True:
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise WorkerFailure(f"workers not ready after {READY_TIMEOUT_SECONDS:g} s")
            for key, _ in selector.select(timeout):
                if key.data is None:
                    os.read(wakeup_read, 64)
                    log("stop signal: stopping the workers")
                    return False
                _read_worker(key.data, port)
            if deadline is not None and all(worker.ready for worker in workers):
                return True


def _read_worker(worker: Worker, port: int) -> None:
    chunk = os.read(worker.stdout_fd, 4096)
    if not chunk:
        try:
            outcome = f"exited with code {worker.process.wait(timeout=1)}"
        except subprocess.TimeoutExpired:
            outcome = "closed its stdout"
        raise WorkerFailure(f"worker {worker.process.pid} {outcome}")
    worker.pending += chunk
    while b"\n" in worker.pending:
        line, worker.pending = worker.pending.split(b"\n", 1)
        try:
            worker.ready = json.loads(line) == listening(port)
        except ValueError:
            worker.ready = False
        if not worker.ready:
            raise WorkerFailure(f"worker {worker.process.pid} printed {line!r}, expected its listening line")


def _stop(workers: list[Worker]) -> None:
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for worker in workers:
        try:
            worker.process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            log(f"worker {worker.process.pid} did not stop in time: killing it")
            worker.process.kill()
            worker.process.wait()
        assert worker.process.stdout is not None
        worker.process.stdout.close()
