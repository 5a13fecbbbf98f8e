"""API keys from the environment variables the config names; a missing one is said once per model."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from tierline.config import ModelSpec


class MissingKey:
    """The model needs a key whose variable is unset."""


MISSING = MissingKey()


class KeyRing:
    def __init__(
        self, env: Mapping[str, str] = os.environ, notify: Callable[[str, str], None] = lambda level, text: None
    ):
        self.env = env
        self._notify = notify
        self._warned: set[str] = set()

    def key_for(self, model: ModelSpec, *, quiet: bool = False) -> str | None | MissingKey:
        """The API key, None when the model needs none, MISSING when its variable is unset."""
        if not model.api_key_env:
            return None
        key = self.env.get(model.api_key_env)
        if key:
            return key
        if not quiet and model.name not in self._warned:
            self._warned.add(model.name)
            self._notify(
                "warning",
                f"tierline: model {model.name!r} is skipped: environment variable {model.api_key_env} is not set.",
            )
        return MISSING
