#!/usr/bin/env bash
# Regenerates the TypeScript types of every .proto under protos/ (proto-loader-gen-types).
# The options must match the proto-loader options in src/proto.ts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/ts-common/src/generated"
rm -rf "$out"
cd "$root/protos"
mapfile -t files < <(find . -name '*.proto' | sed 's|^\./||' | sort)
"$root/node_modules/.bin/proto-loader-gen-types" --grpcLib=@grpc/grpc-js \
  --keepCase --longs=String --enums=String --defaults --oneofs \
  --includeDirs=. --outDir="$out" "${files[@]}"
# The generator writes extension-less, type-only imports; as CommonJS they resolve under
# NodeNext, and since every import is `import type`, nothing of this folder runs.
echo '{"type": "commonjs"}' > "$out/package.json"
