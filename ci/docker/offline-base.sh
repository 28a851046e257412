#!/usr/bin/env bash
# Builds a local base image for the Docker launcher on a machine that can reach no container
# registry: a Debian root file system made by debootstrap from the apt mirror this machine
# already uses, with Python (Debian's python3 and venv), plus the Go and Node.js toolchains
# already installed on this machine (nothing is downloaded but Debian packages), and this
# machine's CA trust store (so that builds reach the registries the way the machine does, e.g.
# through a TLS-inspecting proxy), imported with `docker import`. Use it with `npm run matrix -- --launcher docker --docker-base IMAGE`.
#
#   ci/docker/offline-base.sh [IMAGE]      default IMAGE: grpc-interop-matrix/offline-base:bookworm
#
# Needs root, debootstrap and a running Docker engine. Takes a few minutes; does nothing when
# the image already exists.
set -euo pipefail
image=${1:-grpc-interop-matrix/offline-base:bookworm}
die() { echo "offline-base: $*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed (Debian: apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd first)"
if docker image inspect "$image" >/dev/null 2>&1; then echo "offline-base: $image exists"; exit 0; fi
command -v debootstrap >/dev/null || die "debootstrap is not installed (Debian: apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || die "debootstrap needs root"

# The mirror and release this machine's apt already uses (deb822 .sources or a sources.list line).
mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security |
  head -1 | sed -E 's/^URIs: *//; s/^deb +(\[[^]]*\] +)?//; s/ .*//' || true)
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
[ -n "$mirror" ] || die "no apt mirror found in /etc/apt/sources.list.d or /etc/apt/sources.list"

go_root=$(go env GOROOT 2>/dev/null) || die "Go is not installed on this machine"
node_bin=$(readlink -f "$(command -v node)") || die "Node.js is not installed on this machine"
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")

root=$(mktemp -d /var/tmp/offline-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "offline-base: debootstrap $suite from $mirror"
debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv "$suite" "$root" "$mirror" >/dev/null
echo "offline-base: adding Go ($go_root) and Node.js ($node_bin, npm from $npm_dir)"
cp -a "$go_root" "$root/usr/local/go"
install -m 755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
echo "offline-base: adding this machine's CA trust store"
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
echo "offline-base: importing as $image"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - "$image" >/dev/null
echo "offline-base: $image ready"
