"""Secret redaction: secrets in the text sent are replaced by stable placeholders, and put back
locally in the answer.

The rules follow the formats providers document (gitleaks' default rule set, MIT, as the reference
for what to cover; the patterns are written here). Every pattern runs on RE2 (`google-re2`), a
regex engine whose time is linear in the input whatever the pattern or the text: no rule can
backtrack, so no window, however crafted, costs more than a scan per rule
(`tests/benchmarks/bench_privacy.py` measures crafted 1 MB inputs). The text is matched as UTF-8
bytes in RE2's Latin-1 mode: every class in the rules is ASCII, so a match never splits a
character, and lone surrogates need no special case. Each rule has literal keywords: a window with
none of them costs a substring search and no regex scan.

A placeholder is ``TIERLINE_SECRET_<8 hex>``: the same secret gives the same placeholder for the
life of the process (a keyed hash with a per-process random key, so the placeholder says nothing
about the secret), which keeps cache keys stable and lets the answer be restored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import math
import re
import secrets
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

PLACEHOLDER_PREFIX = "TIERLINE_SECRET_"
_PLACEHOLDER = re.compile(PLACEHOLDER_PREFIX + r"[0-9a-f]{0,8}")
_PROCESS_KEY = secrets.token_bytes(32)

_OPTIONS = re2.Options()
_OPTIONS.encoding = re2.Options.Encoding.LATIN1
_OPTIONS.log_errors = False


def compile_linear(pattern: bytes) -> Any:
    """A pattern on RE2 (Latin-1 over UTF-8 bytes). RE2 refuses what would need backtracking
    (look-arounds, back-references), which is the point: it raises re2.error on such a pattern."""
    return re2.compile(pattern, _OPTIONS)


@dataclass(frozen=True)
class Rule:
    """A secret format. `pattern` (RE2, over UTF-8 bytes) runs only when one of `keywords` (lower-case
    literals) occurs in the text (no keywords: always) and every one of `requires` does.
    `groups`: the capture groups that may hold the secret, the first that took part is it (0: the
    whole match). `check`: an extra test on the secret (entropy, look-alikes). `context`: must
    occur on the same line as the match."""

    name: str
    source: bytes
    pattern: Any
    keywords: tuple[bytes, ...]
    groups: tuple[int, ...] = (0,)
    check: Callable[[str], bool] | None = None
    context: Any = None
    requires: tuple[bytes, ...] = ()
    trim: bool = False  # the match ends with one consumed boundary character, not part of the secret


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TEMPLATE = re.compile(r"^(?:\$|\{\{|\{%|<|%\(|%s|\*+$|x+$|X+$|\.\.\.|#\{|@@|!vault|!secret|!Ref|!Sub)", re.IGNORECASE)
_IDENTIFIER_PATH = re.compile(r"^[A-Za-z_][A-Za-z_]*(?:[.:/][A-Za-z_][A-Za-z_]*)*$")
_DUMMIES = {
    "password",
    "changeme",
    "secret",
    "example",
    "passw0rd",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
}
# Values a password key holds in code rather than a password: types, literals, calls, references.
_TYPE_WORDS = {"str", "string", "bytes", "int", "bool", "any", "optional", "secretstr", "text", "varchar", "char"}


def _generic_value(value: str) -> bool:
    """A value assigned to a password/secret/token/key name that is worth hiding: long enough,
    random-looking, and not a UUID, a placeholder, a template or an identifier."""
    if len(value) < 8 or _UUID.fullmatch(value) or _TEMPLATE.match(value) or _IDENTIFIER_PATH.match(value):
        return False
    if value.startswith(PLACEHOLDER_PREFIX) or value.lower() in _DUMMIES:
        return False
    has_digit = any(c.isdigit() for c in value)
    return entropy(value) >= (3.0 if has_digit else 3.5)


def _password_value(value: str) -> bool:
    """A password in a URL or a connection string: anything but a template or a placeholder."""
    return (
        bool(value)
        and not _TEMPLATE.match(value)
        and not value.startswith(PLACEHOLDER_PREFIX)
        and value.lower() not in _DUMMIES
    )


def _url_password(value: str) -> bool:
    # "https://host:8080/a@b" has no password: the "password" is a port and a path.
    return _password_value(value) and not re.match(r"\d{1,5}(?:/|$)", value)


def _quoted_password(value: str, *, bare_words: bool = False) -> bool:
    """A quoted literal assigned to a password name: a password unless it is a word, a prompt,
    a template, a path or a dummy (`"Password"`, `"Enter password"`, `"${PW}"`, `"changeme"`).
    With `bare_words`, a word counts (a config file's `password: sunshine` is the password)."""
    if len(value) < 4 or not _password_value(value) or any(c.isspace() for c in value):
        return False
    if not bare_words and value.isalpha() and len(value) < 12:
        return False  # a word ("Password", "hidden"): a label more often than a password
    return not (value[0] in "/~." and "/" in value)  # a path (PWD="/home/x")


def _unquoted_password(value: str, *, config_file: bool = False) -> bool:
    """An unquoted value on a `password: value` / `password=value` line (YAML, INI, .env,
    properties): what a quoted one would be, and never a type name or a YAML anchor/alias/block
    marker. In code it is a password unless it reads as code (a word, a name, a call, an
    attribute, a number); in a config file (`config_file`) a bare word is the password itself, not a
    variable (`password: sunshine`)."""
    if value.lower() in _TYPE_WORDS or value.startswith(("&", "*", "|", ">", "!", "%")):
        return False
    if config_file:
        return _quoted_password(value, bare_words=True)
    if not _quoted_password(value) or value.isdigit() or _IDENTIFIER_PATH.match(value):
        return False  # a word ("hidden"), a number, a name: code more often than a password
    return not any(c in value for c in "()[]{}")


# Files whose `key: value` lines are data, not code (by name; the language may be unknown).
_CONFIG_SUFFIXES = (
    ".yaml", ".yml", ".ini", ".cfg", ".conf", ".cnf", ".properties", ".env", ".toml", ".tfvars", ".netrc",
    ".npmrc", ".pypirc", ".pgpass", ".htpasswd",
)  # fmt: skip


def is_config_file(name: str) -> bool:
    """A file name (no directory) whose assignments are data: config formats and dotenv files."""
    lower = name.rsplit("/", 1)[-1].lower()
    return lower.endswith(_CONFIG_SUFFIXES) or lower.startswith(".env") or lower in {"credentials", "config"}


def _unquoted_generic(value: str) -> bool:
    return any(c.isdigit() for c in value) and _generic_value(value)


def _discord_bot_token(value: str) -> bool:
    """A bot token's first part is the bot's numeric id in base64: that tells it from look-alikes."""
    first = value.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return False
    return 15 <= len(decoded) <= 20 and decoded.isdigit()


def _rule(
    name: str,
    pattern: str,
    keywords: Iterable[str],
    groups: int | tuple[int, ...] = 1,
    **extra: Any,
) -> Rule:
    context = extra.pop("context", None)
    return Rule(
        name,
        pattern.encode("ascii"),
        compile_linear(pattern.encode("ascii")),
        tuple(k.lower().encode("ascii") for k in keywords),
        groups if isinstance(groups, tuple) else (groups,),
        context=compile_linear(context.encode("ascii")) if context else None,
        requires=tuple(k.encode("ascii") for k in extra.pop("requires", ())),
        **extra,
    )


# RE2 has no look-arounds: `\b` bounds a token that starts or ends with a word character, and a
# consumed "anything else or the end" bounds one that may end with '-'.
_END = r"(?:[^A-Za-z0-9_-]|\z)"
_Q = "[\"'`]"  # a quote
_ASSIGN = r"\s{0,5}(?::=|=>|[:=])\s{0,5}"
_KEYWORD_NAME = (
    r"(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credentials?)"
)
_KEYWORD_STARTS = ("passw", "pwd", "secret", "token", "api", "access", "auth", "private", "client", "credential")
_PASSWORD_NAME = r"(?:passw(?:or)?d|passwd|pwd|passphrase)"
_PASSWORD_STARTS = ("passw", "pwd", "passphrase")
# A private key block to its END line, or to the end of the window when the window cuts it.
_KEY_BODY = r"(?s:.*?)"
_PEM_KEY_BEGIN = r"-----BEGIN[ A-Z0-9_-]{0,60}PRIVATE KEY(?: BLOCK)?-----"
_PEM_KEY_END = r"-----END[ A-Z0-9_-]{0,60}PRIVATE KEY(?: BLOCK)?-----"
_SSH2_KEY_BEGIN = r"---- BEGIN SSH2 [A-Z ]{0,40}PRIVATE KEY ----"
_SSH2_KEY_END = r"---- END SSH2 [A-Z ]{0,40}PRIVATE KEY ----"


def _prefixed(name: str, pattern: str, keywords: Iterable[str], end: bool = True, **extra: Any) -> Rule:
    """A vendor token recognisable by its own prefix, the whole match (no capture group: RE2 then
    finds it with its DFA alone, never the slower submatch engine). `end`: bounded by a character
    that cannot continue it, consumed and trimmed off (for tokens that end in [A-Za-z0-9_-])."""
    if end:
        return _rule(name, r"\b(?:" + pattern + r")" + _END, keywords, 0, trim=True, **extra)
    return _rule(name, r"\b(?:" + pattern + r")", keywords, 0, **extra)


RULES: tuple[Rule, ...] = (
    # -- private keys, every armour --
    _rule(
        "private-key",
        _PEM_KEY_BEGIN + _KEY_BODY + r"(?:" + _PEM_KEY_END + r"|\z)",
        ["-----begin"],
        0,
    ),
    _rule(
        "ssh2-private-key",
        _SSH2_KEY_BEGIN + _KEY_BODY + r"(?:" + _SSH2_KEY_END + r"|\z)",
        ["---- begin ssh2"],
        0,
    ),
    _rule(
        "putty-private-key",
        r"PuTTY-User-Key-File-\d{1,2}:" + _KEY_BODY + r"(?:Private-(?:MAC|Hash):[ \t]*[0-9a-fA-F]{20,128}|\z)",
        ["putty-user-key-file-"],
        0,
    ),
    _rule("age-secret-key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", ["age-secret-key-1"], 0),
    # -- cloud providers --
    _rule(
        "aws-access-key-id",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        ["a3t", "akia", "asia", "abia", "acca"],
        0,
    ),
    _rule(
        "aws-secret-access-key",
        r"(?i)aws[a-z0-9_.-]{0,24}?(?:secret|key)[a-z0-9_.-]{0,24}" + _Q + "?" + _ASSIGN + _Q + r"?"
        r"([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|\z)",
        ["aws"],
    ),
    _prefixed("gcp-api-key", r"AIza[0-9A-Za-z_-]{35}", ["aiza"]),
    _rule("gcp-service-account-key-id", r"\"private_key_id\"\s{0,5}:\s{0,5}\"([0-9a-f]{40})\"", ['"private_key_id"']),
    _prefixed("google-oauth-client-secret", r"GOCSPX-[A-Za-z0-9_-]{28}", ["gocspx-"]),
    _rule(
        "azure-storage-key",
        r"(?i)(?:AccountKey|SharedAccessKey)\s{0,5}=\s{0,5}([A-Za-z0-9+/]{40,100}={0,2})",
        ["accountkey", "sharedaccesskey"],
    ),
    _rule(
        "azure-ad-client-secret",
        r"(?:^|[^A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|\z)",
        ["q~"],
    ),
    _prefixed("alibaba-access-key-id", r"LTAI[A-Za-z0-9]{20}", ["ltai"]),
    _prefixed("digitalocean-token", r"do[opr]_v1_[a-f0-9]{64}", ["dop_v1_", "doo_v1_", "dor_v1_"]),
    _rule(
        "heroku-api-key",
        r"(?i)heroku[a-z0-9_ .,-]{0,25}" + _Q + "?" + _ASSIGN + _Q + r"?"
        r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
        ["heroku"],
    ),
    _prefixed("heroku-api-key", r"HRKU-AA[0-9A-Za-z_-]{58}", ["hrku-"]),
    _prefixed("databricks-token", r"dapi[a-f0-9]{32}(?:-\d)?", ["dapi"]),
    _prefixed("cloudflare-origin-ca-key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}", ["v1.0-"]),
    _prefixed("vault-token", r"hv[sb]\.[A-Za-z0-9_-]{90,120}", ["hvs.", "hvb."]),
    _prefixed("terraform-cloud-token", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}", [".atlasv1."], end=False),
    _prefixed("doppler-token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}", ["dp."]),
    _prefixed("pulumi-token", r"pul-[a-f0-9]{40}", ["pul-"]),
    _prefixed("planetscale-token", r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}", ["pscale_"], end=False),
    _prefixed("supabase-token", r"sbp_[a-f0-9]{40}", ["sbp_"]),
    _prefixed("flyio-token", r"fo1_[A-Za-z0-9_-]{43}", ["fo1_"]),
    # -- code hosting, packages, CI --
    _rule("github-token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], 0),
    _rule("github-fine-grained-pat", r"\bgithub_pat_[A-Za-z0-9_]{82}\b", ["github_pat_"], 0),
    _rule(
        "gitlab-token",
        r"\b(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|glsoat)-[A-Za-z0-9_.-]{20,}",
        ["glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-", "glsoat-"],
        0,
    ),
    _prefixed("atlassian-api-token", r"ATATT3[A-Za-z0-9_=-]{186}", ["atatt3"], end=False),
    _rule("huggingface-token", r"\b(?:hf_|api_org_)[A-Za-z]{34}\b", ["hf_", "api_org_"], 0),
    _rule("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", ["npm_"], 0),
    _rule("pypi-token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", ["pypi-AgEIcHlwaS5vcmc"], 0),
    _prefixed("rubygems-token", r"rubygems_[a-f0-9]{48}", ["rubygems_"]),
    _prefixed("docker-hub-token", r"dckr_pat_[A-Za-z0-9_-]{27}", ["dckr_pat_"]),
    _prefixed("postman-api-token", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", ["pmak-"]),
    _prefixed("linear-api-key", r"lin_api_[A-Za-z0-9]{40}", ["lin_api_"]),
    _prefixed("sentry-token", r"sntry[su]_[A-Za-z0-9+/=_]{40,200}", ["sntrys_", "sntryu_"], end=False),
    # -- observability --
    _rule(
        "datadog-key",
        r"(?i)(?:datadog|\bdd)[a-z0-9_.-]{0,20}?(?:api|app(?:lication)?)[a-z0-9_.-]{0,16}"
        + _Q
        + "?"
        + _ASSIGN
        + _Q
        + r"?"
        r"([a-f0-9]{40}|[a-f0-9]{32})\b",
        ["datadog", "dd"],
    ),
    _prefixed("dynatrace-token", r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}", ["dt0c01."]),
    _prefixed(
        "grafana-token",
        r"(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})",
        ["glc_", "glsa_"],
        end=False,
    ),
    _prefixed("newrelic-key", r"NR(?:AK|AA|II)-[A-Za-z0-9]{27}", ["nrak-", "nraa-", "nrii-"]),
    # -- messaging, payments, e-mail --
    _rule("slack-token", r"\bxox[abposr]-(?:\d+-)?[0-9A-Za-z-]{10,}", ["xox"], 0),
    _rule("slack-config-token", r"\bxoxe(?:\.xox[bp])?-\d-[A-Z0-9]{100,}", ["xoxe"], 0),
    _rule(
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}",
        ["hooks.slack.com"],
        0,
    ),
    _prefixed(
        "discord-bot-token",
        r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}",
        [],
        check=_discord_bot_token,
    ),
    _rule("discord-webhook", r"discord(?:app)?\.com/api/webhooks/\d{5,30}/[A-Za-z0-9_-]{60,80}", ["discord"], 0),
    _prefixed("telegram-bot-token", r"\d{8,10}:AA[A-Za-z0-9_-]{33}", [":aa"]),
    _prefixed("twilio-api-key", r"SK[0-9a-fA-F]{32}", ["sk"]),
    _prefixed("sendgrid-api-key", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", ["sg."]),
    _prefixed("mailchimp-api-key", r"[0-9a-f]{32}-us\d{1,2}", ["-us"]),
    _prefixed("shopify-token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", ["shpat_", "shpca_", "shppa_", "shpss_"]),
    _prefixed(
        "square-token",
        r"(?:EAAA[A-Za-z0-9_-]{60}|sq0(?:atp-[A-Za-z0-9_-]{22}|csp-[A-Za-z0-9_-]{43}))",
        ["eaaa", "sq0atp-", "sq0csp-"],
    ),
    _rule("stripe-key", r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}\b", ["sk_", "rk_"], 0),
    # -- model providers --
    _rule("anthropic-key", r"\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,120}", ["sk-ant-"], 0),
    _rule("openrouter-key", r"\bsk-or-v1-[0-9a-f]{64}", ["sk-or-"], 0),
    _rule(
        "openai-key",
        r"\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"
        r"|[A-Za-z0-9]{40,64})" + _END,
        ["sk-"],
        0,
        trim=True,
    ),
    _prefixed("deepseek-key", r"sk-[a-f0-9]{32}", ["sk-"]),
    _prefixed("groq-api-key", r"gsk_[A-Za-z0-9]{52}", ["gsk_"]),
    _prefixed("xai-api-key", r"xai-[A-Za-z0-9]{80}", ["xai-"]),
    _prefixed("perplexity-api-key", r"pplx-[A-Za-z0-9]{48}", ["pplx-"]),
    _prefixed("replicate-token", r"r8_[A-Za-z0-9]{37}", ["r8_"]),
    # -- web tokens --
    _rule("jwt", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}={0,2}", ["eyj"], 0),
    _rule(
        "authorization-header",
        r"(?i)\bauthorization"
        + _Q
        + r"?\s{0,5}[:=]\s{0,5}"
        + _Q
        + r"?(?:bearer|basic|token)[ \t]{1,5}([A-Za-z0-9._~+/=-]{16,500})",
        ["authorization"],
        check=lambda v: entropy(v) >= 3.0,
    ),
    # -- passwords --
    _rule(
        # The password may hold '/', '@' and ':' (written raw, not percent-encoded): it runs to the
        # last '@' that a host follows.
        "url-password",
        r"\b[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@'\"`]{0,100}:([^\s'\"`]{1,300})@[^\s@/'\"`?#]{1,255}",
        ["://"],
        check=_url_password,
    ),
    _rule(
        # ADO.NET / ODBC (`Server=...;Password=...;`) and libpq (`host=... password=...`) strings.
        "connection-string-password",
        r"(?i)\b(?:password|pwd)[ \t]{0,5}=[ \t]{0,5}(?:'((?:[^'\\\n]|\\.){1,200})'|([^\s'\";]{1,200}))",
        ["password", "pwd"],
        (1, 2),
        check=_password_value,
        context=r"(?i)\b(?:server|host|hostaddr|dbname|data source|user id|uid|user|database|port|sslmode|accountname)[ \t]*=",
    ),
    _rule(
        # .netrc: `machine HOST login USER password SECRET`, on one line or one token a line.
        "netrc-password",
        r"(?im)(?:\bmachine[ \t]+\S{1,200}(?:[ \t]+(?:login|account)[ \t]+\S{1,200}){0,2}[ \t]+|^[ \t]*)"
        r"password[ \t]+(\S{1,200})[ \t]*(?:\n|\z)",
        ["password"],
        check=_password_value,
        requires=["machine"],
    ),
    _rule(
        "password-assignment",
        r"(?i)" + _PASSWORD_NAME + r"[a-z0-9_.-]{0,24}" + _Q + r"?\s{0,5}(?::=|=>|==|!=|[:=])\s{0,5}[bru]?"
        r"(?:\"([^\"\s]{4,200})\"|'([^'\s]{4,200})'|`([^`\s]{4,200})`)",
        _PASSWORD_STARTS,
        (1, 2, 3),
        check=_quoted_password,
    ),
    _rule(
        # YAML, INI, .env, properties: `password: s3cr3t!` alone on its line (a comment may follow).
        "password-assignment-unquoted",
        r"(?im)^[ \t]*(?:export[ \t]+|- )?[\"']?[a-z0-9_.-]{0,40}" + _PASSWORD_NAME + r"[a-z0-9_.-]{0,24}[\"']?"
        r"[ \t]*[:=][ \t]*([^\s'\"`#;,][^\s'\"`;]{2,200})[ \t]*(?:[#;][^\n]*)?$",
        _PASSWORD_STARTS,
        check=_unquoted_password,
    ),
    _rule(
        # Terraform: `variable "db_password" { default = "..." }`.
        "terraform-variable-default",
        r"(?i)variable[ \t]+\"[^\"\n]{0,64}(?:passw(?:or)?d|secret|token|api_?key|private_?key)[^\"\n]{0,64}\"[ \t]*\{"
        r"[^}]{0,600}?\bdefault[ \t]*=[ \t]*\"([^\"\n]{1,200})\"",
        ["variable"],
        check=_password_value,
    ),
    # -- names that say "secret" --
    _rule(
        "generic-assignment",
        r"(?i)" + _KEYWORD_NAME + r"[a-z0-9_.-]{0,24}" + _Q + r"?\s{0,5}(?::=|=>|==|[:=])\s{0,5}[bru]?"
        r"(?:\"([^\"'`\s]{8,200})\"|'([^\"'`\s]{8,200})'|`([^\"'`\s]{8,200})`)",
        _KEYWORD_STARTS,
        (1, 2, 3),
        check=_generic_value,
    ),
    _rule(
        "generic-assignment-unquoted",
        r"(?i)" + _KEYWORD_NAME + r"[a-z0-9_.-]{0,24}\s{0,5}[:=]\s{0,5}([A-Za-z0-9+/_-]{20,200}={0,2})"
        r"(?:[^A-Za-z0-9+/_=(\[.-]|\z)",
        _KEYWORD_STARTS,
        check=_unquoted_generic,
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


_WORD_DASH = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
Span = tuple[int, int, str]  # byte offsets in the UTF-8 text, and the rule


class _Keywords:
    """Which of many literals occur in a text, in one RE2 pass (a substring search per keyword
    would cost a scan each: ~150 scans of a 1 MB window)."""

    def __init__(self, words: Iterable[bytes]):
        self.words = sorted(set(words))
        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1
        options.case_sensitive = False
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        for word in self.words:
            self._set.Add(re2.escape(word))
        self._set.Compile()

    def present(self, data: bytes) -> frozenset[bytes]:
        return frozenset(self.words[i] for i in self._set.Match(data) or ())


def _rule_spans(rule: Rule, data: bytes, present: frozenset[bytes], spans: list[Span]) -> None:
    if rule.keywords and present.isdisjoint(rule.keywords):
        return
    if any(k not in present for k in rule.requires):
        return
    # Matches come in order, so the line of each is found by scanning forward only (a long line
    # with many matches costs its length once, not once per match).
    line_start, scanned = 0, 0
    line_ok: dict[int, bool] = {}
    for match in rule.pattern.finditer(data):
        start, end = -1, -1
        for group in rule.groups:
            start, end = match.span(group)
            if start >= 0:
                break
        if rule.trim and data[end - 1] not in _WORD_DASH:
            end -= 1
        if start < 0 or end <= start:
            continue
        if rule.check is not None:
            try:
                value = data[start:end].decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                continue
            if not rule.check(value):
                continue
        if rule.context is not None:
            newline = data.rfind(b"\n", scanned, start)
            if newline >= 0:
                line_start = newline + 1
            scanned = start
            if line_start not in line_ok:
                line_end = data.find(b"\n", start)
                line_ok[line_start] = (
                    rule.context.search(data, line_start, len(data) if line_end < 0 else line_end) is not None
                )
            if not line_ok[line_start]:
                continue
        spans.append((start, end, rule.name))


_KEY_END = compile_linear(f"{_PEM_KEY_END}|{_SSH2_KEY_END}".encode())
# A key's own header, as the block rules read it: any other "-----BEGIN" (a certificate's, a
# stray one) before the end line does not make the key whole, and the block rules would not see it.
_KEY_BEGIN = compile_linear(f"{_PEM_KEY_BEGIN}|{_SSH2_KEY_BEGIN}".encode())


def _cut_key_spans(data: bytes, present: frozenset[bytes], spans: list[Span]) -> None:
    """A key block cut by the window: its end without its start (the start is before the window)."""
    if b"-----end" not in present and b"---- end ssh2" not in present:
        return
    end = _KEY_END.search(data)
    if end is not None and _KEY_BEGIN.search(data, 0, end.start()) is None:
        spans.append((0, end.end(), "private-key"))


_K8S_KIND = compile_linear(rb"(?im)^[ \t]*[\"']?kind[\"']?[ \t]*:[ \t]*[\"']?Secret[\"']?[ \t]*,?[ \t]*\r?$")
_K8S_DATA = compile_linear(rb"(?m)^([ \t]{0,16})(?:data|stringData):[ \t]*\r?$")
_K8S_ENTRY = compile_linear(
    rb"(?m)^[ \t]+[\"']?[A-Za-z0-9_.-]{1,253}[\"']?[ \t]*:[ \t]*[\"']?([^\s\"'#|>][^\s\"']*)[\"']?[ \t]*\r?$"
)
_K8S_BLOCKS: dict[int, Any] = {}


def _k8s_block(indent: int) -> Any:
    """The lines of a block under a key indented `indent`: blank, or indented further."""
    if indent not in _K8S_BLOCKS:
        _K8S_BLOCKS[indent] = compile_linear(rb"(?:[ \t]*\r?\n|[ \t]{%d}[ \t]+[^\n]*(?:\n|\z))*" % indent)
    return _K8S_BLOCKS[indent]


def _kubernetes_secret_spans(data: bytes, present: frozenset[bytes], spans: list[Span]) -> None:
    """The values under `data:` / `stringData:` of a Kubernetes Secret (base64 or plain): every one
    is a secret, whatever its key is called. Each block is read once, by two RE2 scans."""
    if b"secret" not in present or b"kind" not in present or _K8S_KIND.search(data) is None:
        return
    walked = 0
    for block in _K8S_DATA.finditer(data):
        if block.start() < walked:
            continue  # a "data:" key inside a block already read
        start = block.end() + 1
        body = _k8s_block(len(block.group(1))).match(data, start)
        walked = body.end() if body is not None else start
        for entry in _K8S_ENTRY.finditer(data, start, walked):
            if _password_value(entry.group(1).decode("utf-8", "surrogatepass")):
                spans.append((entry.start(1), entry.end(1), "kubernetes-secret"))


# Two or more string literals joined by whitespace, '+' or a line break (Python's and C's implicit
# concatenation, JavaScript's '+'): a token split over them is found in their joined text.
_SPLIT_RUN = compile_linear(
    rb"(?:\"[^\"\\\n]{1,200}\"|'[^'\\\n]{1,200}')(?:[ \t]{0,8}\+?[ \t]{0,8}(?:\\?\r?\n[ \t]{0,80}\+?[ \t]{0,8})?"
    rb"(?:\"[^\"\\\n]{1,200}\"|'[^'\\\n]{1,200}'))+"
)
_LITERAL = re.compile(rb"\"([^\"\\\n]*)\"|'([^'\\\n]*)'")
_TOKEN_BYTE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/=.-~")


def _split_literal_spans(data: bytes, spans: list[Span]) -> None:
    """Secrets split over adjacent literals: each piece of one becomes a secret of its own (so the
    answer restores each), found by running the rules on the joined pieces. Only joins where a
    token runs on both sides are looked at, in a bounded window, so a run costs a bounded time."""
    if b'"' not in data and b"'" not in data:
        return
    for run in _SPLIT_RUN.finditer(data):
        pieces = [
            (m.start(1) if m.start(1) >= 0 else m.start(2), m.end(1) if m.start(1) >= 0 else m.end(2))
            for m in _LITERAL.finditer(data, run.start(), run.end())
        ]
        joins = [
            i
            for i in range(len(pieces) - 1)
            if pieces[i][1] > pieces[i][0]
            and pieces[i + 1][1] > pieces[i + 1][0]
            and data[pieces[i][1] - 1] in _TOKEN_BYTE
            and data[pieces[i + 1][0]] in _TOKEN_BYTE
        ]
        if not joins:
            continue
        joined = b"".join(data[a:b] for a, b in pieces)
        offsets, total = [], 0
        for a, b in pieces:
            offsets.append(total)
            total += b - a
        # The name assigned before the run (`TOKEN = (`), for the rules that need it.
        line_start = data.rfind(b"\n", max(0, run.start() - 120), run.start()) + 1
        lead = data[max(line_start, run.start() - 120) : run.start()].rstrip(b" \t(")
        text = lead + b' "' + joined + b'"'
        base = len(lead) + 2
        found: list[Span] = []
        present = _KEYWORDS.present(text)
        for rule in RULES:
            _rule_spans(rule, text, present, found)
        for start, end, _ in found:
            start, end = start - base, end - base
            covered = [i for i, (a, b) in enumerate(pieces) if offsets[i] < end and offsets[i] + (b - a) > start]
            if len(covered) < 2:
                continue  # inside one literal: the plain pass finds it
            for i in covered:
                a, b = pieces[i]
                spans.append((a + max(0, start - offsets[i]), a + min(b - a, end - offsets[i]), "split-literal"))


# Only in config files (`is_config_file`): there a one-word value on a password line is the password.
CONFIG_RULES = (
    _rule(
        "password-assignment-config",
        r"(?im)^[ \t]*(?:export[ \t]+|- )?[\"']?[a-z0-9_.-]{0,40}" + _PASSWORD_NAME + r"[a-z0-9_.-]{0,24}[\"']?"
        r"[ \t]*[:=][ \t]*([^\s'\"`#;,][^\s'\"`;]{2,200})[ \t]*(?:[#;][^\n]*)?$",
        _PASSWORD_STARTS,
        check=functools.partial(_unquoted_password, config_file=True),
    ),
)

_KEYWORDS = _Keywords(
    [k for rule in RULES + CONFIG_RULES for k in rule.keywords + rule.requires]
    + [b"-----end", b"---- end ssh2", b"secret", b"kind"]
)


def _spans(data: bytes, config_file: bool = False) -> list[Span]:
    present = _KEYWORDS.present(data)
    spans: list[Span] = []
    for rule in RULES + CONFIG_RULES if config_file else RULES:
        _rule_spans(rule, data, present, spans)
    _cut_key_spans(data, present, spans)
    _kubernetes_secret_spans(data, present, spans)
    _split_literal_spans(data, spans)
    return spans


# A window this large is redacted in a worker thread first (`redact_ahead`), so that it never holds
# the event loop; the default window (4,000 characters) is redacted inline, in well under a millisecond.
OFF_LOOP_CHARS = 16_384
_AHEAD: OrderedDict[tuple[bool, str], tuple[str, Redaction]] = OrderedDict()  # redacted off the loop
_AHEAD_MAX = 4


async def redact_ahead(texts: Iterable[str], *, config_file: bool = False) -> None:
    """Redact the large texts among `texts` in a worker thread; the `redact_text` call that follows
    for each finds it done. Meanwhile the event loop serves other requests and edits (RE2 matches
    without holding the GIL; the Python parts between share it)."""
    for text in texts:
        if len(text) >= OFF_LOOP_CHARS and (config_file, text) not in _AHEAD:
            _AHEAD[config_file, text] = await asyncio.to_thread(_redact, text, Redaction(), config_file)
            while len(_AHEAD) > _AHEAD_MAX:
                _AHEAD.popitem(last=False)


def redact_text(text: str, into: Redaction | None = None, *, config_file: bool = False) -> tuple[str, Redaction]:
    """`text` with every secret replaced by its placeholder; overlapping finds keep the first, widest.
    ``config_file``: the text is a config file's (`is_config_file`), where bare words are data."""
    redaction = into if into is not None else Redaction()
    ahead = _AHEAD.pop((config_file, text), None) if len(text) >= OFF_LOOP_CHARS else None
    if ahead is not None:
        redacted, found = ahead
        redaction.merge(found)
        return redacted, redaction
    return _redact(text, redaction, config_file)


def _redact(text: str, redaction: Redaction, config_file: bool = False) -> tuple[str, Redaction]:
    data = text.encode("utf-8", "surrogatepass")
    spans = _spans(data, config_file)
    if not spans:
        return text, redaction
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[bytes] = []
    cursor = 0
    for start, end, rule in spans:
        if start < cursor:
            continue  # inside a secret already hidden
        secret = data[start:end].decode("utf-8", "surrogatepass")
        mark = placeholder(secret)
        redaction.secrets[mark] = secret
        redaction.count += 1
        redaction.rules[rule] += 1
        out.append(data[cursor:start])
        out.append(mark.encode("ascii"))
        cursor = end
    out.append(data[cursor:])
    return b"".join(out).decode("utf-8", "surrogatepass"), redaction


def looks_like_secret(value: str) -> bool:
    """For config values that should be names (api_key_env): a known key format, or a long random token."""
    if redact_text(value)[1].count:
        return True
    return len(value) >= 24 and entropy(value) >= 3.5 and any(c.isdigit() for c in value) and value.upper() != value


def rule_names(rules: Mapping[str, int]) -> str:
    return ", ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(rules.items()))
