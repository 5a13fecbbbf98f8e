"""`tierline score FILE:LINE:COL --show-prompt`: the exact request that would be sent, after redaction."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import config_for, tierline
from tests.helpers.privacy import ALL_SECRETS, SECRETS_CURSOR, SECRETS_PY
from tierline.privacy.redaction import PLACEHOLDER_PREFIX


def test_show_prompt_prints_the_request_with_secrets_replaced(tmp_path: Path):
    source = tmp_path / "storage.py"
    source.write_text(SECRETS_PY)
    line, column = SECRETS_CURSOR[0] + 1, SECRETS_CURSOR[1] + 1
    result = tierline(
        "score", f"{source}:{line}:{column}", "--show-prompt", "--json", env=config_for(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    prompt = json.loads(result.stdout)["prompt"]
    assert prompt["sent"] is True and prompt["url"].startswith("http://127.0.0.1:9/v1/")
    body = json.dumps(prompt["body"])
    assert "def add(a, b):" in body and PLACEHOLDER_PREFIX in body
    assert prompt["redactions"] == 3
    for secret in ALL_SECRETS:
        assert secret not in result.stdout

    text = tierline("score", f"{source}:{line}:{column}", "--show-prompt", env=config_for(tmp_path), cwd=tmp_path)
    assert "3 secret(s) replaced" in text.stdout and "POST http://127.0.0.1:9/v1/" in text.stdout
    assert all(secret not in text.stdout for secret in ALL_SECRETS)


def test_show_prompt_for_an_excluded_file_says_nothing_would_be_sent(tmp_path: Path):
    source = tmp_path / ".env.local"
    source.write_text("API_KEY=abc\n")
    result = tierline("score", f"{source}:1:1", "--show-prompt", env=config_for(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nothing would be sent" in result.stdout and "built-in exclude" in result.stdout
    assert "POST" not in result.stdout
