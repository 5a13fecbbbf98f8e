"""Privacy: what never leaves the machine. `exclusion` decides which files are never sent
(built-in excludes, `[privacy] exclude`, gitignore-syntax ignore files); `redaction` replaces
secrets in the prompt windows by stable placeholders and restores them in the answer; `gate`
puts both behind one object the pipeline asks."""

from tierline.privacy.exclusion import BUILTIN_EXCLUDES, IGNORE_FILES, Exclusions
from tierline.privacy.gate import PrivacyGate
from tierline.privacy.redaction import RULES, Redaction, looks_like_secret, redact_text

__all__ = [
    "BUILTIN_EXCLUDES",
    "IGNORE_FILES",
    "RULES",
    "Exclusions",
    "PrivacyGate",
    "Redaction",
    "looks_like_secret",
    "redact_text",
]
