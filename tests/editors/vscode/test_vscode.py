"""The VS Code extension in a real VS Code (code-server + headless Chromium, vscode_harness.py):
  - `npm test` and `tsc --noEmit` in editors/vscode, and the packaged .vsix free of the builder's paths;
  - extension-host tests (suite/index.js, run through run_host_tests.cjs): activation, settings
    round trip, commands, status bar, report, failure notification;
  - the UI test (ui_test.cjs): type, see the ghost text from tierline + the simulator, Tab,
    screenshot under test-output/vscode/.
Needs `bash tests/editors/vscode/setup.sh` first (fails, never skips, when it has not run)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vscode_harness import EXT_DIR, HERE, e2e_tools, ensure_vsix, make_workspace, npm, run_node, with_node


def test_extension_unit_tests() -> None:
    """`npm test` in editors/vscode: the pure modules (settings, formats, report) under node:test."""
    setup = e2e_tools()
    env = with_node(setup)
    run = npm(setup, env, "test", timeout=180)
    assert run.returncode == 0, f"npm test failed:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    assert re.search(r"^# pass [1-9]", run.stdout, re.M) and re.search(r"^# fail 0$", run.stdout, re.M), run.stdout[
        -2000:
    ]


def test_the_packaged_extension_carries_no_path_of_the_machine_that_built_it() -> None:
    """The .vsix goes to other machines: the checkout path it was built in is not in it."""
    import zipfile

    setup = e2e_tools()
    env = with_node(setup)
    vsix = ensure_vsix(setup, env)
    checkout = str(EXT_DIR.parents[1])
    with zipfile.ZipFile(vsix) as packaged:
        names = [name for name in packaged.namelist() if checkout.encode() in packaged.read(name)]
        bundle = packaged.read("extension/dist/extension.js").decode()
    assert names == []
    assert "/path/to/tierline-checkout" in bundle  # the install advice still says what to do


def test_extension_typecheck() -> None:
    """`npm run typecheck` in editors/vscode: `tsc --noEmit` in strict mode over src/ and test/, clean."""
    setup = e2e_tools()
    tsconfig = json.loads((EXT_DIR / "tsconfig.json").read_text())
    assert tsconfig["compilerOptions"]["strict"] is True, "the extension must typecheck in strict mode"
    env = with_node(setup)
    run = npm(setup, env, "run", "--silent", "typecheck", timeout=180)
    assert run.returncode == 0, f"tsc --noEmit reported errors:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"


def test_extension_host_suite(vscode: dict[str, Any]) -> None:
    tmp = vscode["tmp"]
    results_file = tmp / "host-results.json"
    # Every position routes to "mid" by the workspace's .tierline.toml (score >= 0.0, < 1.0).
    workspace = make_workspace(tmp, "ws-host", vscode["sim_config"], "{ mid = 0.0, premium = 1.0 }")
    run, output = run_node(
        vscode,
        "run_host_tests.cjs",
        {
            "TIERLINE_E2E_WORKSPACE": str(workspace),
            "TIERLINE_E2E_EXTENSION_DIR": str(vscode["extension_dir"]),
            "TIERLINE_E2E_SUITE_DIR": str(HERE / "suite"),
            "TIERLINE_E2E_PROFILE": str(tmp / "chromium-host"),
        },
        timeout=300,
    )
    assert results_file.is_file(), (
        f"the extension-host suite wrote no results ({run}).\ncode-server log:\n{vscode['log'].read_text()[-4000:]}"
    )
    results = json.loads(results_file.read_text())
    report = "\n".join(
        [f"PASS {t['name']} ({t['ms']} ms)" for t in results["passed"]]
        + [f"FAIL {t['name']}:\n{t['error']}" for t in results["failed"]]
        + results.get("log", [])
    )
    print(report)
    assert not results["failed"], f"extension-host tests failed:\n{report}\nbrowser console:\n" + "\n".join(
        run.get("console", [])
    )
    assert run.get("exitCode") == 0, f"the extension-host run did not exit 0: {run}"
    assert len(results["passed"]) >= 16, report


def test_ui_ghost_text_tab_and_status_bar(vscode: dict[str, Any]) -> None:
    tmp = vscode["tmp"]
    workspace = make_workspace(tmp, "ws-ui", vscode["sim_config"], None)
    result, output = run_node(
        vscode,
        "ui_test.cjs",
        {"TIERLINE_E2E_WORKSPACE": str(workspace), "TIERLINE_E2E_PROFILE": str(tmp / "chromium-ui")},
        timeout=240,
    )
    print(json.dumps(result, indent=2))
    assert "error" not in result, (
        f"UI test failed: {result.get('error')}\nsteps: {result.get('steps')}\nscreenshot: {result.get('failureScreenshot')}"
    )
    assert "tl_" in result["ghostText"], f"ghost text is not from the simulator: {result['ghostText']!r}"
    assert result["acceptedLine"] and "tl_" in result["acceptedLine"], result.get("lines")
    assert result["acceptedLine"].lstrip().startswith("total = "), result["acceptedLine"]
    assert result["ghostAfterTab"] == 0, "the accepted ghost text still shown after Tab"
    status = result["statusText"]
    m = re.search(r"(cheap|mid|premium) · (\S+) · (\d+ ms|cached|typed) · \$([0-9.]+) \| today \$([0-9.]+)", status)
    assert m, f"status bar does not show tier · model · latency · cost | today: {status!r}"
    assert m.group(2) in {"deepseek-v4-flash", "qwen2.5-coder-32b", "claude-haiku", "claude-sonnet", "claude-opus"}, (
        status
    )
    assert Path(result["screenshot"]).stat().st_size > 10_000
    report = result["reportText"]
    assert "Tierline report" in report and "By tier" in report and "By model" in report, report
    assert m.group(2) in report, f"the report does not list {m.group(2)}:\n{report}"
