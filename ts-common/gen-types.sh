#!/usr/bin/env bash
# Regenerates the TypeScript types of every .proto under protos/ (proto-loader-gen-types) when
# the protos, the generator or this script changed. The options must match the proto-loader
# options in src/proto.ts. A lock keeps two builds at once (two matrix runs) from mixing files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/ts-common/src/generated"
inputs() {
  cat "$0" "$root/node_modules/@grpc/proto-loader/package.json"
  (cd "$root/protos" && find . -name '*.proto' | LC_ALL=C sort | xargs sha256sum)
}
sum=$(inputs | sha256sum | cut -d' ' -f1)
[ "$(cat "$out/.inputs" 2>/dev/null)" = "$sum" ] && exit 0
mkdir -p "$root/build"
exec 9>"$root/build/.gen-types.lock"
flock 9
[ "$(cat "$out/.inputs" 2>/dev/null)" = "$sum" ] && exit 0 # another build did it meanwhile
tmp="$out.tmp.$$"
rm -rf "$tmp"
cd "$root/protos"
mapfile -t files < <(find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
"$root/node_modules/.bin/proto-loader-gen-types" --grpcLib=@grpc/grpc-js \
  --keepCase --longs=String --enums=String --defaults --oneofs \
  --includeDirs=. --outDir="$tmp" "${files[@]}"
# The generator writes extension-less, type-only imports; as CommonJS they resolve under
# NodeNext, and since every import is `import type`, nothing of this folder runs.
echo '{"type": "commonjs"}' > "$tmp/package.json"
echo "$sum" > "$tmp/.inputs"
rm -rf "$out"
mv "$tmp" "$out"
