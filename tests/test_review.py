"""The review gate against real git repositories and the loopback Anthropic API."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import fresh_run, run
from tests.support.samples import review_reply

AWS_KEY = "AKIAIOSFODNN7EXAMPLF"
BLOCKING = (
    "- [MAJOR] app.py:1 — Error propagation — the error is swallowed. Evidence: `except: pass`"
)
SWALLOWED = "try:\n    x()\nexcept:\n    pass\n"
MINOR = "- [MINOR] app.py:2 — Logging — the call is not logged. Evidence: `x()`"


def _stage(repo: Path, name: str, text: str) -> None:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", name)


def _review(*args: str) -> tuple[int, dict[str, object], str]:
    result = run("review", "--json", *args)
    data = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, data, result.stderr


def test_an_empty_diff_is_not_reviewed_never_pass(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, data, _ = _review()
    assert code == 0
    assert data["outcome"] == "NOT REVIEWED"
    assert data["reason"] == "nothing to review: the diff is empty after skipping files"
    _stage(repo, "package-lock.json", "{}\n")  # excluded by default: still nothing to review
    monkeypatch.setenv("CI", "true")
    code, data, _ = _review()
    assert (code, data["outcome"]) == (0, "NOT REVIEWED")  # nothing held back, even in CI
    assert "PASS" not in run("review").stdout
    reply = tmp_path / "r.md"
    reply.write_text(review_reply())
    refused = run("review", "--reply", str(reply))
    assert refused.exit_code == 2 and "nothing to review" in refused.stderr
    assert claude.requests == []


def test_passing_and_blocking_verdicts(repo: Path, claude: AnthropicServer) -> None:
    _stage(repo, "app.py", "try:\n    x()\nexcept:\n    pass\n")
    claude.script(Text(review_reply([MINOR])))
    code, data, _ = _review()
    assert code == 0 and data["verdict"] == "PASS" and data["blocked"] is False
    claude.script(Text(review_reply([BLOCKING])))
    code, data, _ = _review("--no-cache")
    assert code == 1
    assert data["verdict"] == "FAIL" and data["blocked"] is True
    assert data["findings"][0]["severity"] == "MAJOR"
    (request,) = claude.requests[1:]
    sent = json.dumps(request.body)
    assert "except:" in sent and "app.py" in sent
    # a lower threshold blocks on the MINOR finding
    claude.script(Text(review_reply([MINOR])))
    code, data, _ = _review("--no-cache", "--threshold", "MINOR")
    assert code == 1


def test_text_output(repo: Path, claude: AnthropicServer) -> None:
    _stage(repo, "app.py", SWALLOWED)
    claude.script(Text(review_reply([BLOCKING])))
    result = run("review")
    assert result.exit_code == 1
    assert "specflow review: FAIL\n" in result.stdout
    assert "  [MAJOR] app.py:1 — Error propagation — the error is swallowed." in result.stdout
    assert "Blocked: findings at or above MAJOR." in result.stdout


def test_cached_verdict_makes_no_request(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the verdict cache itself, not the review memo in front of it (see test_review_memo)
    monkeypatch.setenv("SPECFLOW_REVIEW_MEMO", "0")
    _stage(repo, "app.py", "x = 1\n")
    claude.script(Text(review_reply()))
    assert _review()[0] == 0
    code, data, _ = _review()
    assert code == 0 and data["cached"] is True
    assert len(claude.requests) == 1
    assert (repo / ".specflow/cache/.gitignore").is_file()


def test_cached_review_does_not_import_the_sdk(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the verdict cache itself, not the review memo in front of it (see test_review_memo)
    monkeypatch.setenv("SPECFLOW_REVIEW_MEMO", "0")
    _stage(repo, "app.py", "x = 1\n")
    claude.script(Text(review_reply()))
    assert _review()[0] == 0
    done = fresh_run(repo, ["review", "--json"], watch=("anthropic", "openai"))
    assert (done.codes, done.loaded) == ([0], [])
    assert '"cached": true' in done.output
    assert len(claude.requests) == 1


def test_staged_secret_blocks_without_calling_the_model(
    repo: Path, claude: AnthropicServer
) -> None:
    _stage(repo, "settings.py", f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n')
    result = run("review", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["findings"][0]["severity"] == "BLOCKER"
    assert data["findings"][0]["path"] == "settings.py"
    assert data["findings"][0]["line"] == 1
    assert claude.requests == []
    assert AWS_KEY not in result.output
    for file in (repo / ".specflow").rglob("*") if (repo / ".specflow").exists() else []:
        if file.is_file():
            assert AWS_KEY not in file.read_text(errors="replace")


def test_secret_in_an_excluded_file_still_blocks(repo: Path, claude: AnthropicServer) -> None:
    _stage(repo, "vendor/lib/config.py", f'key = "{AWS_KEY}"\n')
    code, data, _ = _review()
    assert code == 1
    assert data["findings"][0]["path"] == "vendor/lib/config.py"
    assert claude.requests == []


def test_binary_rename_deletion_and_lock_file(repo: Path, claude: AnthropicServer) -> None:
    (repo / "old_name.py").write_text("def f():\n    return 1\n" * 5)
    (repo / "gone.py").write_text("x = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    git(repo, "mv", "old_name.py", "new_name.py")
    git(repo, "rm", "-q", "gone.py")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (repo / "poetry.lock").write_text("[[package]]\nname = 'x'\n")
    git(repo, "add", "logo.png", "poetry.lock")
    claude.script(Text(review_reply()))
    code, data, _ = _review()
    assert code == 0
    assert sorted(data["reviewed"]) == ["gone.py", "new_name.py"]
    skipped = {s["path"]: s["reason"] for s in data["skipped"]}
    assert skipped == {
        "logo.png": "binary file",
        "poetry.lock": "matches exclude pattern `poetry.lock`",
    }
    sent = json.dumps(claude.requests[0].body)
    assert "gone.py" in sent and "new_name.py" in sent
    assert "poetry.lock" not in sent and "logo.png" not in sent


def test_unreachable_provider_fails_open_locally_and_closed_in_ci(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text("[anthropic]\nmax_retries = 0\n")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # discard port: refused
    _stage(repo, "app.py", "x = 1\n")
    local = run("review")
    assert local.exit_code == 0
    assert local.stdout.startswith("specflow review: NOT REVIEWED — the review did not run")
    assert "PASS" not in local.stdout
    assert run("review", "--fail-closed").exit_code == 3
    monkeypatch.setenv("CI", "true")
    ci = run("review")
    assert ci.exit_code == 3
    assert "could not reach the Anthropic API at http://127.0.0.1:9" in ci.stdout
    assert "[review] timeout_s = 120 s" in ci.stdout
    assert run("review", "--fail-open").exit_code == 0


def test_diff_over_the_line_limit(repo: Path, claude: AnthropicServer) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text("[review]\nmax_diff_lines = 5\n")
    _stage(repo, "big.py", "x = 1\n" * 10)
    refused = run("review")
    assert refused.exit_code == 1
    assert refused.stdout.startswith(
        "specflow review: BLOCKED — the diff changes 10 lines, over [review] max_diff_lines (5)"
    )
    passed = run("review", "--fail-open")
    assert passed.exit_code == 0
    assert passed.stdout.startswith("specflow review: NOT REVIEWED — the diff changes 10 lines")
    assert claude.requests == []


def test_large_diff_is_split_and_verdicts_merged(repo: Path, claude: AnthropicServer) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text("[review]\nchunk_tokens = 1000\n")
    for n in range(3):
        _stage(repo, f"mod{n}.py", "".join(f"value_{i} = {i}\n" for i in range(250)))
    finding = "- [MAJOR] mod1.py:3 — Scope — not in the spec. Evidence: `value_2 = 2`"

    def answer(request: object) -> str:
        # Flag mod1.py's line 3 only in the part that shows it (a finding elsewhere is
        # outside the change the part holds, and re-asked).
        body = json.loads(json.dumps(request.body))["messages"][-1]["content"]
        text = body if isinstance(body, str) else " ".join(b.get("text", "") for b in body)
        mod1 = (
            text.split("+++ b/mod1.py", 1)[1].split("diff --git", 1)[0]
            if "+++ b/mod1.py" in text
            else ""
        )
        return review_reply([finding]) if "    3 +value_2 = 2" in mod1 else review_reply()

    claude.default = answer
    code, data, _ = _review()
    assert len(claude.requests) >= 3
    assert code == 1
    assert [f["path"] for f in data["findings"]] == ["mod1.py"]


def test_handoff_writes_the_review_prompt_and_passes(repo: Path) -> None:
    _stage(repo, "app.py", SWALLOWED)
    result = run("review")
    assert result.exit_code == 0
    assert (
        "the review prompt is in .specflow/cache/review/handoff/review.prompt.md" in result.stdout
    )
    prompt = (repo / ".specflow/cache/review/handoff/review.prompt.md").read_text()
    assert "app.py" in prompt
    reply = repo.parent / "verdict.md"
    reply.write_text(review_reply([BLOCKING]))
    assert run("review", "--reply", str(reply)).exit_code == 1


def test_hook_blocks_and_passes_a_real_commit(repo: Path, claude: AnthropicServer) -> None:
    assert "installed" in run("hook", "install").output
    _stage(repo, "app.py", SWALLOWED)
    claude.script(Text(review_reply([BLOCKING])))
    blocked = subprocess.run(
        ["git", "commit", "-qm", "blocked"], cwd=repo, capture_output=True, text=True
    )
    assert blocked.returncode != 0
    assert "FAIL" in blocked.stdout + blocked.stderr
    assert git(repo, "log", "--format=%s").splitlines() == ["initial"]
    claude.script(Text(review_reply()))
    (repo / "app.py").write_text("x = 2\n")
    git(repo, "add", "app.py")
    passed = subprocess.run(
        ["git", "commit", "-qm", "passes"], cwd=repo, capture_output=True, text=True
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git(repo, "log", "--format=%s").splitlines() == ["passes", "initial"]


def test_check_review_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "v.md"
    good.write_text(review_reply([BLOCKING]))
    assert run("check", "review", str(good)).exit_code == 0
    bad = tmp_path / "b.md"
    bad.write_text(review_reply([BLOCKING]).replace("FAIL", "PASS"))
    assert run("check", "review", str(bad)).exit_code == 1


def test_a_single_line_larger_than_a_chunk_is_cut_and_reported(
    repo: Path, claude: AnthropicServer
) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text("[review]\nchunk_tokens = 1000\n")
    _stage(repo, "bundle.js", "var a=" + "1+" * 200_000 + "1;\n")
    claude.default = review_reply()
    code, data, _ = _review()
    assert code == 0 and data["outcome"] == "PASS"
    assert len(claude.requests) == 1
    sent = json.dumps(claude.requests[0].body)
    assert len(sent) < 20_000
    assert "more characters of this line not sent]" in sent
    assert data["notes"] == [
        "bundle.js: 1 line(s) longer than a chunk ([review] chunk_tokens = 1,000) were cut "
        "short; the model saw the start of each and a marker"
    ]


def test_the_decoding_notice_shows_only_with_verbose(repo: Path, claude: AnthropicServer) -> None:
    _stage(repo, "app.py", "x = 1\n")
    claude.default = review_reply()
    quiet = run("review")
    assert quiet.exit_code == 0 and "review: sending" not in quiet.stderr
    assert "not honoured" not in quiet.stderr
    loud = run("review", "-v", "--no-cache")
    assert "review: sending effort=high, thinking=adaptive to " in loud.stderr
    assert "review: not honoured: temperature" in loud.stderr
    models = run("models").output  # where the plan is shown on demand
    assert "review     anthropic claude-sonnet-5-5" in models
    assert "sends effort=high, thinking=adaptive, max_tokens=16000" in models
    assert "not honoured: temperature" in models


def test_a_secret_finding_names_its_id_and_the_allow_command(
    repo: Path, claude: AnthropicServer
) -> None:
    _stage(repo, "settings.py", f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n')
    blocked = run("review")
    assert blocked.exit_code == 1 and blocked.stdout.startswith("specflow review: BLOCKED")
    match = re.search(r"id ([a-z0-9-]+:[0-9a-f]{16})\)", blocked.stdout)
    assert match is not None, blocked.stdout
    finding_id = match.group(1)
    assert f'specflow secrets allow {finding_id} --reason "…"' in blocked.stdout
    assert claude.requests == []
    # The printed id is the one `specflow secrets allow` takes; the value then passes to
    # the model, which judges the change as any other.
    allowed = run("secrets", "allow", finding_id, "--reason", "documented example key")
    assert allowed.exit_code == 0, allowed.output
    claude.script(Text(review_reply()))
    passed = run("review")
    assert passed.exit_code == 0 and passed.stdout.startswith("specflow review: PASS")
    assert len(claude.requests) == 1
    # Another value of the same rule is still a secret.
    _stage(repo, "other.py", 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLG"\n')
    again = run("review")
    assert again.exit_code == 1 and "BLOCKED" in again.stdout
    assert len(claude.requests) == 1


def test_removing_an_allowlist_entry_blocks_the_change_again(
    repo: Path, claude: AnthropicServer
) -> None:
    # the review memo answers a re-run of the same change; the allowlist is one of its inputs
    _stage(repo, "settings.py", f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n')
    finding_id = re.findall(r"id ([a-z0-9-]+:[0-9a-f]{16})\)", run("review").stdout)[0]
    assert run("secrets", "allow", finding_id, "--reason", "example").exit_code == 0
    claude.script(Text(review_reply()))
    assert run("review").exit_code == 0
    assert run("review").stdout.startswith("specflow review: PASS (cached)")
    (repo / ".specflow/secrets-allow.toml").unlink()
    blocked = run("review")
    assert blocked.exit_code == 1 and "BLOCKED" in blocked.stdout


def test_a_secret_written_into_a_finding_is_never_printed_stored_or_annotated(
    repo: Path, tmp_path: Path
) -> None:
    import secrets as random_source
    import string

    # A fake GitHub token, made at run time from the alphabet real ones use: hex alone sits
    # near the rule's entropy floor, and about one run in ten fell below it.
    alphabet = string.ascii_letters + string.digits
    token = "ghp_" + "".join(random_source.choice(alphabet) for _ in range(36))
    _stage(repo, "app.py", "x = compute()\n")
    finding = f"- [MINOR] app.py:1 — Logging — the token {token} leaks. Evidence: `x = compute()`"
    reply = tmp_path / "r.md"
    reply.write_text(review_reply([finding]))
    recorded = run("review", "--staged", "--reply", str(reply))
    assert recorded.exit_code == 0, recorded.output
    assert token not in recorded.output and "«secret:github-token:" in recorded.output
    again = run("review", "--staged", "--format", "github")
    assert token not in again.output and "::warning" in again.output
    for stored in (repo / ".specflow").rglob("*"):
        if stored.is_file():
            assert token not in stored.read_text(errors="replace"), stored
