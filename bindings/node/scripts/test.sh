#!/usr/bin/env bash
# Builds and tests the Node package (`@stratum-sdk/node`) on a fresh machine:
# pinned dev dependencies from the npm registry (`npm ci`), a release build of the
# addon, a check that the generated `index.d.ts` and loader match the committed
# ones, `node --test` (the shared vectors, errors, the example webhook receiver),
# and `tsc --noEmit --strict` on usage files (one under `isolatedModules`).
#
#   bindings/node/scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "Node >= 18 is required (found $(node --version))" >&2
  exit 1
fi

echo "--> npm ci"
npm ci --no-audit --no-fund --loglevel=error

echo "--> napi build (release)"
committed=$(mktemp -d)
trap 'rm -rf "$committed"' EXIT
cp index.d.ts native.js "$committed/"
npx napi build --platform --release --js native.js --dts index.d.ts --no-const-enum
for f in index.d.ts native.js; do
  if ! diff -u "$committed/$f" "$f"; then
    echo "the generated $f differs from the committed one: commit the regenerated file" >&2
    exit 1
  fi
done

echo "--> node --test"
node --test __test__/

echo "--> tsc --noEmit --strict (usage files)"
npx tsc -p __test__/types/tsconfig.json
npx tsc -p __test__/types/tsconfig.isolated.json
