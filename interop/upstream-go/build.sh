#!/usr/bin/env bash
# Builds grpc-go's own interop client and server (google.golang.org/grpc/interop/client and
# /server), unchanged, at the version pinned in go.mod, into build/upstream-go/, and records
# that version in build/upstream-go/VERSION (the upstream server has no interop.ServerInfo).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/upstream-go"
mkdir -p "$out"
cd "$here"
go build -o "$out/" google.golang.org/grpc/interop/client google.golang.org/grpc/interop/server
go list -m -f '{{.Version}}' google.golang.org/grpc | sed 's/^v//' > "$out/VERSION"
