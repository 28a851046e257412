"""The generated protobuf and gRPC modules, importable from one place.

build.py writes them next to the venv that generated them (one directory per proto package):
interop/python/.venv → interop/python/gen (the default build), build/versions/python/<v>/venv →
build/versions/python/<v>/gen (`build.py --version=<v>`: the same peer code on an older grpcio,
whose generated code must come from that grpcio-tools and run on that protobuf). So the gen/ used
is the one beside the running interpreter's venv (`Path(sys.prefix).parent / "gen"`), and
interop/python/gen when there is none (an interpreter outside any of these venvs). The generated
code imports its siblings by proto path (``from helloworld import helloworld_pb2``), so gen/
goes on sys.path.
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_GEN = Path(__file__).resolve().parent.parent / "gen"


def _find_gen() -> Path:
    beside_venv = Path(sys.prefix).parent / "gen"
    return beside_venv if beside_venv.is_dir() else DEFAULT_GEN


GEN = _find_gen()
if not GEN.is_dir():
    raise ImportError(f"{GEN} is missing: run `python3 interop/python/build.py` first")
sys.path.insert(0, str(GEN))

import grpc  # noqa: E402

# protos/grpc/health/v1/health.proto generates gen/grpc/health/v1/, i.e. the module
# grpc.health.v1. Python resolves `grpc` to the installed grpcio package (a regular package
# beats the namespace directory gen/grpc), so grpc.health would not be found. Extending the
# package's search path makes gen/grpc/* importable as grpc.* next to grpcio's own modules.
# The grpc.testing protos (gen/grpc/testing/) are reached the same way.
grpc.__path__.append(str(GEN / "grpc"))

from compute import compute_pb2, compute_pb2_grpc  # noqa: E402
from grpc.health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from grpc.testing import empty_pb2, messages_pb2, test_pb2, test_pb2_grpc  # noqa: E402
from helloworld import (  # noqa: E402
    helloworld_pb2,
    helloworld_pb2_grpc,
    streaming_pb2,
    streaming_pb2_grpc,
)
from interop import scripted_pb2, scripted_pb2_grpc, server_info_pb2, server_info_pb2_grpc  # noqa: E402
from panda import panda_pb2, panda_pb2_grpc  # noqa: E402
from rpc_package import hello_world_service_pb2, hello_world_service_pb2_grpc  # noqa: E402
from test_server import test_server_pb2, test_server_pb2_grpc  # noqa: E402
from user_recommend import user_recommend_pb2, user_recommend_pb2_grpc  # noqa: E402

__all__ = [
    "GEN",
    "compute_pb2",
    "compute_pb2_grpc",
    "empty_pb2",
    "health_pb2",
    "health_pb2_grpc",
    "hello_world_service_pb2",
    "hello_world_service_pb2_grpc",
    "helloworld_pb2",
    "helloworld_pb2_grpc",
    "messages_pb2",
    "panda_pb2",
    "panda_pb2_grpc",
    "scripted_pb2",
    "scripted_pb2_grpc",
    "server_info_pb2",
    "server_info_pb2_grpc",
    "streaming_pb2",
    "streaming_pb2_grpc",
    "test_pb2",
    "test_pb2_grpc",
    "test_server_pb2",
    "test_server_pb2_grpc",
    "user_recommend_pb2",
    "user_recommend_pb2_grpc",
]
