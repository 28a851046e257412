#!/usr/bin/env bash
# Builds the tools-as-clients peer into build/tools-peers/ (docs/peer-contract.md, "Tools as
# clients"): grpcurl and grpc-health-probe, unchanged, from the Go module proxy at the versions
# pinned in grpcurl/go.mod and grpc-health-probe/go.mod (each in a module of its own, so each is
# built with its own go.mod's dependency versions), with the flags of their release builds
# (their .goreleaser.yml: the version stamped into the binary, which grpcurl also sends in its
# user-agent); and the client that runs them (cmd/client). Records each tool's version in
# build/tools-peers/TOOL.version ("grpcurl v1.9.3"). Quiet on success.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/tools-peers"
mkdir -p "$out"

# quiet COMMAND…: runs it, showing its output only when it fails (with empty Go caches, go
# reports every module it downloads).
quiet() {
	local output
	if ! output=$("$@" 2>&1); then
		printf '%s\n' "$output" >&2
		return 1
	fi
}

# version MODULE_DIR MODULE: the pinned version of MODULE (v1.2.3).
version() { go -C "$here/$1" list -m -f '{{.Version}}' "$2"; }

grpcurl=$(version grpcurl github.com/fullstorydev/grpcurl)
probe=$(version grpc-health-probe github.com/grpc-ecosystem/grpc-health-probe)

# grpcurl's .goreleaser.yml: ldflags -X main.version=v{{.Version}}.
quiet go -C "$here/grpcurl" build -o "$out/grpcurl" \
	-ldflags "-X main.version=$grpcurl" github.com/fullstorydev/grpcurl/cmd/grpcurl
# grpc-health-probe's .goreleaser.yml: CGO_ENABLED=0, -trimpath -tags=netgo,
# ldflags -X main.versionTag={{.Version}} (no "v").
quiet env CGO_ENABLED=0 go -C "$here/grpc-health-probe" build -o "$out/grpc-health-probe" -trimpath -tags=netgo \
	-ldflags "-X main.versionTag=${probe#v}" github.com/grpc-ecosystem/grpc-health-probe
quiet go -C "$here" build -o "$out/client" ./cmd/client

echo "grpcurl $grpcurl" > "$out/grpcurl.version"
echo "grpc-health-probe $probe" > "$out/grpc-health-probe.version"
