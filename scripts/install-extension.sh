#!/usr/bin/env bash
# Builds the extension, packages it as a .vsix with @vscode/vsce, and installs it into VS Code
# where a `code` (or `code-server`) command exists. Prints where the .vsix is either way.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
node esbuild.mjs --production
npx vsce package --no-dependencies --no-rewrite-relative-links --out dist/codex-token-meter.vsix
for cli in code code-insiders codium code-server; do
  if command -v "$cli" >/dev/null 2>&1; then
    "$cli" --install-extension dist/codex-token-meter.vsix --force
    echo "Installed into $cli."
    exit 0
  fi
done
echo "No VS Code command (code, code-insiders, codium, code-server) found: install dist/codex-token-meter.vsix"
echo "with 'Extensions: Install from VSIX...'. The CLI is ready too: node dist/cli.js threads"
