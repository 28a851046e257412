#!/usr/bin/env bash
# Builds the net/rpc peer (docs/peer-contract.md, "The netrpc suite": the Panda service of Go's
# net/rpc over HTTP and JSON-RPC 1.0 on one port; standard library only) into build/netrpc/server,
# and records the Go release it was built with in build/netrpc/VERSION ("go1.26.8"). Run from
# anywhere; it works in interop/netrpc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/netrpc"
mkdir -p "$out"
cd "$here"
go build -trimpath -o "$out/server" ./server
go env GOVERSION > "$out/VERSION"
