#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs every test: unit, end-to-end
# over LSP against the simulator, and both real editors (code-server + Chromium, Neovim 0.11).
# Re-running skips what is already installed. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Install and build output goes to logs (.e2e/logs/), shown only on failure or for a warning that
# matters, so what this prints is the tests' own output. A new install step: quietly "$LOGS/NAME.log" CMD...
source tests/lib/quietly.sh
LOGS=${TIERLINE_E2E_DIR:-.e2e}/logs

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
quietly "$LOGS/pip-upgrade.log" .venv/bin/python -m pip install --quiet --upgrade pip
quietly "$LOGS/pip-install.log" .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
TIERLINE_SETUP_QUIET=1 bash tests/editors/vscode/setup.sh --without-code-server
# code-server, the longest install (native builds, ~2 minutes on 2 cores) and needed only by the
# editors' suite, installs in the background while the gates and the other tests run; its own
# process group, so that an early exit stops it too. wait_for_code_server: before the editors run.
CODE_SERVER_LOG=$LOGS/code-server-setup.log
mkdir -p "$LOGS"
TIERLINE_SETUP_QUIET=1 setsid bash tests/editors/vscode/setup.sh --code-server-only > "$CODE_SERVER_LOG" 2>&1 &
CODE_SERVER_SETUP=$!
ESTIMATE=
trap 'kill -- -"$CODE_SERVER_SETUP" 2>/dev/null || true; [ -z "$ESTIMATE" ] || kill "$ESTIMATE" 2>/dev/null || true' EXIT
wait_for_code_server() {
  if ! wait "$CODE_SERVER_SETUP"; then
    cat "$CODE_SERVER_LOG" >&2
    echo "error: installing code-server failed (log: $CODE_SERVER_LOG)" >&2
    exit 1
  fi
  cat "$CODE_SERVER_LOG"
}
# The budget tests run against a real redis-server (Debian package); each test starts and stops its own.
if ! command -v redis-server >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  quietly "$LOGS/apt-update.log" $SUDO apt-get update -qq
  quietly "$LOGS/redis-server.log" env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server
fi
# LiteLLM's proxy, in its own venv (its pins must not touch tierline's): tests/e2e/test_litellm_proxy.py
# starts it on 127.0.0.1 with mock_response models.
[ -x .litellm/venv/bin/litellm ] || {
  "$PYTHON" -m venv .litellm/venv
  quietly "$LOGS/litellm-install.log" .litellm/venv/bin/python -m pip install --quiet --disable-pip-version-check 'litellm[proxy]==1.106.2'
}

# What tierline would cost on the repository's own fixtures (offline; the tests check its figures),
# with the built-in defaults, not your config: worked out beside the gates, printed after them.
ESTIMATE_OUT=$LOGS/estimate.txt
TIERLINE_CONFIG=/dev/null .venv/bin/tierline estimate fixtures > "$ESTIMATE_OUT" 2>&1 &
ESTIMATE=$!

# Gates: lint and format, strict typing of the product (devtools/ typed but not strictly). Each mypy
# run has a cache of its own: sharing one, the two option sets overwrote each other's entries and
# every rerun checked everything again (4.8 s each, 0.3 s with its own cache).
.venv/bin/ruff check --quiet server tests
.venv/bin/ruff format --check --quiet server tests
.venv/bin/python -m mypy --strict --no-error-summary --cache-dir .mypy_cache/strict server/tierline --exclude 'server/tierline/devtools/'
.venv/bin/python -m mypy --no-error-summary --cache-dir .mypy_cache/devtools server/tierline/devtools
if ! wait "$ESTIMATE"; then
  cat "$ESTIMATE_OUT" >&2
  echo "error: tierline estimate fixtures failed" >&2
  exit 1
fi
cat "$ESTIMATE_OUT"

# Most tests start tierline processes (hundreds of servers and CLI runs), each importing ~150 of its
# modules from source: with PYTHONDONTWRITEBYTECODE set (some images set it) each compiled them
# again, half a second of CPU per process. Their bytecode goes to .venv/pycache (not the checkout),
# compiled once here.
export PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX="$PWD/.venv/pycache"
.venv/bin/python -m compileall -q server/tierline tests >/dev/null

# pytest exits 5 when it collects no test: that is a failure here too (set -e).
# Extra arguments go to pytest, one test after another (e.g. a file or `-k NAME`).
if [ "$#" -gt 0 ]; then
  wait_for_code_server
  exec .venv/bin/python -m pytest tests "$@"
fi
# The whole suite: everything but the real editors on 4 workers (pytest-xdist; most tests wait on a
# server or the simulator, docs/testing.md "Tests side by side"), then the editors' suites one by
# one (code-server's timed out beside 4 workers on a loaded machine). TIERLINE_TEST_WORKERS=0: all
# one by one.
WORKERS=${TIERLINE_TEST_WORKERS:-4}
if [ "$WORKERS" = 0 ]; then
  wait_for_code_server
  exec .venv/bin/python -m pytest tests
fi
.venv/bin/python -m pytest tests --ignore=tests/editors -n "$WORKERS" --dist loadgroup
wait_for_code_server
exec .venv/bin/python -m pytest tests/editors
