"""Config layers as a user writes them: a user file named by TIERLINE_CONFIG."""

from __future__ import annotations

from pathlib import Path

from tierline.config.toml_writer import toml_text


def user_env(tmp_path: Path, user: dict) -> dict[str, str]:
    (tmp_path / "user.toml").write_text(toml_text(user))
    return {"TIERLINE_CONFIG": str(tmp_path / "user.toml"), "XDG_STATE_HOME": str(tmp_path / "state")}
