"""Every redaction rule on a sample in the real format, and look-alikes that must stay as they are.

Samples are assembled from parts so that no complete credential-shaped literal sits in the source.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from tierline.privacy.redaction import PLACEHOLDER_PREFIX, RULES, Redaction, looks_like_secret, redact_text


def alnum(n: int, seed: str = "x") -> str:
    """n random-looking [A-Za-z0-9] characters, deterministic."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    out, counter = [], 0
    while len(out) < n:
        digest = hashlib.sha256(f"{seed}{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:n])


def upper32(n: int, seed: str = "u") -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digest = b"".join(hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(n // 32 + 1))
    return "".join(alphabet[b % 32] for b in digest)[:n]


def hexs(n: int, seed: str = "h") -> str:
    return (hashlib.sha256(seed.encode()).hexdigest() * 4)[:n]


def letters(n: int, seed: str = "l") -> str:
    return "".join(c for c in alnum(n * 3, seed) if c.isalpha())[:n]


PEM_BODY = "\n".join(alnum(64, f"pem{i}") for i in range(6))

# (rule, text, the secret that must disappear)
SAMPLES: list[tuple[str, str, str]] = [
    ("aws-access-key-id", f'key_id = "{"AK" + "IA" + upper32(16)}"', "AK" + "IA" + upper32(16)),
    ("aws-access-key-id", f"ASIA{upper32(16, 's')}", "ASIA" + upper32(16, "s")),
    (
        "aws-secret-access-key",
        f'aws_secret_access_key = "{alnum(20)}/{alnum(19, "b")}"',
        f"{alnum(20)}/{alnum(19, 'b')}",
    ),
    ("aws-secret-access-key", f"AWS_SECRET_ACCESS_KEY={alnum(40, 'env')}", alnum(40, "env")),
    ("gcp-api-key", f'const key = "AI{"za"}Sy{alnum(33, "g")}";', f"AIzaSy{alnum(33, 'g')}"),
    ("gcp-service-account-key-id", f'"private_key_id": "{hexs(40)}",', hexs(40)),
    (
        "private-key",
        f'"private_key": "-----BEGIN PRIVATE KEY-----\\n{alnum(64)}\\n{alnum(64, "q")}\\n-----END PRIVATE KEY-----\\n",',
        alnum(64),
    ),
    ("google-oauth-client-secret", f"client = 'GOC{'SPX'}-{alnum(28, 'o')}'", f"GOCSPX-{alnum(28, 'o')}"),
    (
        "azure-storage-key",
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={alnum(86, 'az')}==;EndpointSuffix=core.windows.net",
        alnum(86, "az"),
    ),
    ("azure-ad-client-secret", f'secret = "{alnum(3, "ad")}8Q~{alnum(34, "ad2")}"', f"8Q~{alnum(34, 'ad2')}"),
    ("github-token", f"token: gh{'p'}_{alnum(36, 'gh')}", f"ghp_{alnum(36, 'gh')}"),
    ("github-token", f"GH_TOKEN=gh{'s'}_{alnum(36, 'ghs')}", f"ghs_{alnum(36, 'ghs')}"),
    ("github-fine-grained-pat", f"github{'_pat'}_{alnum(82, 'fg')}", f"github_pat_{alnum(82, 'fg')}"),
    ("gitlab-token", f"gl{'pat'}-{alnum(20, 'gl')}", f"glpat-{alnum(20, 'gl')}"),
    ("slack-token", f"xox{'b'}-{'1' * 11}-{'2' * 12}-{alnum(24, 'sl')}", alnum(24, "sl")),
    ("slack-config-token", f"xox{'e'}.xoxp-1-{upper32(120, 'cfg')}", upper32(120, "cfg")),
    (
        "slack-webhook",
        f"url = 'https://hooks.slack.com/services/T{upper32(8)}/B{upper32(10, 'b')}/{alnum(24, 'wh')}'",
        alnum(24, "wh"),
    ),
    ("stripe-key", f"stripe.api_key = 'sk_{'live'}_{alnum(24, 'st')}'", f"sk_live_{alnum(24, 'st')}"),
    ("stripe-key", f"rk_{'test'}_{alnum(24, 'rk')}", f"rk_test_{alnum(24, 'rk')}"),
    ("openai-key", f"OPENAI_API_KEY=sk-{'proj'}-{alnum(48, 'oa')}", f"sk-proj-{alnum(48, 'oa')}"),
    ("openai-key", f"sk-{alnum(20, 'o1')}T3Blbk{'FJ'}{alnum(20, 'o2')}", alnum(20, "o2")),
    ("anthropic-key", f"key = 'sk-{'ant'}-api03-{alnum(93, 'an')}AA'", alnum(93, "an")),
    ("openrouter-key", f"Bearer sk-{'or'}-v1-{hexs(64, 'or')}", hexs(64, "or")),
    ("huggingface-token", f"HF_TOKEN=hf_{letters(34, 'hf')}", f"hf_{letters(34, 'hf')}"),
    ("npm-token", f"//registry.npmjs.org/:_authToken=npm_{alnum(36, 'np')}", f"npm_{alnum(36, 'np')}"),
    ("pypi-token", f"password = pypi-AgEIcHlwaS5vcmc{alnum(70, 'py')}", alnum(70, "py")),
    (
        "jwt",
        "Authorization: Bearer "
        + base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
        + "."
        + base64.urlsafe_b64encode(b'{"sub":"1234567890","name":"x"}').decode().rstrip("=")
        + "."
        + alnum(43, "sig"),
        alnum(43, "sig"),
    ),
    ("private-key", f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----", PEM_BODY),
    ("private-key", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n", PEM_BODY),  # cut by the window
    ("private-key", f"{PEM_BODY}\n-----END EC PRIVATE KEY-----\nrest = 1", PEM_BODY),  # start before the window
    ("url-password", f'DATABASE_URL = "postgres://app:{alnum(14, "pw")}@db.internal:5432/app"', alnum(14, "pw")),
    ("url-password", f"redis://:{alnum(16, 'rd')}@cache:6379/0", alnum(16, "rd")),
    (
        "connection-string-password",
        f'cs = "Server=tcp:db.example.net,1433;Database=app;User Id=svc;Password={alnum(12, "cs")}!;"',
        alnum(12, "cs"),
    ),
    ("generic-assignment", f'DB_PASSWORD = "{alnum(18, "gp")}"', alnum(18, "gp")),
    ("generic-assignment", f'"api_key": "{hexs(32, "gk")}"', hexs(32, "gk")),
    ("generic-assignment", f"client_secret: '{alnum(30, 'cl')}'", alnum(30, "cl")),
    ("generic-assignment-unquoted", f"auth_token: {alnum(32, 'yt')}", alnum(32, "yt")),
]


@pytest.mark.parametrize(("rule", "text", "secret"), SAMPLES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(SAMPLES)])
def test_each_rule_hides_its_secret_and_names_itself(rule, text, secret):
    redacted, redaction = redact_text(text)
    assert secret not in redacted
    assert PLACEHOLDER_PREFIX in redacted
    assert rule in redaction.rules, f"found by {dict(redaction.rules)}, not by {rule}"
    assert redaction.restore(redacted) == text


def test_every_rule_has_a_sample():
    assert {rule.name for rule in RULES} <= {rule for rule, _, _ in SAMPLES}


PNG_BASE64 = base64.b64encode(bytes(range(256)) * 4).decode()
LOOK_ALIKES = [
    f'request_id = "{uuid.UUID(int=12345678901234567890)}"',
    f'token = "{uuid.uuid5(uuid.NAMESPACE_DNS, "x")}"',  # a UUID is an id, not a secret
    f"  integrity: sha512-{base64.b64encode(hashlib.sha512(b'pkg').digest()).decode()}",
    f'"resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz#{hexs(40)}",',
    f'hash = "sha256:{hexs(64, "lock")}"',
    f'    {{file = "pkg-1.0-py3-none-any.whl", hash = "sha256:{hexs(64, "w")}"}},',
    f"commit {hexs(40, 'git')}",
    f'<img src="data:image/png;base64,{PNG_BASE64}">',
    f"background: url(data:image/gif;base64,{PNG_BASE64[:200]});",
    'password = os.environ["DB_PASSWORD"]',
    "token = get_token(user)",
    "api_key = settings.OPENAI_API_KEY",
    'password = "${DB_PASSWORD}"',
    'secret = "{{ vault_secret }}"',
    'password: "changeme"',
    "self.api_key = api_key",
    "def check_password(password: str) -> bool:",
    "url = 'https://user@example.com/path'",
    "git@github.com:org/repo.git",
    "sk-learn is a nickname; task-runner",
    "AKIA is a prefix",
    f"key_{hexs(8)} = 1",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_left_alone(text):
    redacted, redaction = redact_text(text)
    assert redaction.count == 0, f"{dict(redaction.rules)} matched {text[:80]!r}"
    assert redacted == text


def test_the_same_secret_gets_the_same_placeholder_and_different_ones_differ():
    a, b = f"ghp_{alnum(36, 'a')}", f"ghp_{alnum(36, 'b')}"
    first, _ = redact_text(f"x = '{a}'")
    again, _ = redact_text(f"y = '{a}'")
    other, _ = redact_text(f"x = '{b}'")
    assert first.split("'")[1] == again.split("'")[1]
    assert first != other


def test_an_answer_with_an_unknown_or_cut_placeholder_is_dropped():
    _, redaction = redact_text(f"k = 'ghp_{alnum(36)}'")
    assert redaction.restore("print(1)") == "print(1)"
    assert redaction.restore(f"x = {PLACEHOLDER_PREFIX}deadbeef") is None
    assert redaction.restore(f"x = {PLACEHOLDER_PREFIX[:12]}") is None
    mark = next(iter(redaction.secrets))
    assert redaction.restore(f"use({mark})") == f"use(ghp_{alnum(36)})"
    assert redaction.hide(f"use(ghp_{alnum(36)})") == f"use({mark})"


def test_api_key_env_names_are_not_secrets_and_keys_are():
    assert not looks_like_secret("OPENROUTER_API_KEY")
    assert not looks_like_secret("MY_KEY_2")
    assert looks_like_secret(f"sk-or-v1-{hexs(64)}")
    assert looks_like_secret(f"ghp_{alnum(36)}")
    assert looks_like_secret(alnum(40, "random"))


def test_redaction_is_empty_for_plain_code():
    code = "def add(a, b):\n    return a + b\n" * 50
    redacted, redaction = redact_text(code)
    assert redacted == code and redaction == Redaction()
