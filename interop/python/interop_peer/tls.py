"""TLS and mTLS material (docs/peer-contract.md, "Transports"), read from the files the flags name.

Reading is separate from building grpc credentials so that the --workers parent, which never
loads grpc, can still refuse unreadable files with exit code 2 before it spawns anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .flags import ClientOptions, ServerOptions

if TYPE_CHECKING:
    import grpc


# The channel option of the :authority a channel sends (grpcio takes the first of two).
DEFAULT_AUTHORITY = "grpc.default_authority"


class TlsError(Exception):
    """A certificate or key file cannot be used; the message is a single line."""


def _read_pem(flag: str, path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TlsError(f"argument {flag}: cannot read {path}: {err.strerror or err}") from None
    if b"-----BEGIN " not in data:
        raise TlsError(f"argument {flag}: {path} is not a PEM file")
    return data


@dataclass(frozen=True)
class ServerPem:
    cert: bytes
    key: bytes
    client_ca: bytes | None  # set: a client certificate signed by it is required

    @property
    def mode(self) -> str:
        return "mtls" if self.client_ca is not None else "tls"


def server_pem(options: ServerOptions) -> ServerPem | None:
    """The server's TLS material, or None for an insecure server."""
    if not options.use_tls:
        return None
    return ServerPem(
        cert=_read_pem("--tls_cert_file", options.tls_cert_file),
        key=_read_pem("--tls_key_file", options.tls_key_file),
        client_ca=_read_pem("--client_ca_file", options.client_ca_file) if options.require_client_cert else None,
    )


def server_credentials(pem: ServerPem) -> grpc.ServerCredentials:
    import grpc

    return grpc.ssl_server_credentials(
        [(pem.key, pem.cert)],
        root_certificates=pem.client_ca,
        require_client_auth=pem.client_ca is not None,
    )


@dataclass(frozen=True)
class ClientPem:
    root: bytes | None  # None: the system's roots
    cert: bytes | None
    key: bytes | None
    server_host_override: str


def client_pem(options: ClientOptions) -> ClientPem | None:
    """The client's TLS material, or None for an insecure client."""
    if not options.use_tls:
        return None
    with_cert = options.client_cert_file is not None and options.client_key_file is not None
    return ClientPem(
        root=_read_pem("--ca_file", options.ca_file) if options.use_test_ca else None,
        cert=_read_pem("--client_cert_file", options.client_cert_file) if with_cert else None,  # type: ignore[arg-type]
        key=_read_pem("--client_key_file", options.client_key_file) if with_cert else None,  # type: ignore[arg-type]
        server_host_override=options.server_host_override,
    )


def channel_credentials(pem: ClientPem) -> grpc.ChannelCredentials:
    import grpc

    return grpc.ssl_channel_credentials(root_certificates=pem.root, private_key=pem.key, certificate_chain=pem.cert)


def channel_options(pem: ClientPem) -> tuple[tuple[str, Any], ...]:
    """The name the server certificate must match (TLS authority and SNI), when overridden."""
    if not pem.server_host_override:
        return ()
    return server_name_options(pem.server_host_override)


def server_name_options(name: str) -> tuple[tuple[str, Any], ...]:
    """The channel options that make `name`, exactly as written, the name the server certificate
    must match (grpc.ssl_target_name_override: the handshake's check and SNI) and the calls'
    authority: what --server_host_override gives a channel, and an instruction's
    `channel.server_name` in its place (scripted_executor)."""
    return (("grpc.ssl_target_name_override", name), (DEFAULT_AUTHORITY, name))
