"""server --port=P [--host=127.0.0.1] [--use_tls=false] [--tls_cert_file=certs/server.pem]
[--tls_key_file=certs/server.key] [--require_client_cert=false] [--client_ca_file=certs/ca.pem]
[--workers=N] [--max_receive_message_length=N] [--max_send_message_length=N] [--ipv6_loopback=true]
[--second_host=ADDR] [--unix_socket=PATH] [--max_concurrent_streams=N] [--max_connection_age_ms=N]
[--max_connection_age_grace_ms=N] [--max_connection_idle_ms=N] [--keepalive_time_ms=N]
[--keepalive_timeout_ms=N] [--keepalive_min_time_ms=N] [--keepalive_permit_without_calls=true]
[--fault=NAME[,NAME…]]"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .faults import Fault
from .flags import FlagError, parse_server_flags
from .tls import TlsError, server_pem


def main(argv: Sequence[str]) -> int:
    try:
        options = parse_server_flags(argv)
        tls = server_pem(options)  # read here too by the --workers parent: bad files exit 2 at once
    except (FlagError, TlsError) as err:
        print(f"server: {err}", file=sys.stderr)
        return 2
    if options.workers > 1 and not options.worker_child and Fault.SINGLE_WORKER not in options.faults:
        # Imported here: the --workers parent forks its children and must not load grpc at all.
        from .workers import supervise

        return supervise(options)
    from .serving import Listeners, MessageLimits, ServerConfig, serve

    return serve(
        ServerConfig(
            options.host,
            options.port,
            options.faults,
            worker=options.worker_child,
            tls=tls,
            limits=MessageLimits(options.max_receive_message_length, options.max_send_message_length),
            listeners=Listeners(options.ipv6_loopback, options.second_host, options.unix_socket),
            lifecycle=options.lifecycle,
        )
    )
