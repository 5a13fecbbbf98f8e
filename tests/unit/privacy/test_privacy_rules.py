"""Every redaction rule on a sample in the real format, and look-alikes that must stay as they are.

Samples are assembled from parts so that no complete credential-shaped literal sits in the source.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from tests.helpers.privacy import SAMPLES, alnum, hexs, letters
from tierline.privacy.redaction import PLACEHOLDER_PREFIX, RULES, Redaction, looks_like_secret, redact_text


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


@pytest.mark.parametrize(
    "before",
    [
        "-----BEGIN",  # a stray start line (found by the property test in test_fuzz_properties.py)
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",  # a certificate's
        "# -----begin rsa private key----- (lower case: not a key's header)",
    ],
)
def test_a_key_cut_by_the_window_is_hidden_after_another_begin_line(before):
    # The window starts inside the key: its end line is there, its own header is not. Another
    # "-----BEGIN" above it once made the body go out as it was.
    (text, secret) = next((t, s) for r, t, s in SAMPLES if r == "private-key" and t.startswith(s))
    redacted, redaction = redact_text(f"{before}\n{text}")
    assert secret not in redacted
    assert redaction.rules["private-key"] == 1
    assert redaction.restore(redacted) == f"{before}\n{text}"
