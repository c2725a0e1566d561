#!/usr/bin/env bash
# Every test of the project, in order: lint and types, unit tests, the conformance test against
# real Codex CLI versions, and the tests inside a real VS Code (code-server + Chromium).
# Installs what it needs itself (npm packages, Codex versions, code-server, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "== lint and types"
npx eslint src test bench
npx tsc -p tsconfig.json --noEmit
npx tsc -p src/webview/tsconfig.json --noEmit
echo "== build"
node esbuild.mjs
echo "== unit tests"
npx vitest run --project unit
echo "== conformance (real Codex CLI against a mock model server)"
npx vitest run --project conformance
echo "== tests inside a real VS Code"
bash scripts/setup-e2e.sh
npx vitest run --project e2e
