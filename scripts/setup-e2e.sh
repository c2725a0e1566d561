#!/usr/bin/env bash
# Installs what the tests inside a real VS Code need, idempotently: Debian's Chromium (driven by
# playwright-core), and code-server 4.100.3 (VS Code 1.100.3; the newest whose engines.node is 20)
# from the npm registry into a cache folder outside the repository. npm's plain install of
# code-server fails here three ways (root postinstall, kerberos headers, ripgrep download from
# GitHub), so this does the postinstall's work by hand. A finished install leaves a marker file;
# a half-finished one is redone.
set -euo pipefail
VERSION=4.100.3
CACHE="${CODEX_METER_CACHE:-$HOME/.cache/codex-token-meter}"
DIR="$CACHE/code-server-$VERSION"
MARKER="$DIR/.installed"

need_apt=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -f /usr/include/krb5.h ] || [ -f /usr/include/gssapi/gssapi.h ] || need_apt+=(libkrb5-dev)
command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -f "$MARKER" ]; then
  echo "== code-server $VERSION already installed in $DIR"
  exit 0
fi
echo "== installing code-server $VERSION into $DIR (takes a few minutes once)"
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
export npm_config_unsafe_perm=true
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error --ignore-scripts "code-server@$VERSION" >/dev/null
CS="$DIR/node_modules/code-server"
cd "$CS/lib/vscode"
npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
for m in kerberos @parcel/watcher @vscode/spdlog native-watchdog @vscode/deviceid; do
  if [ -d "node_modules/$m" ]; then npm rebuild "$m" --loglevel=error >/dev/null; fi
done
if [ -d node_modules/node-pty ]; then (cd node_modules/node-pty && npx --yes node-gyp rebuild >/dev/null 2>&1); fi
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
(cd extensions && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
# code-server's own native dependency (hoisted to the top-level node_modules by npm).
cd "$DIR"
npm rebuild argon2 --loglevel=error >/dev/null
touch "$MARKER"
echo "== code-server $VERSION installed"
