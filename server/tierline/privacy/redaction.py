"""Secret redaction: secrets in the text sent are replaced by stable placeholders, and put back
locally in the answer.

The rules follow the formats providers document (and gitleaks' rule set, MIT, as a reference):
each has a cheap literal pre-check so that a window with none of its keywords costs one substring
search, and the regex runs only where it could match. A placeholder is
``TIERLINE_SECRET_<8 hex>``: the same secret gives the same placeholder for the life of the
process (a keyed hash with a per-process random key, so the placeholder says nothing about the
secret), which keeps cache keys stable and lets the answer be restored.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER_PREFIX = "TIERLINE_SECRET_"
_PLACEHOLDER = re.compile(PLACEHOLDER_PREFIX + r"[0-9a-f]{0,8}")
_PROCESS_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class Rule:
    """A secret format, found where one of its `keywords` (lower-case literals) occurs: `pattern`
    is matched there (`back` characters earlier when the secret starts before its keyword), so a
    window without the keywords costs a few substring searches and no regex scan.
    `group`: the capture group that is the secret (0: the whole match). `check`: an extra test on
    the secret (entropy, look-alikes). `context`: must occur on the line before the match."""

    name: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]
    group: int = 0
    check: Callable[[str], bool] | None = None
    back: int = 0
    context: re.Pattern[str] | None = None


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TEMPLATE = re.compile(r"^(?:\$|\{\{|<|%\(|%s|\*+$|x+$|\.\.\.)", re.IGNORECASE)
_IDENTIFIER_PATH = re.compile(r"^[A-Za-z_][A-Za-z_]*(?:[.:/][A-Za-z_][A-Za-z_]*)*$")


def _generic_value(value: str) -> bool:
    """A value assigned to a password/secret/token/key name that is worth hiding: long enough,
    random-looking, and not a UUID, a placeholder, a template or an identifier."""
    if len(value) < 8 or _UUID.fullmatch(value) or _TEMPLATE.match(value) or _IDENTIFIER_PATH.match(value):
        return False
    if value.startswith(PLACEHOLDER_PREFIX) or value.lower() in {"password", "changeme", "secret", "example"}:
        return False
    has_digit = any(c.isdigit() for c in value)
    return entropy(value) >= (3.0 if has_digit else 3.5)


def _password_value(value: str) -> bool:
    return bool(value) and not _TEMPLATE.match(value) and not value.startswith(PLACEHOLDER_PREFIX)


def _rule(name: str, pattern: str, keywords: Iterable[str], group: int = 0, **extra: Any) -> Rule:
    return Rule(name, re.compile(pattern, extra.pop("flags", 0)), tuple(k.lower() for k in keywords), group, **extra)


_B = r"(?<![A-Za-z0-9_])"  # a token boundary before
_E = r"(?![A-Za-z0-9_])"  # and after
_E_DASH = r"(?![A-Za-z0-9_\-])"

_KEYWORD_NAME = (
    r"(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credentials?)"
)
_KEYWORD_STARTS = ("passw", "pwd", "secret", "token", "api", "access", "auth", "private", "client", "credential")

RULES: tuple[Rule, ...] = (
    _rule(
        "private-key",
        r"-----BEGIN[ A-Z0-9_-]{0,60}PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END[ A-Z0-9_-]{0,60}PRIVATE KEY"
        r"(?: BLOCK)?-----|.*\Z)",
        ["-----begin"],
        flags=re.DOTALL,
    ),
    _rule(
        "aws-access-key-id",
        _B + r"((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})" + _E,
        ["a3t", "akia", "asia", "abia", "acca"],
        1,
    ),
    _rule(
        "aws-secret-access-key",
        r"(?i)aws[A-Za-z0-9_.\-]{0,24}?(?:secret|key)[A-Za-z0-9_.\-]{0,24}[\"'`]?\s*(?::=|=>|[:=])\s*[\"'`]?"
        r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
        ["aws"],
        1,
    ),
    _rule("gcp-api-key", _B + r"(AIza[0-9A-Za-z_\-]{35})" + _E_DASH, ["aiza"], 1),
    _rule("gcp-service-account-key-id", r"\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\"", ['"private_key_id"'], 1),
    _rule("google-oauth-client-secret", _B + r"(GOCSPX-[A-Za-z0-9_\-]{28})" + _E_DASH, ["gocspx-"], 1),
    _rule(
        "azure-storage-key",
        r"(?i)(?:AccountKey|SharedAccessKey)\s*=\s*([A-Za-z0-9+/]{40,100}={0,2})",
        ["accountkey", "sharedaccesskey"],
        1,
    ),
    _rule(
        "azure-ad-client-secret",
        _B + r"([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?![A-Za-z0-9_~.\-])",
        ["q~"],
        1,
        back=4,
    ),
    _rule("github-token", _B + r"(gh[pousr]_[A-Za-z0-9]{36,255})" + _E, ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], 1),
    _rule("github-fine-grained-pat", _B + r"(github_pat_[A-Za-z0-9_]{82})" + _E, ["github_pat_"], 1),
    _rule(
        "gitlab-token",
        _B + r"((?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|glsoat)-[A-Za-z0-9_\-.]{20,})",
        ["glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-", "glsoat-"],
        1,
    ),
    _rule("slack-token", _B + r"(xox[abposr]-(?:\d+-)?[0-9A-Za-z\-]{10,})", ["xox"], 1),
    _rule("slack-config-token", _B + r"(xoxe(?:\.xox[bp])?-\d-[A-Z0-9]{100,})", ["xoxe"], 1),
    _rule(
        "slack-webhook",
        r"(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,})",
        ["hooks.slack.com"],
        1,
    ),
    _rule("stripe-key", _B + r"((?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99})" + _E, ["sk_", "rk_"], 1),
    _rule("anthropic-key", _B + r"(sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{80,120})", ["sk-ant-"], 1),
    _rule("openrouter-key", _B + r"(sk-or-v1-[0-9a-f]{64})", ["sk-or-"], 1),
    _rule(
        "openai-key",
        _B + r"(sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"
        r"|[A-Za-z0-9]{40,64}))" + _E_DASH,
        ["sk-"],
        1,
    ),
    _rule("huggingface-token", _B + r"((?:hf_|api_org_)[A-Za-z]{34})" + _E, ["hf_", "api_org_"], 1),
    _rule("npm-token", _B + r"(npm_[A-Za-z0-9]{36})" + _E, ["npm_"], 1),
    _rule("pypi-token", r"(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})", ["pypi-AgEIcHlwaS5vcmc"], 1),
    _rule(
        "jwt",
        _B + r"(eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}={0,2})",
        ["eyj"],
        1,
    ),
    _rule(
        "url-password",
        r"://[^\s:/@'\"`]{0,100}:([^\s@/'\"`]{1,200})@[^\s'\"`]",
        ["://"],
        1,
        check=_password_value,
    ),
    _rule(
        "connection-string-password",
        r"(?i)(?:password|pwd)\s*=\s*([^;'\"\s]{1,200})",
        ["password", "pwd"],
        1,
        check=_password_value,
        context=re.compile(r"(?i)(?:server|host|data source|user id|uid|accountname|database)\s*=[^;]*;"),
    ),
    _rule(
        "generic-assignment",
        r"(?i)"
        + _KEYWORD_NAME
        + r"[A-Za-z0-9_.\-]{0,24}[\"'`]?\s*(?::=|=>|==|[:=])\s*[bru]?([\"'`])([^\"'`\s]{8,200})\1",
        _KEYWORD_STARTS,
        2,
        check=_generic_value,
    ),
    _rule(
        "generic-assignment-unquoted",
        r"(?i)" + _KEYWORD_NAME + r"[A-Za-z0-9_.\-]{0,24}\s*[:=]\s*([A-Za-z0-9+/_\-]{20,200}={0,2})"
        r"(?![A-Za-z0-9+/_\-=(\[.])",
        _KEYWORD_STARTS,
        1,
        check=lambda v: any(c.isdigit() for c in v) and _generic_value(v),
    ),
)


def placeholder(secret: str) -> str:
    digest = hmac.new(_PROCESS_KEY, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return PLACEHOLDER_PREFIX + digest[:8]


@dataclass
class Redaction:
    """What was hidden in one request: placeholder -> secret (kept in memory only)."""

    secrets: dict[str, str] = field(default_factory=dict)
    count: int = 0
    rules: Counter[str] = field(default_factory=Counter)

    def restore(self, text: str) -> str | None:
        """The answer with the secrets back; None when it holds a placeholder tierline did not make
        (or a cut-off one): such an answer is dropped rather than shown."""
        if PLACEHOLDER_PREFIX[:9] not in text and not _ends_with_partial_placeholder(text):
            return text
        for mark, secret in self.secrets.items():
            text = text.replace(mark, secret)
        if _PLACEHOLDER.search(text) or _ends_with_partial_placeholder(text):
            return None
        return text

    def hide(self, text: str) -> str:
        """The inverse of restore: the secrets of this request back to their placeholders (for the cache)."""
        for mark, secret in self.secrets.items():
            text = text.replace(secret, mark)
        return text

    def merge(self, other: Redaction) -> None:
        self.secrets.update(other.secrets)
        self.count += other.count
        self.rules.update(other.rules)


def _ends_with_partial_placeholder(text: str) -> bool:
    tail = text[-len(PLACEHOLDER_PREFIX) :]
    return any(tail.endswith(PLACEHOLDER_PREFIX[:n]) for n in range(6, len(PLACEHOLDER_PREFIX)))


def _occurrences(lowered: str, keyword: str) -> Iterator[int]:
    find = lowered.find
    at = find(keyword)
    while at >= 0:
        yield at
        at = find(keyword, at + 1)


def _spans(text: str, lowered: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for rule in RULES:
        tried: set[int] = set()
        for keyword in rule.keywords:
            for at in _occurrences(lowered, keyword):
                at = max(0, at - rule.back)
                if at in tried:
                    continue
                tried.add(at)
                match = rule.pattern.match(text, at)
                if match is None:
                    continue
                start, end = match.span(rule.group)
                if start < 0 or end <= start:
                    continue
                if rule.check is not None and not rule.check(text[start:end]):
                    continue
                if rule.context is not None:
                    line_start = text.rfind("\n", 0, at) + 1
                    if not rule.context.search(text, line_start, at):
                        continue
                spans.append((start, end, rule.name))
    # A key block cut by the window: its end without its start (the start is before the window).
    end_marker = _END_OF_KEY.search(text) if "-----end" in lowered else None
    if end_marker is not None and "-----begin" not in lowered[: end_marker.start()]:
        spans.append((0, end_marker.end(), "private-key"))
    return spans


_END_OF_KEY = re.compile(r"-----END[ A-Z0-9_-]{0,60}PRIVATE KEY(?: BLOCK)?-----")


def redact_text(text: str, into: Redaction | None = None) -> tuple[str, Redaction]:
    """`text` with every secret replaced by its placeholder; overlapping finds keep the first, widest."""
    redaction = into if into is not None else Redaction()
    lowered = text.lower()
    spans = _spans(text, lowered)
    if not spans:
        return text, redaction
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[str] = []
    cursor = 0
    for start, end, rule in spans:
        if start < cursor:
            continue  # inside a secret already hidden
        secret = text[start:end]
        mark = placeholder(secret)
        redaction.secrets[mark] = secret
        redaction.count += 1
        redaction.rules[rule] += 1
        out.append(text[cursor:start])
        out.append(mark)
        cursor = end
    out.append(text[cursor:])
    return "".join(out), redaction


def looks_like_secret(value: str) -> bool:
    """For config values that should be names (api_key_env): a known key format, or a long random token."""
    if redact_text(value)[1].count:
        return True
    return len(value) >= 24 and entropy(value) >= 3.5 and any(c.isdigit() for c in value) and value.upper() != value


def rule_names(rules: Mapping[str, int]) -> str:
    return ", ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(rules.items()))
