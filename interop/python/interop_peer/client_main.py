"""client --server_host=H --server_port=P --test_case=NAME[,NAME…] [--use_tls=false] [--use_test_ca=false]
[--ca_file=certs/ca.pem] [--server_host_override=NAME] [--client_cert_file=F --client_key_file=F]
[--rpc_timeout_ms=5000] [--client_fault=no-cancel|with-certificate|no-checks|scripted-lenient|
scripted-deadline-ignored|scripted-client-limits-ignored|scripted-server-name-ignored|
scripted-target-ignored|scripted-authority-ignored] [--cases_file=PATH] [--server_unix_socket=PATH]

With --cases_file (the data suites' instructions, JSON), a case named there is run by the generic
executor (scripted_executor.py): it always passes with what it observed, unless the instruction
cannot be run. Of the client faults only the scripted-* ones apply to these cases, and only to them.

Runs the cases in order, each independently, printing one JSON line per case on stdout and
every failure's reason on stderr. Exit 0 when all passed, 1 when any failed, 2 for bad flags.
A case's line carries "observed" when the case returns what the library gave it (for the runner).

Load mode, instead of --test_case (bench.py; docs/peer-contract.md, "Load mode"):
client --server_host=H --server_port=P --bench=unary,server_streaming [--bench_calls=2000]
[--bench_warmup=200] [--bench_messages=20000] [--bench_size=16] [--bench_time_limit_ms=20000]
[TLS flags and --rpc_timeout_ms as above]
prints one JSON line per measurement. Exit 0 when every measurement printed figures, 1 otherwise.

Executor mode (executor.py; docs/peer-contract.md, "Executor mode"): `client --executor`, the only
flag then, reads requests `{"run":N,"args":[FLAG, ...]}` on stdin, one JSON line each, and runs each
as the one-shot client runs those flags (run_flags, shared by both; load mode and --help are flag
errors there), each followed by its end line `{"run":N,"exit_code":C}` on stdout and on stderr.
Exit 0 at the end of stdin.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

import grpc

from . import testing_cases  # noqa: F401, I001  (registers the grpc.testing cases in CASES)
from . import edges_cases  # noqa: F401  (registers the testing-edges cases in CASES, after them)
from . import security_cases  # noqa: F401  (registers the security case in CASES, after them)
from . import discovery_cases  # noqa: F401  (registers the discovery cases in CASES, after them)
from . import netrpc_cases  # noqa: F401  (registers the netrpc cases (Go's net/rpc, not gRPC) in CASES, last)
from . import executor
from .bench import run_bench
from .cases import CASES, Observed, Peer
from .checks import CaseFailure
from .executor import EXECUTOR_FLAG, USAGE_ERROR, Exit
from .flags import ClientOptions, FlagError, parse_client_flags
from .jsonl import emit
from .scripted_executor import (
    NO_FAULTS,
    CasesFileError,
    ExecutorFaults,
    InstructionError,
    close_channels,
    execute,
    load_cases,
)
from .tls import TlsError, channel_credentials, channel_options, client_pem


@dataclass(frozen=True)
class Outcome:
    error: str | None = None  # None: the case passed
    observed: Observed | None = None  # what the case reports for the runner to judge


def run_scripted_case(
    name: str, instruction: dict[str, object], peer: Peer, faults: ExecutorFaults = NO_FAULTS
) -> Outcome:
    """A case of --cases_file, run by the generic executor: it checks nothing, so it passes with
    what it observed whatever the call's outcome, and fails only when the instruction cannot be
    run. Of the --client_faults only the scripted-* ones (`faults`) apply (the peer's no-cancel,
    with-certificate and no-checks are not used here)."""
    try:
        return Outcome(observed=execute(peer, instruction, faults))
    except InstructionError as err:
        return Outcome(f"{name}: cannot run the instruction: {err}")
    except Exception as error:
        return _defect(name, error)


def run_case(name: str, peer: Peer) -> Outcome:
    """Runs one case: passed, or failed with the reason, and what it observed.

    Every check of every case ends here when it fails (CaseFailure; or an RPC's error status that
    escaped the case), so this is where --client_fault=no-checks (peer.no_checks) turns a failed
    check into a pass: the case makes its calls, and none of its checks counts.
    """
    function = CASES.get(name)
    if function is None:
        return Outcome(f"unknown test case: {name}")
    try:
        return Outcome(observed=function(peer))
    except (CaseFailure, grpc.RpcError) as failure:
        if peer.no_checks:
            return Outcome()
        if isinstance(failure, CaseFailure):
            return Outcome(str(failure))
        return _defect(name, failure)
    except Exception as error:
        return _defect(name, error)


def _defect(name: str, error: Exception) -> Outcome:
    """A defect in the case itself: reported as a failure, never a crash."""
    traceback.print_exc(file=sys.stderr)
    return Outcome(f"{name}: unexpected {type(error).__name__}: {error}")


def make_peer(options: ClientOptions) -> Peer:
    """The server to test as the flags describe it; TlsError for unusable certificate files."""
    pem = client_pem(options)
    return Peer(
        options.server_host,
        options.server_port,
        options.rpc_timeout_ms / 1000,
        credentials=None if pem is None else channel_credentials(pem),
        tls_options=() if pem is None else channel_options(pem),
        no_cancel=options.client_fault == "no-cancel",
        credentials_without_certificate=None if pem is None else channel_credentials(replace(pem, cert=None, key=None)),
        with_certificate=options.client_fault == "with-certificate",
        no_checks=options.client_fault == "no-checks",
        unix_socket=options.server_unix_socket,
    )


def run_cases(
    names: Sequence[str],
    peer: Peer,
    scripted: dict[str, dict[str, object]] | None = None,
    faults: ExecutorFaults = NO_FAULTS,
) -> int:
    """The cases in order, a line each; exit code 0 when every one passed, else 1. A name found in
    `scripted` (the --cases_file) is run by the generic executor (with the scripted client faults
    `faults`), any other is an ordinary case (which those faults do not touch). The scripted
    cases' shared channel stays open for the caller (run_flags) to close."""
    all_passed = True
    for name in names:
        started = time.perf_counter()
        instruction = (scripted or {}).get(name)
        outcome = run_case(name, peer) if instruction is None else run_scripted_case(name, instruction, peer, faults)
        record: dict[str, object] = {
            "case": name,
            "status": "passed" if outcome.error is None else "failed",
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if outcome.observed is not None:
            record["observed"] = outcome.observed
        if outcome.error is not None:
            all_passed = False
            record["error"] = outcome.error
            print(f"client: {name} failed: {outcome.error}", file=sys.stderr, flush=True)
        emit(record)
    return 0 if all_passed else 1


@dataclass(frozen=True)
class _Setup:
    """What a run's flags make before anything runs."""

    options: ClientOptions
    peer: Peer
    scripted: dict[str, dict[str, object]] | None  # the --cases_file's instructions


def _set_up(argv: Sequence[str], in_executor: bool) -> _Setup:
    """Parses the flags and reads the files they name; FlagError, TlsError or CasesFileError when
    the client cannot run. In executor mode --help is an unknown flag (help would go to stdout) and
    --bench a flag error (the contract does not take load mode there)."""
    options = parse_client_flags(argv, with_help=not in_executor)
    if in_executor and options.bench:
        raise FlagError("argument --bench: load mode is not taken in executor mode")
    peer = make_peer(options)
    scripted = None if options.cases_file is None else load_cases(options.cases_file)
    return _Setup(options, peer, scripted)


def run_flags(argv: Sequence[str], in_executor: bool = False) -> Exit:
    """One client run as its flags describe it, shared by the one-shot client (main) and every
    request of executor mode, so that a request prints exactly what the one-shot run of its flags
    would. Bad flags (or unusable certificate or cases files) are exit code 2, the reason on
    stderr and in Exit.error. Nothing of the run outlives it: the peer, its client fault and the
    cases file are this call's own, and the scripted cases' shared channel is closed on the way
    out, even when a defect escapes (the ordinary cases close their own channels)."""
    try:
        setup = _set_up(argv, in_executor)
    except (FlagError, TlsError, CasesFileError) as err:
        print(f"client: {err}", file=sys.stderr, flush=True)
        return Exit(USAGE_ERROR, str(err))
    options = setup.options
    try:
        if options.bench:
            return Exit(run_bench(setup.peer, options.bench, options.bench_load))
        faults = ExecutorFaults.of(options.client_fault)
        return Exit(run_cases(options.test_cases, setup.peer, setup.scripted, faults=faults))
    finally:
        close_channels()


def main(argv: Sequence[str]) -> int:
    if EXECUTOR_FLAG in argv:
        return executor.main(argv, partial(run_flags, in_executor=True))
    return run_flags(argv).code
