#!/usr/bin/env bash
# Builds the Go (grpc-go) peer from scratch:
#   1. the protoc plugins pinned as tool dependencies in go.mod  -> build/go/bin/
#   2. the generated code for every .proto under protos/ except   -> interop/go/gen/
#      protos/google/ (genproto's packages are the real ones, see below)
#   3. the server and client                                     -> build/go/server, build/go/client
# protoc comes from grpcio-tools in the Python peer's venv; set PROTOC_PYTHON to use another one.
#
# bash interop/go/build.sh --version=V builds the same server and client against grpc-go V instead,
# with interop/go/versions/V/go.mod (and the go.sum beside it) as the module file:
#   -> build/versions/go/V/server, build/versions/go/V/client, build/versions/go/V/grpc-version
# It reuses the generated code in interop/go/gen (made by the default build) and touches nothing
# of the default build. --add=V (below) adds a version; interop/go/versions/README.md says how.
#
# bash interop/go/build.sh --add=V pins grpc-go V: it writes interop/go/versions/V/go.mod and
# go.sum from interop/go/go.mod by the recipe in interop/go/versions/README.md (or refreshes them
# if the folder exists) and checks that V is the grpc-go they select. It builds nothing.
# Exit status 2 when V is refused (not an exact release, older than 1.64.0, or not on the Go
# module proxy), 1 on any other failure.
set -euo pipefail

die() {
  echo "interop/go/build.sh: $*" >&2
  exit 1
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/build/go"

usage="usage: build.sh [--version=GRPC_GO_VERSION | --add=GRPC_GO_VERSION]"
version=""
add=""
adding=0
for arg in "$@"; do
  case "$arg" in
    --version=?*) version="${arg#--version=}" ;;
    --add=*) add="${arg#--add=}" adding=1 ;;
    *) die "unknown argument '$arg' ($usage)" ;;
  esac
done
[[ -z "$version" ]] || ((!adding)) || die "--add and --version do not go together: --add pins a version, --version builds it ($usage)"

# True when the release MAJOR.MINOR.PATCH $1 is older than $2 (both without leading zeros).
older_than() {
  local -a a b
  local i
  IFS=. read -ra a <<<"$1"
  IFS=. read -ra b <<<"$2"
  for i in 0 1 2; do
    # Numbers of any length: the shorter is the smaller, else compare them as strings.
    if ((${#a[i]} != ${#b[i]})); then
      ((${#a[i]} < ${#b[i]}))
      return
    fi
    [[ "${a[i]}" == "${b[i]}" ]] || { [[ "${a[i]}" < "${b[i]}" ]]; return; }
  done
  return 1
}

if ((adding)); then
  # The recipe of interop/go/versions/README.md, in a scratch directory: the folder is written
  # only once the result selects exactly grpc-go $add, and a file only when it changes.
  shown="${add//[^[:graph:]]/?}" # the argument as it may appear in a one-line message
  refuse() {
    echo "interop/go/build.sh: --add=$shown: $*" >&2
    exit 2
  }
  [[ "$add" =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] ||
    refuse "not an exact grpc-go release: give MAJOR.MINOR.PATCH, e.g. 1.64.1"
  ! older_than "$add" 1.64.0 ||
    refuse "grpc-go $add is older than 1.64.0: the generated code in interop/go/gen needs grpc.SupportPackageIsVersion9, which grpc-go 1.64.0 added"
  command -v go >/dev/null || die "go is not on PATH"
  cd "$here"
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  if ! found="$(go list -m -f '{{.Version}}' "google.golang.org/grpc@v$add" 2>"$scratch/list.err")" || [[ "$found" != "v$add" ]]; then
    why="$(cat "$scratch/list.err" - <<<"$found" | sed -e 's/^[[:space:]]*//' -e '/^$/d' | paste -sd ';' - | sed -e 's/;/; /g' -e "s|^go: google.golang.org/grpc@v$add: ||")"
    refuse "cannot get google.golang.org/grpc@v$add from the Go module proxy (go list -m: ${why:-it printed nothing})"
  fi
  cp go.mod go.sum "$scratch/"
  go mod edit -droptool=google.golang.org/grpc/cmd/protoc-gen-go-grpc -droptool=google.golang.org/protobuf/cmd/protoc-gen-go \
    -droprequire=google.golang.org/grpc/cmd/protoc-gen-go-grpc -require="google.golang.org/grpc@v$add" "$scratch/go.mod"
  if ! log="$(go mod tidy -modfile="$scratch/go.mod" 2>&1)"; then
    printf '%s\n' "$log" >&2
    die "go mod tidy -modfile=versions/$add/go.mod failed (above)"
  fi
  got="$(go list -modfile="$scratch/go.mod" -m -f '{{.Version}}' google.golang.org/grpc)"
  [[ "$got" == "v$add" ]] ||
    die "grpc-go $add cannot be pinned: with google.golang.org/grpc v$add required, go.mod selects $got (another requirement of interop/go/go.mod pulls grpc-go up; nothing written)"
  dest="$here/versions/$add"
  if [[ -d "$dest" ]]; then
    changed=()
    for f in go.mod go.sum; do
      cmp -s "$scratch/$f" "$dest/$f" || changed+=("$f")
    done
    if ((${#changed[@]})); then
      echo "interop/go/build.sh: interop/go/versions/$add exists: refreshed, ${changed[*]} changed" >&2
    else
      echo "interop/go/build.sh: interop/go/versions/$add exists: refreshed, unchanged" >&2
    fi
  fi
  mkdir -p "$dest"
  for f in go.sum go.mod; do
    if ! cmp -s "$scratch/$f" "$dest/$f"; then
      cp "$scratch/$f" "$dest/$f"
      chmod 0644 "$dest/$f"
    fi
  done
  echo "build.sh: pinned grpc-go $add in interop/go/versions/$add (go.mod, go.sum)"
  exit 0
fi

if [[ -n "$version" ]]; then
  command -v go >/dev/null || die "go is not on PATH"
  modfile="$here/versions/$version/go.mod"
  [[ "$version" != */* && -f "$modfile" ]] ||
    die "no interop/go/versions/$version/go.mod (have: $(cd "$here/versions" && ls -d -- */ 2>/dev/null | tr -d / | paste -sd " " -)): to add grpc-go $version, run bash interop/go/build.sh --add=$version (interop/go/versions/README.md)"
  [[ -f "$here/versions/$version/go.sum" ]] || die "interop/go/versions/$version/go.sum is missing: see interop/go/versions/README.md"
  [[ -d "$here/gen" ]] || die "interop/go/gen is missing: run the default build (bash interop/go/build.sh) first, it generates the code every version reuses"
  vout="$repo/build/versions/go/$version"
  cd "$here"
  got="$(go list -modfile="$modfile" -m -f '{{.Version}}' google.golang.org/grpc)"
  [[ "$got" == "v$version" ]] ||
    die "interop/go/versions/$version/go.mod selects google.golang.org/grpc $got, not v$version (another requirement pulls it up: pin that one lower)"
  mkdir -p "$vout"
  echo "[go $version] building $vout/server and $vout/client" >&2
  go build -modfile="$modfile" -o "$vout/" ./cmd/server ./cmd/client
  go list -modfile="$modfile" -m -f '{{.Version}}' google.golang.org/grpc | sed 's/^v//' > "$vout/grpc-version"
  echo "[go $version] done" >&2
  exit 0
fi
protoc_python="${PROTOC_PYTHON:-$repo/interop/python/.venv/bin/python}"

command -v go >/dev/null || die "go is not on PATH"
command -v "$protoc_python" >/dev/null ||
  die "no Python at $protoc_python: run \`python3 interop/python/build.py\` first (it provides protoc via grpcio-tools), or set PROTOC_PYTHON"
wkt_dir="$("$protoc_python" -c 'import os, grpc_tools; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))' 2>/dev/null)" &&
  [[ -f "$wkt_dir/google/protobuf/empty.proto" ]] ||
  die "$protoc_python has no grpc_tools (grpcio-tools): run \`python3 interop/python/build.py\` first, or set PROTOC_PYTHON"

cd "$here"
mkdir -p "$out/bin"

echo "[go] building protoc plugins into $out/bin" >&2
go build -o "$out/bin/" google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc

echo "[go] generating $here/gen from $repo/protos" >&2
rm -rf "$here/gen"
# protos/google/ (google.rpc.Status and the error details) is for the TypeScript side only: its
# files declare go_package google.golang.org/genproto/googleapis/rpc/{status,errdetails}, grpc-go's
# own generated packages (go.mod requires them), so imports of those files resolve to genproto.
# Generating them again here would write outside this module (protoc-gen-go refuses with
# module=interopmatrix) and register the same proto names twice at run time.
mapfile -t protos < <(cd "$repo/protos" && find . -name '*.proto' -not -path './google/*' -printf '%P\n' | sort)
((${#protos[@]} > 0)) || die "no .proto files under $repo/protos"
"$protoc_python" -m grpc_tools.protoc \
  -I "$repo/protos" -I "$wkt_dir" \
  --plugin=protoc-gen-go="$out/bin/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$out/bin/protoc-gen-go-grpc" \
  --go_out="$here" --go_opt=module=interopmatrix \
  --go-grpc_out="$here" --go-grpc_opt=module=interopmatrix \
  "${protos[@]}"

echo "[go] building $out/server and $out/client" >&2
go build -o "$out/" ./cmd/server ./cmd/client
go list -m -f '{{.Version}}' google.golang.org/grpc | sed 's/^v//' > "$out/grpc-version"
echo "[go] done" >&2
