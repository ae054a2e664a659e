"""secrets: every kind is found and replaced, placeholders are left alone, nothing leaks.

Secrets are built at run time from a seeded generator, so no secret-shaped literal sits in
the repository for a scanner to trip on.
"""

from __future__ import annotations

import random
import string

import pytest

from specflow.gitx.diffs import parse_diff
from specflow.gitx.secrets import Redaction, SecretFinding, redact, redact_diff, shannon_entropy

RNG = random.Random(20240601)
ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def private_key_lines() -> list[str]:
    body = [rand(64, ALNUM + "+/") for _ in range(3)]
    return ["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"]


def assert_gone(result: Redaction, secret: str) -> None:
    """The secret is absent from the text and from everything the findings hold."""
    assert secret not in result.text
    for finding in result.findings:
        for value in (finding.preview, str(finding), repr(finding)):
            assert secret not in value
            assert secret[5:25] not in value


def case(kind: str, secret: str, template: str) -> tuple[str, str, str]:
    """(kind, the secret, the line that holds it where the template says %s)."""
    return kind, secret, template.replace("%s", secret)


CASES = [
    case(
        "aws-access-key-id",
        "AKIA" + rand(16, string.ascii_uppercase + string.digits),
        "aws_access_key_id = %s",
    ),
    case(
        "aws-access-key-id",
        "ASIA" + rand(16, string.ascii_uppercase + string.digits),
        "creds: %s",
    ),
    case("aws-secret-access-key", rand(40, ALNUM + "/+"), "aws_secret_access_key = %s"),
    case("aws-secret-access-key", rand(40, ALNUM + "/+"), 'AWS_SECRET_ACCESS_KEY="%s"'),
    case("github-token", "ghp_" + rand(36), "token: %s"),
    case("github-token", "gho_" + rand(36), "x = '%s'"),
    case("github-token", "ghu_" + rand(36), "%s"),
    case("github-token", "ghs_" + rand(36), "auth(%s)"),
    case("github-token", "ghr_" + rand(36), "refresh=%s"),
    case("github-token", "github_pat_" + rand(22) + "_" + rand(59), "GH=%s"),
    case("anthropic-key", "sk-ant-api03-" + rand(90, ALNUM + "-_"), 'ANTHROPIC_API_KEY="%s"'),
    case("openai-key", "sk-proj-" + rand(20) + "1" + rand(60, ALNUM + "-_"), "OPENAI_API_KEY=%s"),
    case("openai-key", "sk-" + rand(47) + "7", "openai.api_key = '%s'"),
    case("slack-token", "xoxb-" + rand(12, string.digits) + "-" + rand(24), "hook: %s"),
    case("slack-token", "xoxp-" + rand(12, string.digits) + "-" + rand(24), "%s"),
    case("stripe-key", "sk_live_" + rand(24), "stripe.api_key = '%s'"),
    case("stripe-key", "rk_live_" + rand(24), "STRIPE=%s"),
    case("google-api-key", "AIza" + rand(35, ALNUM + "_-"), "maps?key=%s&x=1"),
    case(
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + rand(43, ALNUM + "_-"),
        "Authorization: Bearer %s",
    ),
    case("password", "hunter2" + rand(6), 'password = "%s"'),
    case("password", rand(10) + "9!", "  db_password: %s"),
    case("password", "s3cr3t-" + rand(8), "DB_PASSWD='%s'"),
    case("secret", rand(30), "client_secret = '%s'"),
    case("secret", "django-insecure-" + rand(30), "SECRET_KEY = '%s'"),
    case("api-key", "abc123" + rand(12), '{"apiKey": "%s"}'),
    case("api-key", rand(12) + "42", "api-key => '%s'"),
    case("token", rand(16) + "5", 'auth_token := "%s"'),
    case("credential", rand(14) + "3", "credentials: %s"),
]


@pytest.mark.parametrize(("kind", "secret", "line"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_is_replaced_by_its_placeholder(kind: str, secret: str, line: str) -> None:
    result = redact(line + "\n")
    assert result.text == line.replace(secret, f"[REDACTED:{kind}]") + "\n"
    assert [(f.kind, f.line) for f in result.findings] == [(kind, 1)]
    assert result.hidden == []
    assert_gone(result, secret)


def test_a_preview_shows_four_characters_at_most_and_a_quarter_of_a_short_secret() -> None:
    token = "ghp_" + rand(36)
    password = "hunter2" + rand(3)
    result = redact(f'a = "{token}"\npassword = "{password}"\n')
    assert [f.preview for f in result.findings] == ["ghp_…", password[:2] + "…"]


def test_a_multi_line_private_key_keeps_its_line_count() -> None:
    key = private_key_lines()
    text = "before\n" + "\n".join(key) + "\nafter\n"
    result = redact(text)
    assert result.text == "before\n[REDACTED:private-key]\n\n\n\n\nafter\n"
    assert [(f.kind, f.line, f.preview) for f in result.findings] == [("private-key", 2, "----…")]
    for line in key[1:4]:
        assert line not in result.text


def test_a_private_key_in_an_added_diff_block_keeps_the_plus_column() -> None:
    key = private_key_lines()
    text = (
        "diff --git a/id_rsa b/id_rsa\nnew file mode 100600\n--- /dev/null\n+++ b/id_rsa\n"
        "@@ -0,0 +1,6 @@\n" + "".join(f"+{line}\n" for line in key) + "+trailer\n"
    )
    result = redact(text, "id_rsa")
    (file,) = parse_diff(result.text)
    assert file.hunks[0].lines == ("+[REDACTED:private-key]", "+", "+", "+", "+", "+trailer")
    assert [(f.kind, f.path, f.line) for f in result.findings] == [("private-key", "id_rsa", 1)]


def test_an_unterminated_private_key_is_redacted_to_the_end() -> None:
    key = private_key_lines()[:3]
    result = redact("\n".join(key) + "\n")
    assert result.text == "[REDACTED:private-key]\n\n\n"


def test_code_that_only_names_the_marker_is_left_alone() -> None:
    text = 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    kind = "rsa"\n'
    assert redact(text) == Redaction(text, [])


def test_a_gcp_service_account_private_key_is_replaced() -> None:
    material = "\\n".join(rand(64, ALNUM + "+/") for _ in range(3))
    value = f"-----BEGIN PRIVATE KEY-----\\n{material}\\n-----END PRIVATE KEY-----\\n"
    text = f'{{\n  "type": "service_account",\n  "private_key": "{value}",\n  "x": 1\n}}\n'
    result = redact(text, "sa.json")
    assert '"private_key": "[REDACTED:gcp-service-account-key]",' in result.text
    assert [(f.kind, f.path, f.line) for f in result.findings] == [
        ("gcp-service-account-key", "sa.json", 3)
    ]
    assert_gone(result, material)


PLACEHOLDERS = [
    'password = "changeme"',
    'password = ""',
    "password: str",
    'api_key = os.environ["API_KEY"]',
    'api_key = os.getenv("API_KEY")',
    "api_key = settings.API_KEY",
    'token = "${TOKEN}"',
    "token: ${{ secrets.TOKEN }}",
    "secret: <your-secret>",
    'api_key = "<your-key>"',
    'token = "xxxxxxxxxxxxxxxx"',
    'password = "********"',
    'password = "your_password_here"',
    'secret = "example-secret"',
    "SECRET_KEY = get_secret()",
    'token_type = "bearer"',
    'secret_name = "prod/db-credentials"',
    'token_url = "https://example.com/oauth/token"',
    "max_tokens = 409612",
    'tokenizer = "gpt2-large"',
    'monkey = "banana123"',
    "token = token_from_environment",
    'password = "abc12"  # too short to be real',
    "AWS_SECRET_ACCESS_KEY=",
    "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
    "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    'password = "%(db_password)s"',
    'api_key: "{{ api_key }}"',
    'help = "Enter your secret key here"',
    "PWD=/home/user/project",
    "if password == 'hunter22x':",
]


@pytest.mark.parametrize("line", PLACEHOLDERS)
def test_placeholders_and_references_are_not_secrets(line: str) -> None:
    assert redact(line + "\n") == Redaction(line + "\n", [])


# --------------------------------------------------------------------------------------------
# Diffs


def diff_of(path: str, hunk: str, body: list[str]) -> str:
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n{hunk}\n" + "".join(
        line + "\n" for line in body
    )


def test_in_a_diff_only_added_secrets_are_findings_but_every_line_is_redacted() -> None:
    old, new = "ghp_" + rand(36), "ghp_" + rand(36)
    text = diff_of(
        "app.py",
        "@@ -10,4 +10,5 @@ def connect():",
        [" x = 1", f"-TOKEN = '{old}'", f"+TOKEN = '{new}'", "+y = 2", f" # was {old}"],
    )
    result = redact(text, "app.py")
    assert [(f.kind, f.path, f.line) for f in result.findings] == [("github-token", "app.py", 11)]
    # The removed line's number is the old file's; the context line's, the new file's.
    assert [(f.line, f.preview) for f in result.hidden] == [(11, "ghp_…"), (13, "ghp_…")]
    assert result.text == text.replace(old, "[REDACTED:github-token]").replace(
        new, "[REDACTED:github-token]"
    )


def test_diff_headers_are_never_touched() -> None:
    text = diff_of("password = hunter2hunter2.txt", "@@ -1 +1 @@", ["-a", "+b"])
    assert redact(text).text == text


def test_removing_a_secret_is_not_a_finding() -> None:
    token = "ghp_" + rand(36)
    files = parse_diff(diff_of("a.py", "@@ -1 +0,0 @@", [f"-GH = '{token}'"]))
    redacted, findings = redact_diff(files)
    assert findings == []
    assert redacted[0].hunks[0].lines == ("-GH = '[REDACTED:github-token]'",)


def test_redact_diff_names_each_file_and_keeps_hunks_valid() -> None:
    token = "ghp_" + rand(36)
    password = "pw-" + rand(12) + "1"
    text = diff_of("clean.py", "@@ -1 +1 @@", ["-a = 1", "+a = 2"]) + diff_of(
        "conf/settings.py",
        "@@ -4,2 +4,3 @@",
        [" DEBUG = False", f'+PASSWORD = "{password}"', f"+GH = '{token}'"],
    )
    files = parse_diff(text)
    redacted, findings = redact_diff(files)
    assert redacted[0] is files[0]
    settings = redacted[1]
    assert settings.path == "conf/settings.py"
    assert settings.hunks[0].lines == (
        " DEBUG = False",
        '+PASSWORD = "[REDACTED:password]"',
        "+GH = '[REDACTED:github-token]'",
    )
    assert (settings.added, settings.removed) == (2, 0)
    assert [(f.kind, f.path, f.line) for f in findings] == [
        ("password", "conf/settings.py", 5),
        ("github-token", "conf/settings.py", 6),
    ]
    for secret in (token, password):
        assert secret not in settings.text
        assert all(secret not in repr(f) for f in findings)


def test_high_entropy_values_are_redacted_in_env_files_only() -> None:
    value = rand(32)
    body = ["+DEBUG=1", f"+SESSION_SIGNING={value}", "+APP_NAME=my_app_production_db_2"]
    for path in (".env", "deploy/.env.production", "local.env"):
        result = redact(diff_of(path, "@@ -0,0 +1,3 @@", body), path)
        assert [(f.kind, f.line) for f in result.findings] == [("high-entropy-string", 2)]
        assert "+SESSION_SIGNING=[REDACTED:high-entropy-string]\n" in result.text
        assert "my_app_production_db_2" in result.text
    assert redact(diff_of("app.cfg", "@@ -0,0 +1,3 @@", body), "app.cfg").findings == []


def test_shannon_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0


def test_a_finding_reads_as_where_what_and_preview() -> None:
    finding = SecretFinding("github-token", "a.py", 3, "ghp_…")
    assert str(finding) == "a.py:3: github-token (ghp_…)"
    assert str(SecretFinding("jwt", None, 7, "eyJh…")) == "line 7: jwt (eyJh…)"
