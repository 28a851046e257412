"""server --port=P [--host=127.0.0.1] [--use_tls=false] [--workers=N] [--fault=NAME[,NAME…]]"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .faults import Fault
from .flags import FlagError, parse_server_flags


def main(argv: Sequence[str]) -> int:
    try:
        options = parse_server_flags(argv)
    except FlagError as err:
        print(f"server: {err}", file=sys.stderr)
        return 2
    if options.use_tls:
        print("server: TLS is not supported by this peer yet", file=sys.stderr)
        return 2
    if options.workers > 1 and not options.worker_child and Fault.SINGLE_WORKER not in options.faults:
        # Imported here: the --workers parent forks its children and must not load grpc at all.
        from .workers import supervise

        return supervise(options)
    from .serving import serve

    return serve(options.host, options.port, options.faults, reuse_port=options.worker_child)
