#!/usr/bin/env bash
# Builds the h2spec peer into build/h2spec/ (docs/peer-contract.md, "h2spec"): h2spec itself,
# unchanged, from the Go module proxy at the version pinned in tool/go.mod, with the flags of its
# release build (its Makefile: -X main.VERSION); list, which prints the ids of h2spec's tests
# from the same packages; and the client that runs h2spec once per test (client/). Records the
# version in build/h2spec/VERSION ("h2spec 2.2.1"). Quiet on success.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/h2spec"
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

version=$(go -C "$here/tool" list -m -f '{{.Version}}' github.com/summerwind/h2spec)
version=${version#v}
version=${version%+incompatible}
quiet go -C "$here/tool" build -o "$out/h2spec" -ldflags "-X main.VERSION=$version -X main.COMMIT=module-proxy" github.com/summerwind/h2spec/cmd/h2spec
quiet go -C "$here/tool" build -o "$out/list" ./list
quiet go -C "$here" build -o "$out/client" ./client
echo "h2spec $version" > "$out/VERSION"
