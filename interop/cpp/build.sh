#!/usr/bin/env bash
# Builds the C++ (gRPC C++) peer with CMake against the system's gRPC C++:
#   build/cpp/server, build/cpp/client, build/cpp/grpc-version (the gRPC C++ release, from pkg-config)
# Needs: g++, cmake, pkg-config, and gRPC C++ with its code generator (Debian/Ubuntu:
#   apt install g++ cmake pkg-config libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc nlohmann-json3-dev).
# A missing piece is one line on stderr naming what to install, and exit status 3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/build/cpp"
install_hint="apt install g++ cmake pkg-config libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc nlohmann-json3-dev (or run it with --launcher docker)"

missing=()
for tool in g++ cmake pkg-config protoc grpc_cpp_plugin; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} == 0)); then
  pkg-config --exists grpc++ || missing+=("grpc++ (pkg-config)")
  pkg-config --exists protobuf || missing+=("protobuf (pkg-config: libprotobuf-dev)")
fi
if ((${#missing[@]} > 0)); then
  echo "interop/cpp/build.sh: the C++ peer needs ${missing[*]}: $install_hint" >&2
  exit 3
fi

# The reflection client's protos: from the pinned npm package @grpc/reflection (npm ci installs it),
# or REFLECTION_PROTOS (the Docker build unpacks the same package).
reflection="${REFLECTION_PROTOS:-$repo/node_modules/@grpc/reflection/build/proto}"
if [[ ! -f "$reflection/grpc/reflection/v1/reflection.proto" ]]; then
  echo "interop/cpp/build.sh: no reflection protos in $reflection: run npm ci first (they come from @grpc/reflection)" >&2
  exit 1
fi

mkdir -p "$out"
# A build folder CMake configured for another checkout (a moved or copied repository) is started afresh.
cache="$out/cmake/CMakeCache.txt"
if [[ -f "$cache" ]] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$here" "$cache"; then rm -rf "$out/cmake"; fi
cmake -S "$here" -B "$out/cmake" -DCMAKE_BUILD_TYPE=Release "-DREFLECTION_PROTOS=$reflection" >"$out/cmake.log" 2>&1 || { tail -20 "$out/cmake.log" >&2; exit 1; }
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --build "$out/cmake" -j "$jobs" >"$out/build.log" 2>&1 || { grep -m 20 -E "error|Error" "$out/build.log" >&2 || tail -20 "$out/build.log" >&2; exit 1; }
for part in server client; do
  if [[ -x "$out/cmake/$part/interop_$part" ]]; then cp "$out/cmake/$part/interop_$part" "$out/$part"; fi
done
pkg-config --modversion grpc++ >"$out/grpc-version"
