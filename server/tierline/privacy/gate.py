"""The privacy gate the pipeline asks: is this document excluded, and what does its prompt look like
with the secrets hidden."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from tierline.privacy.exclusion import Exclusions, Warn
from tierline.privacy.redaction import Redaction, is_config_file, redact_text
from tierline.prompt.window import PromptWindow


class PrivacyConfig(Protocol):
    """The `[privacy]` settings the gate reads (`config/model.py:PrivacyConfig` is one): privacy
    sits below config, which asks it whether a value looks like a key."""

    @property
    def exclude(self) -> tuple[str, ...]: ...

    @property
    def redact(self) -> bool: ...


class PrivacyGate:
    def __init__(self, config: PrivacyConfig, workspace_root: Path | None = None):
        self.config = config
        self.exclusions = Exclusions(config.exclude, workspace_root)

    def reconfigure(self, config: PrivacyConfig) -> None:
        if config != self.config:
            self.config = config
            old = self.exclusions
            self.exclusions = Exclusions(config.exclude, old.root, old.folders, old.warn)

    def set_workspace(self, folders: Sequence[Path], warn: Warn | None = None) -> None:
        """The editor's workspace folders (each one's ignore files apply under it), and how to tell
        the user about an ignore file that cannot be used."""
        old = self.exclusions
        self.exclusions = Exclusions(self.config.exclude, old.root, folders, warn or old.warn)

    def excluded(self, uri: str) -> str | None:
        """Why nothing of this document may leave the machine, or None."""
        return self.exclusions.reason(uri)

    def redact(self, window: PromptWindow) -> tuple[PromptWindow, Redaction]:
        """The window with secrets replaced (both sides of the cursor), and what was replaced."""
        redaction = Redaction()
        if not self.config.redact:
            return window, redaction
        config_file = is_config_file(window.filename)
        prefix, _ = redact_text(window.prefix, redaction, config_file=config_file)
        suffix, _ = redact_text(window.suffix, redaction, config_file=config_file)
        filename, _ = redact_text(window.filename, redaction)
        if not redaction.count:
            return window, redaction
        return dataclasses.replace(window, prefix=prefix, suffix=suffix, filename=filename), redaction
