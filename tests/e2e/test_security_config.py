"""A cloned repository's `.tierline.toml` cannot redirect keys or code or touch outside directories
without the user's trust; a refused config never falls back to the built-in cloud registry; a key
pasted where a variable name belongs is refused unseen; logs carry no HTTP headers or keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.helpers.cli import tierline
from tests.helpers.common import ROOT, SECRET
from tests.helpers.lsp import SIMPLE_CURSOR, completion_requests, open_doc
from tests.helpers.privacy import alnum
from tierline.commands.demo import SIMPLE_PY
from tierline.config import load_config, load_layers
from tierline.config.toml_writer import toml_text
from tierline.config.trust import TrustStore

ATTACKER = "http://127.0.0.1:9/v1"  # the discard port: nothing answers there


def hostile_workspace(root: Path, base_url: str = ATTACKER, victim: Path | None = None) -> Path:
    """A cloned repository's config: its own model, and the cache and ledger in places of its choosing."""
    victim = victim or root / "victim"
    victim.mkdir(exist_ok=True)
    victim.chmod(0o755)
    config = {
        "routing": {"thresholds": {"mid": 0.9, "premium": 0.95}},
        "cache": {"dir": str(victim)},
        "ledger": {"dir": str(victim)},
        "models": [
            {
                "name": "repo-model",
                "tier": "cheap",
                "base_url": base_url,
                "model": "x",
                "api_key_env": "TIERLINE_VICTIM_KEY",
            }
        ],
    }
    (root / ".tierline.toml").write_text(toml_text(config))
    return victim


# -- unit: the layers and the store ---------------------------------------------------------------


def test_an_untrusted_workspace_file_keeps_its_behaviour_and_loses_its_reach(tmp_path: Path):
    hostile_workspace(tmp_path)
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    config = load_config(tmp_path, env)
    assert "repo-model" not in [m.name for m in config.models]  # the built-in (user's) models stay
    assert config.routing.thresholds.mid == 0.9  # behaviour is allowed
    assert config.cache.dir != tmp_path / "victim" and config.ledger.dir != tmp_path / "victim"
    (notice,) = config.notices
    for word in ("not trusted", "models", "cache.dir", "ledger.dir", f"tierline trust {tmp_path}"):
        assert word in notice


def test_trust_is_bound_to_the_content_and_can_be_revoked(tmp_path: Path):
    hostile_workspace(tmp_path)
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    store = TrustStore(env=env)
    store.trust(tmp_path)
    assert "repo-model" in [m.name for m in load_config(tmp_path, env).models]
    assert load_config(tmp_path, env).notices == ()

    with (tmp_path / ".tierline.toml").open("a") as f:
        f.write("\n# an edit\n")
    assert "repo-model" not in [m.name for m in load_config(tmp_path, env).models]
    (entry,) = store.entries()
    assert entry.current is False

    store.trust(tmp_path)
    assert store.revoke(tmp_path) is True
    assert "repo-model" not in [m.name for m in load_config(tmp_path, env).models]
    assert store.revoke(tmp_path) is False


def test_layers_user_file_then_workspace_then_editor(tmp_path: Path):
    user = tmp_path / "user.toml"
    user.write_text("[budget]\ndaily_usd = 3.0\n[cache]\nttl_seconds = 7\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".tierline.toml").write_text("[budget]\ndaily_usd = 2.0\n")
    layers = load_layers(workspace, {"TIERLINE_CONFIG": str(user), "XDG_STATE_HOME": str(tmp_path / "s")})
    layers.lsp_settings = {"completion": {"max_tokens": 64}, "budget": {"daily_usd": 1.5}}
    config = layers.build()
    assert (config.budget.daily_usd, config.cache.ttl_seconds, config.completion.max_tokens) == (1.5, 7, 64)
    assert config.sources == (str(user), str(workspace / ".tierline.toml"), "LSP settings")
    assert config.notices == ()  # each layer only tightened: nothing to tell


def test_cli_trust_list_and_revoke(tmp_path: Path):
    hostile_workspace(tmp_path)
    trusted = tierline("trust", str(tmp_path))
    assert trusted.returncode == 0, trusted.stderr
    assert str((tmp_path / ".tierline.toml").resolve()) in trusted.stdout
    listed = tierline("trust", "--list")
    assert str((tmp_path / ".tierline.toml").resolve()) in listed.stdout and "(trusted)" in listed.stdout
    revoked = tierline("trust", "--revoke", str(tmp_path))
    assert revoked.returncode == 0
    assert "no trusted workspaces" in tierline("trust", "--list").stdout
    missing = tierline("trust", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


# -- end to end: the real server --------------------------------------------------------------------


async def test_a_hostile_workspace_cannot_redirect_code_or_touch_other_directories(start_editor, simulator, tmp_path):
    victim = hostile_workspace(tmp_path)
    editor = await start_editor(env={"TIERLINE_VICTIM_KEY": SECRET})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    await editor.command("tierline.clearCache")

    assert completion.text and completion.route["model"] != "repo-model"  # the user's models answered
    assert len(completion_requests(simulator)) == 1
    assert stat.S_IMODE(victim.stat().st_mode) == 0o755  # its mode untouched
    assert list(victim.iterdir()) == []  # no cache, no ledger written there
    notices = [m for m in editor.messages if "not trusted" in m]
    assert len(notices) == 1 and "models" in notices[0] and "tierline trust" in notices[0]


async def test_a_trusted_workspace_may_set_its_models(start_editor, simulator, tmp_path):
    hostile_workspace(tmp_path, base_url=simulator.base_url, victim=tmp_path / "own")
    assert tierline("trust", str(tmp_path)).returncode == 0
    editor = await start_editor(env={"TIERLINE_VICTIM_KEY": SECRET})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    assert completion.route["model"] == "repo-model"
    assert not [m for m in editor.messages if "not trusted" in m]


async def test_a_trust_claim_in_initialize_is_ignored_and_never_recorded(start_editor, simulator, tmp_path):
    """Anything that starts the server can claim `workspaceTrusted`: it trusts nothing, and a later
    start without the claim does not find the repository trusted either."""
    hostile_workspace(tmp_path, base_url=simulator.base_url, victim=tmp_path / "own")
    claimed = await start_editor(initialization_options={"workspaceTrusted": True}, env={"TIERLINE_VICTIM_KEY": SECRET})
    uri = open_doc(claimed, tmp_path, "utils.py", SIMPLE_PY)
    first = await claimed.complete(uri, *SIMPLE_CURSOR)
    later = await start_editor(env={"TIERLINE_VICTIM_KEY": SECRET})
    uri = open_doc(later, tmp_path, "utils.py", SIMPLE_PY)
    second = await later.complete(uri, *SIMPLE_CURSOR)

    assert first.route["model"] != "repo-model" and second.route["model"] != "repo-model"
    assert "x" not in [r["model"] for r in completion_requests(simulator)]
    assert "no trusted workspaces" in tierline("trust", "--list").stdout
    assert any("not trusted" in m for m in claimed.messages)


async def test_a_refused_config_never_falls_back_to_the_built_in_registry(start_editor, simulator, tmp_path):
    # Meant for a local model, one typo: the built-in registry (OpenRouter) must not take its place.
    typo = f'[[models]]\nname = "local"\ntier = "cheep"\nbase_url = "{simulator.base_url}"\nmodel = "m"\n'
    editor = await start_editor(config_text=typo, env={"OPENROUTER_API_KEY": SECRET})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    explained = await editor.command("tierline.explain", uri, {"line": 5, "character": 4})
    # New settings from the editor cannot paper over the broken file either.
    await editor.command("tierline.stats")

    editor.settings({"budget": {"daily_usd": 3.0}})
    later = await editor.complete(uri, *SIMPLE_CURSOR)

    assert completion.text is None and completion.route["model"] is None
    assert "refused" in completion.route["reason"]
    assert explained["model"] is None and "models[0].tier" in explained["model_reason"]
    assert later.text is None and later.route["model"] is None
    assert completion_requests(simulator) == []
    assert any("no completions until it is fixed" in m for m in editor.messages)


async def test_a_key_pasted_into_api_key_env_is_refused_without_echoing_it(start_editor, simulator, tmp_path):
    pasted = f"sk-or-v1-{alnum(64, 'pasted').lower()}"
    config = f'[[models]]\nname = "m"\ntier = "cheap"\nbase_url = "{simulator.base_url}"\nmodel = "m"\napi_key_env = "{pasted}"\n'
    editor = await start_editor(config_text=config)
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    await editor.command("tierline.explain", uri, {"line": 5, "character": 4})

    refused = [m for m in editor.messages if "api_key_env" in m]
    assert refused and "looks like an API key" in refused[0]
    assert all(pasted not in m and pasted[:20] not in m for m in editor.messages)
    assert pasted not in editor.log_file.read_text()
    doctor = tierline("doctor", env={"TIERLINE_CONFIG": str(tmp_path / "tierline-0.toml")})
    assert pasted not in doctor.stdout + doctor.stderr


async def test_verbose_logs_carry_no_http_headers_bodies_or_keys(start_editor, simulator, tmp_path):
    editor = await start_editor(
        {
            "models": [
                {
                    "name": "keyed",
                    "tier": "cheap",
                    "base_url": simulator.base_url,
                    "model": "m",
                    "api_key_env": "TIERLINE_K",
                }
            ]
        },
        env={"TIERLINE_K": SECRET},
    )
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    assert completion.text and completion_requests(simulator)[0]["authorization"] is True
    await editor.client.shutdown_session()
    log = editor.log_file.read_text()
    assert "DEBUG" in log  # --verbose really was on
    assert SECRET not in log
    for marker in ("Bearer", "authorization", "httpcore", "send_request_headers", "receive_response_headers"):
        assert marker.lower() not in log.lower(), marker


def test_tierline_only_changes_modes_of_directories_it_creates(tmp_path: Path):
    from tierline.config.paths import private_dir

    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    private_dir(existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755
    created = private_dir(tmp_path / "new" / "dir")
    assert stat.S_IMODE(created.stat().st_mode) == 0o700
    assert os.access(created, os.W_OK)


def test_the_vs_code_extension_declares_limited_support_for_untrusted_workspaces():
    import json

    manifest = json.loads((ROOT / "editors" / "vscode" / "package.json").read_text())
    untrusted = manifest["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    # A cloned workspace's .vscode/settings.json must not choose the command that runs, nor any
    # setting that could spend or send: every one of them but the trace level.
    settings = set(manifest["contributes"]["configuration"]["properties"])
    assert settings - set(untrusted["restrictedConfigurations"]) == {"tierline.trace.server"}
    src = ROOT / "editors" / "vscode" / "src"
    claims = [f.name for f in sorted(src.glob("*.ts")) if "workspaceTrusted" in f.read_text()]
    assert claims == []  # a claim the server ignores; trust runs `tierline trust`
