"""secrets: every family is found and replaced, stand-ins pass, allowed findings are skipped.

Secrets are built at run time from a seeded generator (tests/secrets/), so no secret-shaped
literal sits in the repository for a scanner to trip on.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import re
import string
import sys
from pathlib import Path

import pytest

from specflow.errors import ConfigError, UsageError
from specflow.gitx.allowlist import allow_finding, load_allowlist, read_allowlist
from specflow.gitx.diffs import parse_diff
from specflow.gitx.secret_rules import rules, shannon_entropy
from specflow.gitx.secrets import (
    PLACEHOLDER,
    Redaction,
    SecretFinding,
    fingerprint,
    is_specflow_record,
    placeholder,
    placeholders_over_secrets,
    redact,
    redact_diff,
    redact_text,
)
from tests.conftest import git
from tests.helpers import run
from tests.secrets import Case, expand, load

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

RNG = random.Random(20240601)
ALNUM = string.ascii_letters + string.digits
SECRETS = load("secret")
CLEAN = load("clean")
TODAY = datetime.date(2026, 12, 1)


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def github_token() -> str:
    return "ghp_" + rand(36)


def private_key_lines() -> list[str]:
    body = [rand(64, ALNUM + "+/") for _ in range(3)]
    return ["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"]


def assert_gone(result: Redaction, secret: str) -> None:
    """The secret is absent from the text and from everything the findings hold."""
    assert secret not in result.text
    for finding in [*result.findings, *result.hidden]:
        for value in (finding.preview, str(finding), repr(finding), finding.id):
            assert secret not in value
            assert secret[5:25] not in value


def scan_case(case: Case) -> Redaction:
    return redact(case.text + "\n", case.path or "case.txt", diff=False)


# --------------------------------------------------------------------------------------------
# Coverage: the corpus, family by family

FAMILIES = {
    "aws-access-key",
    "aws-secret-key",
    "github-token",
    "github-fine-grained-token",
    "gitlab-token",
    "slack-token",
    "slack-app-token",
    "slack-webhook",
    "stripe-key",
    "google-api-key",
    "gcp-service-account-key",
    "anthropic-key",
    "openai-key",
    "npm-token",
    "pypi-token",
    "huggingface-token",
    "shopify-token",
    "sendgrid-key",
    "twilio-key",
    "twilio-auth-token",
    "azure-storage-key",
    "docker-auth",
    "private-key",
    "jwt",
    "url-credentials",
    "password",
    "secret",
    "api-key",
    "token",
    "high-entropy-string",
}


@pytest.mark.parametrize("case", SECRETS, ids=[f"{c.rule}-{i}" for i, c in enumerate(SECRETS)])
def test_each_corpus_secret_is_found_by_its_rule_and_replaced(case: Case) -> None:
    result = scan_case(case)
    assert case.rule in [f.kind for f in result.findings], result.findings
    for piece in case.pieces:
        assert_gone(result, piece)
    assert f"«secret:{case.rule}:" in result.text


@pytest.mark.parametrize("case", CLEAN, ids=[f"{c.rule}-{i}" for i, c in enumerate(CLEAN)])
def test_each_corpus_near_miss_passes(case: Case) -> None:
    assert scan_case(case) == Redaction(case.text + "\n", [])


def test_every_family_has_a_secret_and_a_near_miss_in_the_corpus() -> None:
    assert {c.rule for c in SECRETS} == FAMILIES
    assert {c.rule for c in CLEAN} == FAMILIES
    assert len(SECRETS) >= 60
    assert {rule.id for rule in rules()} <= FAMILIES


@pytest.mark.parametrize("rule", rules(), ids=[r.id for r in rules()])
def test_each_rule_finds_its_own_example(rule: object) -> None:
    from specflow.gitx.secret_rules import Rule

    assert isinstance(rule, Rule)
    text, pieces = expand(rule.example, random.Random(rule.id))
    result = redact(text + "\n", "example.txt", diff=False)
    assert [f.kind for f in result.findings] == [rule.id]
    assert all(piece not in result.text for piece in pieces)


@pytest.mark.parametrize(
    ("secret", "filler"),
    [
        ("sk_live_" + rand(24), "sk_live_" + "x" * 24),
        ("AIza" + rand(35), "AIza" + "0" * 35),
        ("github_pat_" + rand(22) + "_" + rand(59), "github_pat_" + "a" * 82),
        ("xoxp-" + rand(12, string.digits) + "-" + rand(24), "xoxp-" + "1" * 12 + "-" + "x" * 24),
        ("ghp_" + rand(36), "ghp_" + "aA" * 18),
    ],
)
def test_a_token_prefix_does_not_count_toward_variety(secret: str, filler: str) -> None:
    # The prefix alone has five distinct characters or more: only the body is weighed.
    assert redact(f'key = "{filler}"\n').findings == []
    assert len(redact(f'key = "{secret}"\n').findings) == 1


def test_redacting_twice_changes_nothing_more() -> None:
    """Text already holding placeholders is never flagged again."""
    for case in SECRETS:
        once = scan_case(case)
        again = redact(once.text, case.path or "case.txt", diff=False)
        assert again == Redaction(once.text, []), case.text


# --------------------------------------------------------------------------------------------
# Placeholders and findings


def test_a_placeholder_names_the_rule_and_four_hex_of_a_stable_fingerprint() -> None:
    token = github_token()
    expected = hashlib.sha256(f"github-token\0{token}".encode()).hexdigest()
    assert fingerprint("github-token", token) == expected[:16]
    assert placeholder("github-token", token) == f"«secret:github-token:{expected[:4]}»"
    first = redact(f"a = '{token}'\n").text
    assert first == f"a = '«secret:github-token:{expected[:4]}»'\n"
    assert redact(f"b: {token}\n").text == f"b: «secret:github-token:{expected[:4]}»\n"
    assert PLACEHOLDER.fullmatch(placeholder("github-token", token))


def test_a_finding_shows_rule_place_name_and_four_characters() -> None:
    token = github_token()
    password = "Zq8" + rand(13)  # 16 characters: a quarter is four
    result = redact(f'GH = "{token}"\npassword = "{password}"\n', "app.py")
    assert [(f.kind, f.path, f.line, f.name, f.preview) for f in result.findings] == [
        ("github-token", "app.py", 1, "GH", "ghp_…"),
        ("password", "app.py", 2, "password", "Zq8" + password[3] + "…"),
    ]
    first = result.findings[0]
    assert first.id == f"github-token:{fingerprint('github-token', token)}"
    assert str(first) == "app.py:1: github-token GH = (ghp_…)"


def test_a_short_secret_shows_a_quarter_at_most() -> None:
    (finding,) = redact('password = "Ab3x9Kq2"\n').findings  # specflow: allow-secret
    assert finding.preview == "Ab…"


def test_a_finding_reads_as_where_what_and_preview() -> None:
    finding = SecretFinding("github-token", "a.py", 3, "ghp_…")
    assert str(finding) == "a.py:3: github-token (ghp_…)"
    assert str(SecretFinding("jwt", None, 7, "eyJh…")) == "line 7: jwt (eyJh…)"


def test_redact_text_returns_the_redacted_text() -> None:
    token = github_token()
    assert redact_text(f"context: {token}\n") == redact(f"context: {token}\n").text
    assert token not in redact_text(f"context: {token}\n")


@pytest.mark.parametrize(
    ("text", "path", "found"),
    [
        ("password = get_password(user)", "app.py", False),
        ("password = self.secret_store.read(name)", "conf.yaml", False),
        ("password = Xk29mQ7vLp", "app.py", False),  # unquoted in code: an expression
        ("password: Xk29mQ7vLp", "conf.yaml", True),
        ("password:Xk29mQ7vLp", "notes.md", False),  # no space: not a YAML mapping
        ('password="python"', "test_zip.py", False),  # a word
        ('password="testPass"', "test_auth.py", False),
        ('password="jvEmErsBsnZz"', "app.py", True),  # random letters; specflow: allow-secret
        ('token_range = "%d,%d-%d"', "tok.py", False),
        ('api_key = "sk-ant-test-key"', "conftest.py", False),  # a stand-in segment
        ('api_key = "sk-contest-9f8Qz1"', "app.py", True),  # specflow: allow-secret
        ('auth = f"{user}:{password_hash}"', "app.py", False),
        ('password = "https://{host}/{path}"', "conf.yaml", False),
        ('password = "p4ss{w0rd"', "conf.yaml", True),  # specflow: allow-secret
        ("token: glpat-{alnum:20}", "corpus.yaml", False),  # a template's bare value
    ],
)
def test_assignments_near_the_line(text: str, path: str, found: bool) -> None:
    assert bool(redact(text + "\n", path, diff=False).findings) is found


# --------------------------------------------------------------------------------------------
# Private keys


def test_a_multi_line_private_key_keeps_its_line_count() -> None:
    key = private_key_lines()
    text = "before\n" + "\n".join(key) + "\nafter\n"
    result = redact(text)
    block = "\n".join(key)
    assert result.text == f"before\n{placeholder('private-key', block)}\n\n\n\n\nafter\n"
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
    assert file.hunks[0].lines[1:] == ("+", "+", "+", "+", "+trailer")
    assert file.hunks[0].lines[0].startswith("+«secret:private-key:")
    assert [(f.kind, f.path, f.line) for f in result.findings] == [("private-key", "id_rsa", 1)]


def test_an_unterminated_private_key_is_redacted_to_the_end() -> None:
    key = private_key_lines()[:3]
    result = redact("\n".join(key) + "\n")
    assert re.fullmatch(r"«secret:private-key:[0-9a-f]{4}»\n\n\n", result.text)


# --------------------------------------------------------------------------------------------
# Pragmas and the allowlist


@pytest.mark.parametrize(
    "pragma", ["# specflow: allow-secret", "# pragma: allowlist secret", "// gitleaks:allow"]
)
def test_a_pragma_skips_its_line_only(pragma: str) -> None:
    token = github_token()
    line = f'GH = "{token}"  {pragma}\n'
    assert redact(line) == Redaction(line, [])
    # Near miss: the pragma on the line before protects nothing.
    above = f"{pragma}\nGH = '{token}'\n"
    assert [f.line for f in redact(above).findings] == [2]


def test_a_pragma_on_a_private_key_begin_line_skips_the_block() -> None:
    key = private_key_lines()
    key[0] += "  # specflow: allow-secret"
    text = "\n".join(key) + "\n"
    assert redact(text) == Redaction(text, [])


def test_an_allowed_finding_id_is_skipped_and_another_value_is_not() -> None:
    token, other = github_token(), github_token()
    (finding,) = redact(f"a = '{token}'\n").findings
    text = f"a = '{token}'\nb = '{other}'\n"
    result = redact(text, allow={finding.id})
    assert token in result.text
    assert [(f.line, f.kind) for f in result.findings] == [(2, "github-token")]


def test_the_allowlist_round_trip(repo: Path) -> None:
    token = github_token()
    (repo / "fixture.py").write_text(f"TOKEN = '{token}'\n")
    first = run("secrets", "scan", "fixture.py", "--json")
    assert first.exit_code == 1
    (finding,) = json.loads(first.stdout)["findings"]
    allowed = run("secrets", "allow", finding["id"], "--reason", 'revoked "test" token')
    assert allowed.exit_code == 0
    path = repo / ".specflow/secrets-allow.toml"
    assert allowed.output == f"allowed {finding['id']} in {path}\n"
    table = tomllib.loads(path.read_text())
    assert table["allow"] == [
        {"id": finding["id"], "reason": 'revoked "test" token', "added": str(datetime.date.today())}
    ]
    assert token not in path.read_text()
    assert load_allowlist(repo) == {finding["id"]}
    again = run("secrets", "scan", "fixture.py")
    assert (again.exit_code, again.output) == (0, "no secrets found in 1 file\n")
    # Allowing it again replaces the reason rather than adding an entry.
    allow_finding(repo, finding["id"], "fixture", TODAY)
    assert [(e.id, e.reason) for e in read_allowlist(repo)] == [(finding["id"], "fixture")]
    # The allowlist itself is never flagged, nor is a scan of the whole tree.
    assert run("secrets", "scan", ".").exit_code == 0


@pytest.mark.parametrize("bad", ["github-token", "github-token:3F9A", "ghp_" + "a" * 36])
def test_allow_refuses_what_is_not_a_finding_id(repo: Path, bad: str) -> None:
    with pytest.raises(UsageError, match="is not a finding id"):
        allow_finding(repo, bad, "why", TODAY)
    result = run("secrets", "allow", bad, "--reason", "why")
    assert result.exit_code == 2
    assert not (repo / ".specflow/secrets-allow.toml").exists()


def test_allow_refuses_an_empty_reason(repo: Path) -> None:
    with pytest.raises(UsageError, match="give the reason"):
        allow_finding(repo, "jwt:0123456789abcdef", "  ", TODAY)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[allow]\n", "cannot read the secret allowlist"),
        ('[[allow]]\nid = "jwt:0123456789abcdef"\nreason = "x"\n', "allow.0.added: Field required"),
        ('[[allow]]\nid = "jwt"\nreason = "x"\nadded = "d"\n', "allow.0.id: String should match"),
        (
            '[[allow]]\nid = "jwt:0123456789abcdef"\nreason = "x"\nadded = "d"\nvalue = "v"\n',
            "value",
        ),
    ],
)
def test_a_broken_allowlist_is_named_with_the_fix(repo: Path, content: str, message: str) -> None:
    path = repo / ".specflow/secrets-allow.toml"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        load_allowlist(repo)
    assert str(path) in str(raised.value)
    result = run("secrets", "scan", "README.md")
    assert result.exit_code == 2


def test_specflow_records_are_known_but_still_redacted() -> None:
    # `secrets scan` skips specflow's own records when it walks folders (they are written
    # redacted); text handed to the one redaction path is redacted whatever its path.
    token = github_token()
    for path in (
        ".specflow/tasks/x/describe.md",
        "./.specflow/cache/r.json",
        ".SPECFLOW/archive/a",
    ):
        assert is_specflow_record(path)
        assert redact(f"t = '{token}'\n", path).findings != []
    for path in (".specflow/config.toml", "src/.specflow/tasks.py", "specflow/tasks/a.py"):
        assert not is_specflow_record(path)
        assert redact(f"t = '{token}'\n", path).findings != []


# --------------------------------------------------------------------------------------------
# A reply that would write a placeholder over a real value


def test_placeholders_over_secrets_names_the_lines() -> None:
    token, password = github_token(), "Zq8" + rand(12)
    original = f'import os\nGH = "{token}"\nDB_PASSWORD = "{password}"\n'
    seen = redact_text(original, "app.py")  # what the model was shown
    gh, pw = PLACEHOLDER.findall(seen)
    gh_text, pw_text = f"«secret:{gh[0]}:{gh[1]}»", f"«secret:{pw[0]}:{pw[1]}»"
    reply = f'import os\n\nGH = "{gh_text}"\nDB_PASSWORD = os.environ["DB_PASSWORD"]\n'
    assert placeholders_over_secrets(original, reply, "app.py") == [3]
    both = f'GH = "{gh_text}"\nDB_PASSWORD = "{pw_text}"\n'
    assert placeholders_over_secrets(original, both, "app.py") == [1, 2]


def test_placeholders_over_secrets_passes_an_honest_reply() -> None:
    token = github_token()
    original = f'GH = "{token}"\n'
    moved = 'GH = os.environ["GITHUB_TOKEN"]\n'
    assert placeholders_over_secrets(original, moved) == []
    # A placeholder that stands for nothing in the file (the model quoting the rules).
    other = placeholder("github-token", github_token())
    assert placeholders_over_secrets(original, f"# {other}\n") == []
    assert placeholders_over_secrets("x = 1\n", f"x = '{other}'\n") == []


# --------------------------------------------------------------------------------------------
# Diffs


def diff_of(path: str, hunk: str, body: list[str]) -> str:
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n{hunk}\n" + "".join(
        line + "\n" for line in body
    )


def test_in_a_diff_only_added_secrets_are_findings_but_every_line_is_redacted() -> None:
    old, new = github_token(), github_token()
    text = diff_of(
        "app.py",
        "@@ -10,4 +10,5 @@ def connect():",
        [" x = 1", f"-TOKEN = '{old}'", f"+TOKEN = '{new}'", "+y = 2", f" # was {old}"],
    )
    result = redact(text, "app.py")
    assert [(f.kind, f.path, f.line) for f in result.findings] == [("github-token", "app.py", 11)]
    # The removed line's number is the old file's; the context line's, the new file's.
    assert [(f.line, f.preview) for f in result.hidden] == [(11, "ghp_…"), (13, "ghp_…")]
    assert result.text == text.replace(old, placeholder("github-token", old)).replace(
        new, placeholder("github-token", new)
    )


def test_diff_headers_are_never_touched() -> None:
    text = diff_of("password = hunter2hunter2.txt", "@@ -1 +1 @@", ["-a", "+b"])
    assert redact(text).text == text


def test_a_bare_hunk_is_read_as_a_diff() -> None:
    token = github_token()
    result = redact(f"@@ -3,2 +3,2 @@\n a\n-b\n+T = '{token}'\n")
    assert [(f.line, f.kind) for f in result.findings] == [(4, "github-token")]


def test_text_that_only_quotes_a_diff_is_redacted_as_plain_text() -> None:
    token, other = github_token(), github_token()
    text = f"Notes: {token}\n" + diff_of("a.py", "@@ -1 +1 @@", ["-a", f"+b = '{other}'"])
    result = redact(text)
    assert token not in result.text and other not in result.text
    assert [f.line for f in result.findings] == [1, 7]


def test_removing_a_secret_is_not_a_finding() -> None:
    token = github_token()
    files = parse_diff(diff_of("a.py", "@@ -1 +0,0 @@", [f"-GH = '{token}'"]))
    redacted, findings = redact_diff(files)
    assert findings == []
    assert redacted[0].hunks[0].lines == (f"-GH = '{placeholder('github-token', token)}'",)


def test_redact_diff_names_each_file_and_keeps_hunks_valid() -> None:
    token = github_token()
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
        f'+PASSWORD = "{placeholder("password", password)}"',
        f"+GH = '{placeholder('github-token', token)}'",
    )
    assert (settings.added, settings.removed) == (2, 0)
    assert [(f.kind, f.path, f.line, f.name) for f in findings] == [
        ("password", "conf/settings.py", 5, "PASSWORD"),
        ("github-token", "conf/settings.py", 6, "GH"),
    ]
    for secret in (token, password):
        assert secret not in settings.text
        assert all(secret not in repr(f) for f in findings)


def test_redact_diff_skips_allowed_findings_and_scans_specflow_records() -> None:
    # A spec or answers.md under .specflow/tasks/ is committed and may be edited by hand: a
    # secret staged there is found like any other (placeholders in it are not).
    token = github_token()
    body = [f"+GH = '{token}'"]
    files = parse_diff(
        diff_of("a.py", "@@ -0,0 +1 @@", body)
        + diff_of(".specflow/tasks/t/spec.md", "@@ -0,0 +1 @@", body)
        + diff_of(".specflow/tasks/t/answers.md", "@@ -0,0 +1 @@", ["+GH = '«secret:gh:1a2b»'"])
    )
    redacted, findings = redact_diff(files)
    assert [f.path for f in findings] == ["a.py", ".specflow/tasks/t/spec.md"]
    assert all(token not in f.text for f in redacted)
    assert redact_diff(files, allow={findings[0].id})[1] == []


def test_high_entropy_values_are_redacted_in_env_files_only() -> None:
    value = rand(32)
    body = ["+DEBUG=1", f"+SESSION_SIGNING={value}", "+APP_NAME=my_app_production_db_2"]
    for path in (".env", "deploy/.env.production", "local.env"):
        result = redact(diff_of(path, "@@ -0,0 +1,3 @@", body), path)
        assert [(f.kind, f.line) for f in result.findings] == [("high-entropy-string", 2)]
        assert f"+SESSION_SIGNING={placeholder('high-entropy-string', value)}\n" in result.text
        assert "my_app_production_db_2" in result.text
    assert redact(diff_of("app.cfg", "@@ -0,0 +1,3 @@", body), "app.cfg").findings == []


def test_shannon_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0


# --------------------------------------------------------------------------------------------
# specflow secrets scan


def test_scan_prints_each_finding_with_its_id_and_exits_1(repo: Path) -> None:
    token = github_token()
    (repo / "src").mkdir()
    (repo / "src/app.py").write_text(f"x = 1\nGH_TOKEN = '{token}'\n")
    (repo / "src/logo.png").write_bytes(b"\x89PNG\0\0" + token.encode())
    (repo / "src/latin1.txt").write_bytes(b"caf\xe9 " + token.encode())
    result = run("secrets", "scan", "src")
    assert result.exit_code == 1
    fid = f"github-token:{fingerprint('github-token', token)}"
    lines = result.output.splitlines()
    assert lines[0] == f"src/app.py:2: github-token GH_TOKEN = (ghp_…)  id {fid}"
    assert lines[1:3] == [
        "skipped src/latin1.txt: not UTF-8 text",
        "skipped src/logo.png: binary file",
    ]
    assert lines[3].startswith("1 secret found in 1 file. Move each into configuration")
    assert token not in result.output


def test_scan_json(repo: Path) -> None:
    token = github_token()
    (repo / "app.py").write_text(f"GH = '{token}'\n")
    result = run("secrets", "scan", "--json", "app.py", "README.md")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "findings": [
            {
                "id": f"github-token:{fingerprint('github-token', token)}",
                "rule": "github-token",
                "path": "app.py",
                "line": 1,
                "name": "GH",
                "preview": "ghp_…",
            }
        ],
        "files": 2,
        "skipped": [],
    }
    clean = run("secrets", "scan", "--json", "README.md")
    assert (clean.exit_code, json.loads(clean.stdout)["findings"]) == (0, [])


def test_scan_staged_reports_what_the_change_adds(repo: Path) -> None:
    old, new = github_token(), github_token()
    (repo / "conf.py").write_text(f"OLD = '{old}'\n")
    git(repo, "add", "conf.py")
    git(repo, "commit", "-qm", "old")
    (repo / "conf.py").write_text(f"NEW = '{new}'\n")
    git(repo, "add", "conf.py")
    result = run("secrets", "scan", "--staged")
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("conf.py:1: github-token NEW = (ghp_…)")
    git(repo, "commit", "-qm", "new")
    assert run("secrets", "scan", "--staged").exit_code == 0


@pytest.mark.parametrize("args", [[], ["--staged", "README.md"]])
def test_scan_needs_staged_or_paths(repo: Path, args: list[str]) -> None:
    result = run("secrets", "scan", *args)
    assert result.exit_code == 2
    assert "give --staged or one or more PATHs" in result.output


def test_scan_names_a_missing_path(repo: Path) -> None:
    result = run("secrets", "scan", "nope.py")
    assert result.exit_code == 2
    assert "nope.py: no such file or folder" in result.output


def test_scan_outside_a_repository_runs_without_an_allowlist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.env").write_text(f"GH={github_token()}\n")
    assert run("secrets", "scan", "a.env").exit_code == 1
    assert run("secrets", "scan", "--staged").exit_code == 2


def test_an_allowlist_date_written_as_a_toml_date_is_read(repo: Path) -> None:
    path = repo / ".specflow/secrets-allow.toml"
    path.parent.mkdir()
    path.write_text('[[allow]]\nid = "jwt:0123456789abcdef"\nreason = "x"\nadded = 2026-12-01\n')
    assert load_allowlist(repo) == frozenset({"jwt:0123456789abcdef"})
    path.write_text('[[allow]]\nid = "jwt:0123456789abcdef"\nreason = "x"\nadded = 5\n')
    with pytest.raises(ConfigError, match="added"):  # near miss: a number is no date
        load_allowlist(repo)
