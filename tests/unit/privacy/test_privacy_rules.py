"""Every redaction rule on a sample in the real format, and look-alikes that must stay as they are.

Samples are assembled from parts so that no complete credential-shaped literal sits in the source.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from tests.helpers.privacy import PEM_BODY, SAMPLES, alnum, hexs, letters, upper32
from tierline.privacy.redaction import PLACEHOLDER_PREFIX, RULES, Redaction, looks_like_secret, redact_text


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


@pytest.mark.parametrize(("rule", "text", "secret"), SAMPLES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(SAMPLES)])
def test_each_rule_hides_its_secret_and_names_itself(rule, text, secret):
    redacted, redaction = redact_text(text)
    assert secret not in redacted
    assert PLACEHOLDER_PREFIX in redacted
    assert rule in redaction.rules, f"found by {dict(redaction.rules)}, not by {rule}"
    assert redaction.restore(redacted) == text


def test_every_rule_has_a_sample():
    assert {rule.name for rule in RULES} <= {rule for rule, _, _ in SAMPLES}


# In a config file a bare word on a password line is the password itself; in code it is a name.
CONFIG_WORDS = [
    ("config.yaml", "database:\n  host: db\n  password: sunshine\n", "sunshine"),
    ("app.ini", "[mysql]\nuser = app\npassword = tigerlily\n", "tigerlily"),
    ("prod.env", "DB_PASSWORD=letmein\n", "letmein"),
    ("application.properties", "spring.datasource.password=Dragonfly\n", "Dragonfly"),
]


@pytest.mark.parametrize(("name", "text", "secret"), CONFIG_WORDS)
def test_a_one_word_password_in_a_config_file_is_hidden_and_left_alone_in_code(name, text, secret):
    from tierline.privacy.redaction import is_config_file

    assert is_config_file(name) and not is_config_file("settings.py")
    redacted, redaction = redact_text(text, config_file=True)
    assert secret not in redacted
    assert redaction.rules == {"password-assignment-config": 1}
    assert redaction.restore(redacted) == text
    # The same line in code names a variable (`password = sunshine`): not a secret there.
    assert redact_text(text)[1].count == 0


@pytest.mark.parametrize(
    "text",
    [
        "  password: ${DB_PASSWORD}\n",
        "password: changeme\n",
        "password: *default_password\n",
        "password: string\n",
        "password: |\n",
        "password_file: /run/secrets/db\n",
    ],
)
def test_config_file_look_alikes_are_left_alone(text):
    assert redact_text(text, config_file=True)[1].count == 0


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

# Look-alikes of the formats added for issue 17: same shape, one thing off, or code, not config.
LOOK_ALIKES += [
    f'sku = "S{"K"}{"ZQ" * 16}"',  # not hex
    f"S{'K'}{hexs(31, 'tw')}",  # one short
    "host = 'SG.EXAMPLE.COM'",
    f"da{'pi'}{hexs(31, 'db')}",
    "dapi_version = 2",
    f"shp{'at'}_{hexs(31, 'sh')}",
    f"const x = MyApplicationControllerX.render.{letters(30, 'js')}();",  # a JS chain, not a bot token
    'HEROKU_APP_NAME = "billing-staging"',
    f"do{'p'}_v1_{hexs(63, 'do')}",
    f"1234567:A{'A'}{alnum(33, 'tg')}",  # seven digits: not a bot id
    f"sk-{hexs(31, 'ds')}",
    "password: string;",
    "    password: str",
    "password = None",
    "password: ${DB_PASSWORD}",
    'password: "{{ .Values.db.password }}"',
    "password = getpass.getpass()",
    'password = request.form["password"]',
    "password = self.password",
    "password_min_length: 12",
    "password: !vault |",
    'PASSWORD_FIELD = "password"',
    'label = "Enter your password:"',
    '"password": "Password"',
    'pwd = "/home/user/project"',
    "password = new_password",
    "the password is hunter2x in this story",
    "auth    required    pam_unix.so\npassword    required    pam_unix.so",
    'cursor.execute("SELECT id FROM users WHERE password = %s", (digest,))',
    "host=db user=app password=${PGPASSWORD}",
    "https://registry.example.com:443/@types/node",
    "http://localhost:8080/users/@me",
    "apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n  WORKERS: '4'\n",
    'msg = ("an error occurred while " "reading the file")',
    'parts = "abc" + "def"',
    'variable "password_length" {\n  default = 16\n}',
    'variable "db_password" {\n  default = "${var.fallback}"\n}',
    'headers["Authorization"] = f"Bearer {token}"',
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
    "---- BEGIN SSH2 PUBLIC KEY ----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ\n---- END SSH2 PUBLIC KEY ----",
    f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{alnum(43, 'pub')} user@host",
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


def test_a_token_split_over_adjacent_literals_is_hidden_piece_by_piece():
    """`"ghp_abc" "def"` (Python, C), `"sk-or-v1-..." + "..."` (JavaScript), and across a line break:
    each piece becomes a placeholder, and the answer restores both."""
    token = f"ghp_{alnum(36, 'split')}"
    key = f"sk-or-v1-{hexs(64, 'split')}"
    cases = [
        (f'TOKEN = ("{token[:17]}"\n         "{token[17:]}")', token[:17], token[17:]),
        (f"const key = '{key[:30]}' + '{key[30:]}';", key[:30], key[30:]),
        (f'char *k = "{key[:40]}" "{key[40:]}";', key[:40], key[40:]),
    ]
    for text, first, second in cases:
        redacted, redaction = redact_text(text)
        assert first not in redacted and second not in redacted, redacted
        assert redaction.rules["split-literal"] == 2, dict(redaction.rules)
        assert redaction.restore(redacted) == text


def test_every_rule_runs_on_a_linear_time_engine():
    """Worst-case time linear in the input: every pattern compiles under RE2, which refuses
    anything that would need backtracking (look-arounds, back-references) and never backtracks.
    The time itself is measured by tests/benchmarks/bench_privacy.py (crafted 1 MB inputs)."""
    import re2

    from tierline.privacy import redaction as module

    for rule in RULES + module.CONFIG_RULES:
        assert isinstance(rule.pattern, re2._Regexp), rule.name
        assert rule.pattern.pattern == rule.source
        if rule.context is not None:
            assert isinstance(rule.context, re2._Regexp), rule.name
    helpers = [module._KEY_END, module._K8S_KIND, module._K8S_DATA, module._K8S_ENTRY, module._SPLIT_RUN]
    assert all(isinstance(p, re2._Regexp) for p in helpers)
    with pytest.raises(re2.error):
        module.compile_linear(rb"(?<![A-Z])x")  # a look-behind: refused, so no rule can have one


def test_redaction_is_empty_for_plain_code():
    code = "def add(a, b):\n    return a + b\n" * 50
    redacted, redaction = redact_text(code)
    assert redacted == code and redaction == Redaction()
