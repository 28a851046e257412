"""Executor mode (docs/peer-contract.md, "Executor mode"): `client --executor` runs many client runs
in one process, so that the runner starts the client once per run instead of once per (server,
transport) pairing.

It reads requests on stdin, one JSON line each, `{"run":N,"args":[FLAG, ...]}`, and runs them one
at a time, in order, exactly as the one-shot client runs those flags (client_main.run_flags): the
same lines on stdout, the same reasons on stderr. Then comes the request's end line
`{"run":N,"exit_code":C}` (with "error", the one-line reason, when C is 2 for bad flags), on
stdout and then on stderr, each flushed: the runner splits the stderr log by it. A line that is not
a request gets an end line with exit code 2 (run -1 when it has no numeric run); a defect that
escapes a run is exit code 1, as an uncaught exception is for the one-shot client. Either way the
executor goes on reading, and at end of file it exits 0. Nothing else is ever printed, nothing at
start-up.
"""

from __future__ import annotations

import json
import math
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

EXECUTOR_FLAG = "--executor"
USAGE_ERROR = 2
NO_RUN = -1  # the end line's run for a line without a numeric run

RunNumber = int | float  # as the runner wrote it, echoed in the end line


@dataclass(frozen=True)
class Exit:
    """How one client run ended: its exit code, and for bad flags (USAGE_ERROR) the one-line reason.
    client_main.run_flags gives it to the one-shot client and to each request alike."""

    code: int
    error: str | None = None


Run = Callable[[Sequence[str]], Exit]  # one client run of these flags


@dataclass(frozen=True)
class Request:
    run: RunNumber
    args: list[str]


class BadRequest(Exception):
    """A line that is not a request; the message is the one-line reason."""

    def __init__(self, reason: str, run: RunNumber = NO_RUN) -> None:
        super().__init__(reason)
        self.run = run


def _no_constant(name: str) -> object:
    """json.loads takes NaN and Infinity, which are not JSON: refuse them like any other bad JSON."""
    raise ValueError(f"{name} is not JSON")


def _is_number(value: object) -> bool:
    """A JSON number the end line can echo (bool is an int in Python, and 1e999 parses as inf)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def parse_request(line: bytes) -> Request:
    """The request on one line of stdin; BadRequest (with the line's run, if it has one) otherwise.
    Members other than run and args are ignored."""
    try:
        document = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadRequest(f"not a request: not JSON ({err})") from None
    if not isinstance(document, dict):
        raise BadRequest("not a request: not a JSON object")
    run = document.get("run")
    if not _is_number(run):
        raise BadRequest("not a request: no numeric run")
    args = document.get("args")
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise BadRequest("not a request: args is not a list of strings", run)
    return Request(run, args)


def run_guarded(run: Run, args: Sequence[str]) -> Exit:
    """run(args), where a defect that escapes it is exit code 1 after its traceback on stderr (as an
    uncaught exception ends a one-shot client), so that one request cannot end the executor.
    SystemExit included: a library calling sys.exit must not end every later request too."""
    try:
        return run(args)
    except (Exception, SystemExit):
        traceback.print_exc(file=sys.stderr)
        return Exit(1)


def end_line(run: RunNumber, ended: Exit) -> None:
    """The request's end line, on stdout and then on stderr, each flushed: whatever the request
    wrote to stderr is before it there."""
    record: dict[str, object] = {"run": run, "exit_code": ended.code}
    if ended.error is not None:
        record["error"] = ended.error
    line = json.dumps(record, separators=(",", ":")) + "\n"
    for stream in (sys.stdout, sys.stderr):
        stream.write(line)
        stream.flush()


def answer(run: Run, line: bytes) -> None:
    """One line of stdin: the request's run and its end line, or the end line of a bad line."""
    try:
        request = parse_request(line)
    except BadRequest as bad:
        end_line(bad.run, Exit(USAGE_ERROR, str(bad)))
        return
    end_line(request.run, run_guarded(run, request.args))


def serve(run: Run, lines: Iterable[bytes]) -> int:
    """Answers each line as it comes (the runner keeps the pipe open between requests); exit code 0
    at end of file."""
    for line in lines:
        answer(run, line)
    return 0


def main(argv: Sequence[str], run: Run) -> int:
    """`client --executor`, the only flag then: each run's flags come on stdin. Lines are read as
    bytes, so that a line that is not UTF-8 is a bad line rather than the end of the executor."""
    if list(argv) != [EXECUTOR_FLAG]:
        print(f"client: {EXECUTOR_FLAG} takes no other flag (the flags of each run come on stdin)", file=sys.stderr)
        return USAGE_ERROR
    return serve(run, sys.stdin.buffer)
