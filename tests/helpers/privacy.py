"""Secrets in their real formats, assembled from parts (no complete key sits in the source), and
checks that a file is excluded or sent."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from tests.helpers.lsp import SIMPLE_CURSOR
from tierline.commands.demo import SIMPLE_PY


def upper32(n: int, seed: str = "u") -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digest = b"".join(hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(n // 32 + 1))
    return "".join(alphabet[b % 32] for b in digest)[:n]


def hexs(n: int, seed: str = "h") -> str:
    return (hashlib.sha256(seed.encode()).hexdigest() * 4)[:n]


def letters(n: int, seed: str = "l") -> str:
    return "".join(c for c in alnum(n * 3, seed) if c.isalpha())[:n]


def alnum(n: int, seed: str = "x") -> str:
    """n random-looking [A-Za-z0-9] characters, deterministic."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    out, counter = [], 0
    while len(out) < n:
        digest = hashlib.sha256(f"{seed}{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:n])


AWS_SECRET = f"{alnum(20, 'w')}/{alnum(19, 'j')}"


GITHUB_TOKEN = f"ghp_{alnum(36, 'tok')}"


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
    ("generic-assignment", f'SESSION_SECRET = "{alnum(18, "gp")}"', alnum(18, "gp")),
    ("generic-assignment", f'"api_key": "{hexs(32, "gk")}"', hexs(32, "gk")),
    ("generic-assignment", f"client_secret: '{alnum(30, 'cl')}'", alnum(30, "cl")),
    ("generic-assignment-unquoted", f"auth_token: {alnum(32, 'yt')}", alnum(32, "yt")),
]


SECRETS_PY = f'''import boto3

AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"
KEY = """-----BEGIN RSA PRIVATE KEY-----
{PEM_BODY}
-----END RSA PRIVATE KEY-----"""


def client():
    return boto3.client("s3", aws_secret_access_key=AWS_SECRET_ACCESS_KEY)


def token():
    return "{GITHUB_TOKEN}"


def add(a, b):
'''


SECRETS_CURSOR = (SECRETS_PY.count("\n") - 1, 4)


ALL_SECRETS = (AWS_SECRET, GITHUB_TOKEN, PEM_BODY.split("\n")[2])


async def assert_excluded(editor, tmp_path: Path, excluded: dict[str, str]) -> None:
    """Each file (relative to the workspace) is excluded, and the reason names why."""
    for relative, why in excluded.items():
        uri = (tmp_path / relative).as_uri()
        editor.open(uri, SIMPLE_PY, "python")
        completion = await editor.complete(uri, *SIMPLE_CURSOR)
        assert completion.route["excluded"] is True, relative
        assert why in completion.route["reason"], (relative, completion.route["reason"])


async def assert_sent(editor, tmp_path: Path, relatives: tuple[str, ...]) -> None:
    """Each file is not excluded: it gets a completion."""
    for relative in relatives:
        uri = (tmp_path / relative).as_uri()
        editor.open(uri, SIMPLE_PY, "python")
        completion = await editor.complete(uri, *SIMPLE_CURSOR)
        assert completion.route["excluded"] is False and completion.text, relative
