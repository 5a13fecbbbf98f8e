"""Secrets in their real formats, assembled from parts (no complete key sits in the source), and
checks that a file is excluded or sent."""

from __future__ import annotations

import base64
import hashlib
import uuid
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


def bech32(n: int, seed: str = "age") -> str:
    alphabet = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
    return "".join(alphabet[ord(c) % 32] for c in alnum(n, seed))


DISCORD_ID = base64.b64encode(b"123456789012345678").decode()
K8S_VALUE = base64.b64encode(alnum(30, "k8").encode()).decode()
PUTTY = (
    "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ed25519-key-20240101\nPublic-Lines: 2\n"
    f"AAAAC3NzaC1lZDI1NTE5AAAAI{alnum(20, 'pp')}\n{alnum(20, 'pq')}\nPrivate-Lines: 1\n{alnum(43, 'pt')}\n"
    f"Private-MAC: {hexs(64, 'mac')}\n"
)

# Formats gitleaks' default rules cover that tierline missed (issue 17): vendor tokens, every key
# armour, passwords where config files keep them.
SAMPLES += [
    (
        "ssh2-private-key",
        f'---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "rsa-key"\n{PEM_BODY}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n',
        PEM_BODY,
    ),
    ("putty-private-key", PUTTY, alnum(43, "pt")),
    ("age-secret-key", f"AGE-SECRET-KEY-1{bech32(58)}", bech32(58)),
    ("twilio-api-key", f'TWILIO_API_KEY = "S{"K"}{hexs(32, "tw")}"', hexs(32, "tw")),
    ("sendgrid-api-key", f"SENDGRID = 'S{'G'}.{alnum(22, 'sg')}.{alnum(43, 'sg2')}'", alnum(43, "sg2")),
    ("datadog-key", f"DD_API_KEY={hexs(32, 'dd')}", hexs(32, "dd")),
    ("datadog-key", f'datadog_app_key: "{hexs(40, "dda")}"', hexs(40, "dda")),
    ("databricks-token", f"token = da{'pi'}{hexs(32, 'db')}", hexs(32, "db")),
    ("shopify-token", f"SHOPIFY_TOKEN=shp{'at'}_{hexs(32, 'sh')}", hexs(32, "sh")),
    ("shopify-token", f"'shp{'ss'}_{hexs(32, 'ss')}'", hexs(32, "ss")),
    (
        "discord-bot-token",
        f"client.run('{DISCORD_ID}.{alnum(6, 'dc')}.{alnum(38, 'dc2')}')",
        f"{DISCORD_ID}.{alnum(6, 'dc')}",
    ),
    ("discord-webhook", f"https://discord.com/api/web{'hooks'}/123456789012345678/{alnum(68, 'dw')}", alnum(68, "dw")),
    (
        "heroku-api-key",
        f'HEROKU_API_KEY = "{uuid.uuid5(uuid.NAMESPACE_DNS, "heroku")}"',
        str(uuid.uuid5(uuid.NAMESPACE_DNS, "heroku")),
    ),
    ("heroku-api-key", f"HRK{'U'}-AA{alnum(58, 'hk')}", alnum(58, "hk")),
    ("digitalocean-token", f"DIGITALOCEAN_TOKEN=do{'p'}_v1_{hexs(64, 'do')}", hexs(64, "do")),
    ("alibaba-access-key-id", f"LTA{'I'}{alnum(20, 'al')}", alnum(20, "al")),
    ("telegram-bot-token", f"bot = Bot('1234567890:A{'A'}{alnum(33, 'tg')}')", alnum(33, "tg")),
    ("grafana-token", f"gls{'a'}_{alnum(32, 'gf')}_{hexs(8, 'gf')}", alnum(32, "gf")),
    ("vault-token", f"VAULT_TOKEN=hv{'s'}.{alnum(95, 'hv')}", alnum(95, "hv")),
    ("doppler-token", f"dp.{'pt'}.{alnum(43, 'dp')}", alnum(43, "dp")),
    ("dynatrace-token", f"dt0c{'01'}.{upper32(24, 'dt')}.{upper32(64, 'dt2')}", upper32(64, "dt2")),
    ("newrelic-key", f"NRA{'K'}-{upper32(27, 'nr')}", upper32(27, "nr")),
    ("pulumi-token", f"pu{'l'}-{hexs(40, 'pu')}", hexs(40, "pu")),
    ("planetscale-token", f"pscale_{'tkn'}_{alnum(43, 'ps')}", alnum(43, "ps")),
    ("supabase-token", f"sb{'p'}_{hexs(40, 'sb')}", hexs(40, "sb")),
    ("flyio-token", f"fo{'1'}_{alnum(43, 'fl')}", alnum(43, "fl")),
    ("cloudflare-origin-ca-key", f"v1.{'0'}-{hexs(24, 'cf')}-{hexs(146, 'cf2')}", hexs(146, "cf2")),
    ("terraform-cloud-token", f"{alnum(14, 'tc')}.atlas{'v1'}.{alnum(67, 'tc2')}", alnum(67, "tc2")),
    ("atlassian-api-token", f"ATATT{'3'}{alnum(186, 'at')}", alnum(186, "at")),
    ("rubygems-token", f"rubygems{'_'}{hexs(48, 'rg')}", hexs(48, "rg")),
    ("docker-hub-token", f"dckr_{'pat'}_{alnum(27, 'dk')}", alnum(27, "dk")),
    ("postman-api-token", f"PMA{'K'}-{hexs(24, 'pm')}-{hexs(34, 'pm2')}", hexs(34, "pm2")),
    ("linear-api-key", f"lin_{'api'}_{alnum(40, 'ln')}", alnum(40, "ln")),
    ("sentry-token", f"sntry{'u'}_{hexs(64, 'se')}", hexs(64, "se")),
    ("mailchimp-api-key", f"{hexs(32, 'mc')}-us{'14'}", hexs(32, "mc")),
    ("square-token", f"sq0{'csp'}-{alnum(43, 'sq')}", alnum(43, "sq")),
    ("deepseek-key", f"DEEPSEEK_API_KEY=sk-{hexs(32, 'ds')}", hexs(32, "ds")),
    ("groq-api-key", f"gs{'k'}_{alnum(52, 'gq')}", alnum(52, "gq")),
    ("xai-api-key", f"xa{'i'}-{alnum(80, 'xa')}", alnum(80, "xa")),
    ("perplexity-api-key", f"ppl{'x'}-{alnum(48, 'px')}", alnum(48, "px")),
    ("replicate-token", f"r{'8'}_{alnum(37, 'rp')}", alnum(37, "rp")),
    ("authorization-header", f'headers = {{"Authorization": "Bearer {alnum(40, "bt")}"}}', alnum(40, "bt")),
    # passwords where config files keep them
    ("password-assignment", 'DB_PASSWORD = "hunter2x"', "hunter2x"),
    ("password-assignment", f'  master_password = "{alnum(16, "tf")}"', alnum(16, "tf")),
    ("password-assignment", 'if password == "s3cr3t!x":', "s3cr3t!x"),
    ("password-assignment-unquoted", "database:\n  host: db\n  password: s3cr3t-P4ss\n", "s3cr3t-P4ss"),
    ("password-assignment-unquoted", "[mysql]\nuser = app\npassword = Sup3r$ecret\n", "Sup3r$ecret"),
    ("password-assignment-unquoted", "DB_PASSWORD=hunter2x9\n", "hunter2x9"),
    ("password-assignment-unquoted", "spring.datasource.password=Pa55w0rd!x\n", "Pa55w0rd!x"),
    ("password-assignment-unquoted", "export PGPASSWORD=x9k2m4q7  # local only\n", "x9k2m4q7"),
    ("netrc-password", f"machine api.example.com login alice password {alnum(14, 'nr')}\n", alnum(14, "nr")),
    ("netrc-password", f"machine example.com\n  login bob\n  password {alnum(12, 'nr2')}\n", alnum(12, "nr2")),
    (
        "connection-string-password",
        f'psycopg2.connect("host=db.internal port=5432 dbname=app user=app password={alnum(12, "lq")} sslmode=require")',
        alnum(12, "lq"),
    ),
    ("connection-string-password", "dsn = \"host=db user=app password='p4ss w0rd'\"", "p4ss w0rd"),
    (
        "terraform-variable-default",
        f'variable "db_password" {{\n  type      = string\n  sensitive = true\n  default   = "{alnum(16, "tv")}"\n}}\n',
        alnum(16, "tv"),
    ),
    (
        "kubernetes-secret",
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  username: YWRtaW4=\n  api-key: {K8S_VALUE}\n",
        K8S_VALUE,
    ),
    ("url-password", f"postgres://app:p@ss/w0rd:{alnum(6, 'u1')}@db.internal:5432/app", f"p@ss/w0rd:{alnum(6, 'u1')}"),
    (
        "url-password",
        f'MONGO = "mongodb+srv://admin:{alnum(5, "m1")}/@{alnum(7, "m2")}@cluster0.example.net/db?retryWrites=true"',
        f"{alnum(5, 'm1')}/@{alnum(7, 'm2')}",
    ),
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

SECRETS_PY += "    \n"  # the cursor line (indented, blank)
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
