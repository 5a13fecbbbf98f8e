# Sourced by tests/run-all.sh and tests/editors/vscode/setup.sh: run a build or install step with
# its output in a log, so the test command's output is the tests' own. On failure the log's end is
# shown; on success only the warnings that matter are (the known-harmless ones below are not).
#
#   quietly LOGFILE COMMAND [ARGS...]

# Known and harmless, so not shown:
#   - vsce: "extension.js is large" (the extension is one minified esbuild bundle, on purpose)
#   - pip: a find-links location from this machine's pip config that does not exist
#   - npm: deprecation notices for transitive dependencies of code-server (not ours to fix)
QUIETLY_HARMLESS=${QUIETLY_HARMLESS:-'extension\.js is large|Location .* is ignored: it is neither a file nor a directory|npm warn deprecated'}

quietly() {
    local log=$1
    shift
    mkdir -p "$(dirname "$log")"
    if ! "$@" > "$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "error: $* failed (full output: $log)" >&2
        return 1
    fi
    grep -iE '\b(warn(ing)?|deprecat[a-z]*|error)\b' "$log" | grep -viE "$QUIETLY_HARMLESS" | sed "s|^|warning ($(basename "$log")): |" >&2 || true
}
