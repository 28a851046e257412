#!/usr/bin/env bash
# Builds the Docker Compose v2 CLI plugin from its Go module (pinned below) into
#   build/tools/docker-config/cli-plugins/docker-compose
# so that `DOCKER_CONFIG=build/tools/docker-config docker compose …` is Compose v2 (Debian ships
# only v1, and no registry serves the plugin here). `go install …/cmd@VERSION` refuses the module
# (its go.mod has exclude directives), so its source is downloaded from the module proxy, copied
# and built in place; its own go.sum pins every dependency. ~2.5 min cold, seconds when built.
# Prints the plugin's folder's parent (the DOCKER_CONFIG to use) on stdout.
set -euo pipefail

version=v2.40.3
module=github.com/docker/compose/v2
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
config="$repo/build/tools/docker-config"
plugin="$config/cli-plugins/docker-compose"

if [[ -x "$plugin" ]] && "$plugin" version 2>/dev/null | grep -q "$version"; then
  echo "$config"
  exit 0
fi
src="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$module@$version" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
work="$(mktemp -d /tmp/compose-v2.XXXXXX)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$src/." "$work/"
chmod -R u+w "$work"
mkdir -p "$(dirname "$plugin")"
(cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-w -X $module/internal.Version=$version" -o "$plugin.tmp" ./cmd)
mv "$plugin.tmp" "$plugin"
"$plugin" version >&2
echo "$config"
