"""Server reflection (docs/peer-contract.md, "Server"), through grpcio-reflection, pinned at the
grpcio release's own version (requirements.txt, versions/*/requirements.txt), with the
reflection-incomplete fault wired in.

grpcio-reflection describes the services it is given by name, from a protobuf descriptor pool: by
default protobuf's default pool, which holds every file the server imported (the generated code of
gen/ adds its files there when imported, with the google/protobuf/*.proto files they import), so
file_containing_symbol answers with a service's or a message's file and every file it imports.

Only v1alpha: every grpcio-reflection pinned here (1.62.3, 1.70.0 and 1.85.1) ships the package
grpc_reflection.v1alpha alone, and its enable_server_reflection registers
grpc.reflection.v1alpha.ServerReflection and nothing else. None has a grpc.reflection.v1 module,
servicer or proto (grpc/grpc#38576, "Reflection v1 support in Python", open), so this server does
not serve grpc.reflection.v1.ServerReflection (UNIMPLEMENTED): a divergence from the contract, not
papered over here.

list_services lists exactly the names given to enable_server_reflection, sorted (grpcio-reflection
does not look at the server): here every served service plus grpc.reflection.v1alpha.ServerReflection
itself, as grpcio's own reflection example does.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_reflection.v1alpha import reflection

from .faults import Fault, Faults
from .protos import scripted_pb2

# What reflection-incomplete hides: interop.scripted.Scripted, and every symbol of its package.
HIDDEN_SERVICE = scripted_pb2.DESCRIPTOR.services_by_name["Scripted"].full_name
HIDDEN_PREFIX = f"{scripted_pb2.DESCRIPTOR.package}."


class PoolWithout:
    """A descriptor pool as grpcio-reflection sees it, except that symbols under `prefix` are not
    found: FindFileContainingSymbol raises KeyError for them, which grpcio-reflection answers with
    error_response NOT_FOUND, as for a symbol no file declares. Every other lookup is the pool's."""

    def __init__(self, pool: descriptor_pool.DescriptorPool, prefix: str) -> None:
        self._pool = pool
        self._prefix = prefix

    def FindFileContainingSymbol(self, symbol: str) -> FileDescriptor:  # noqa: N802 (the pool's API)
        if symbol.startswith(self._prefix):
            raise KeyError(f"reflection-incomplete: {symbol!r} is hidden")
        return self._pool.FindFileContainingSymbol(symbol)

    def __getattr__(self, name: str) -> object:
        return getattr(self._pool, name)


def add_reflection_service(server: grpc.Server, served: Sequence[str], faults: Faults) -> str:
    """Enables grpcio-reflection's v1alpha service for `served` (and itself); returns its name.
    reflection-incomplete: interop.scripted.Scripted is left out of list_services, and every symbol
    under interop.scripted. is not found, as if that service had not been given to reflection."""
    names = [*served, reflection.SERVICE_NAME]
    pool = None  # grpcio-reflection's default: protobuf's default pool
    if Fault.REFLECTION_INCOMPLETE in faults:
        names = [name for name in names if name != HIDDEN_SERVICE]
        pool = PoolWithout(descriptor_pool.Default(), HIDDEN_PREFIX)
    reflection.enable_server_reflection(names, server, pool=pool)
    return str(reflection.SERVICE_NAME)
