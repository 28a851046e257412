"""client --server_host=H --server_port=P --test_case=NAME[,NAME…] [--use_tls=false] [--use_test_ca=false]
[--server_host_override=NAME] [--rpc_timeout_ms=5000]

Runs the cases in order, each independently, printing one JSON line per case on stdout and
every failure's reason on stderr. Exit 0 when all passed, 1 when any failed, 2 for bad flags.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Sequence

from .cases import CASES, Peer
from .checks import CaseFailure
from .flags import FlagError, parse_client_flags
from .jsonl import emit


def run_case(name: str, peer: Peer) -> str | None:
    """Runs one case; returns None when it passed, else the reason it failed."""
    function = CASES.get(name)
    if function is None:
        return f"unknown test case: {name}"
    try:
        function(peer)
    except CaseFailure as failure:
        return str(failure)
    except Exception as error:  # a defect in the case itself: report it as a failure, never crash
        traceback.print_exc(file=sys.stderr)
        return f"{name}: unexpected {type(error).__name__}: {error}"
    return None


def main(argv: Sequence[str]) -> int:
    try:
        options = parse_client_flags(argv)
    except FlagError as err:
        print(f"client: {err}", file=sys.stderr)
        return 2
    if options.use_tls:
        print("client: TLS is not supported by this peer yet", file=sys.stderr)
        return 2
    peer = Peer(options.server_host, options.server_port, options.rpc_timeout_ms / 1000)
    all_passed = True
    for name in options.test_cases:
        started = time.perf_counter()
        error = run_case(name, peer)
        record: dict[str, object] = {
            "case": name,
            "status": "passed" if error is None else "failed",
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if error is not None:
            all_passed = False
            record["error"] = error
            print(f"client: {name} failed: {error}", file=sys.stderr, flush=True)
        emit(record)
    return 0 if all_passed else 1
