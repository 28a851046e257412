#!/usr/bin/env bash
# Builds the raw peer (a gRPC server and a client written on HTTP/2 frames that misbehave on purpose, see
# README.md) into build/raw/server and build/raw/client, and records the golang.org/x/net version it was built with
# in build/raw/VERSION ("x/net v0.63.0"). Run from anywhere; it works in interop/raw.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/raw"
mkdir -p "$out"
cd "$here"
go build -o "$out/server" .
go build -o "$out/client" ./client
echo "x/net $(go list -m -f '{{.Version}}' golang.org/x/net)" > "$out/VERSION"
