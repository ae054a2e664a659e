"""The gate's four outcomes through a real `git commit` and the installed hook.

The handoff gate: without a key, `specflow review --staged --reply FILE` records the
verdict for that exact staged change and the next commit enforces it, with no model call.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import git
from tests.fakes.anthropic_server import AnthropicServer
from tests.helpers import fresh_run, run
from tests.samples import review_reply

BLOCKING = "- [MAJOR] app.py:1 — Error propagation — swallowed. Evidence: `x = 1`"
REPLY = ".specflow/cache/review/handoff/review.reply.md"


def _stage(repo: Path, text: str) -> None:
    (repo / "app.py").write_text(text)
    git(repo, "add", "app.py")


class Commit(NamedTuple):
    returncode: int
    output: str  # git hands the hook's stdout and stderr to its own stderr


def _commit(repo: Path, message: str, **env: str) -> Commit:
    done = subprocess.run(
        ["git", "commit", "-qm", message],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    return Commit(done.returncode, done.stdout + done.stderr)


def _subjects(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s").splitlines()


@pytest.fixture
def hooked(repo: Path) -> Path:
    assert "installed" in run("hook", "install").output
    return repo


def test_handoff_verdicts_are_recorded_and_enforced_by_the_commit(hooked: Path) -> None:
    repo = hooked
    _stage(repo, "x = 1\n")
    first = run("review", "--staged")
    assert first.exit_code == 0
    assert first.stdout.startswith("specflow review: NOT REVIEWED — no model configured")
    assert f"to review it: specflow review --staged --reply {REPLY}" in first.stdout
    assert "PASS" not in first.stdout
    (repo / REPLY).write_text(review_reply([BLOCKING]))
    recorded = run("review", "--staged", "--reply", REPLY)
    assert recorded.exit_code == 1 and recorded.stdout.startswith("specflow review: FAIL")
    # The commit enforces the recorded FAIL (no key, no model: only the record can say FAIL).
    blocked = _commit(repo, "blocked")
    assert blocked.returncode == 1
    assert "specflow review: FAIL" in blocked.output
    assert _subjects(repo) == ["initial"]
    # A later --reply for the same change replaces the verdict.
    (repo / REPLY).write_text(review_reply())
    assert run("review", "--staged", "--reply", REPLY).exit_code == 0
    passed = _commit(repo, "passes")
    assert passed.returncode == 0, passed.output
    assert "specflow review: PASS (cached)" in passed.output
    assert _subjects(repo) == ["passes", "initial"]


def test_a_different_staged_change_is_not_reviewed(hooked: Path) -> None:
    repo = hooked
    _stage(repo, "x = 1\n")
    run("review", "--staged")
    (repo / REPLY).write_text(review_reply([BLOCKING]))
    assert run("review", "--staged", "--reply", REPLY).exit_code == 1
    _stage(repo, "x = 2\n")  # not the change the verdict was recorded for
    other = _commit(repo, "other change")
    assert other.returncode == 0, other.output
    assert "specflow review: NOT REVIEWED — no model configured" in other.output
    assert "PASS" not in other.output
    assert _subjects(repo) == ["other change", "initial"]


def test_in_ci_an_unreviewed_commit_fails_closed(
    hooked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stage(hooked, "x = 1\n")
    ci = _commit(hooked, "ci", CI="true")
    assert ci.returncode == 1  # the hook exits 3; git reports any hook failure as 1
    assert "specflow review: NOT REVIEWED — no model credentials in CI" in ci.output
    assert _subjects(hooked) == ["initial"]
    assert run("review", "--staged").exit_code == 0  # locally: fail-open
    monkeypatch.setenv("CI", "true")
    assert run("review", "--staged").exit_code == 3


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"SPECFLOW_SKIP_REVIEW": "1"}, "skipped: SPECFLOW_SKIP_REVIEW=1"),
        ({"SKIP": "ruff,specflow-review"}, "skipped: SKIP=specflow-review (pre-commit)"),
    ],
)
def test_skipping_is_explicit_and_recorded(hooked: Path, env: dict[str, str], reason: str) -> None:
    repo = hooked
    assert run("new", "A task").exit_code == 0
    _stage(repo, "x = 1\n")
    skipped = _commit(repo, "skipped", **env)
    assert skipped.returncode == 0, skipped.output
    assert f"specflow review: NOT REVIEWED — {reason}" in skipped.output
    assert "PASS" not in skipped.output
    transcript = next((repo / ".specflow/tasks").glob("*/transcript.jsonl"))
    (record,) = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert record["stage"] == "review" and record["kind"] == "skipped"
    assert record["note"] == reason
    log = run("log", "--json")
    review = json.loads(log.stdout)["stages"]["review"]
    assert (review["skipped"], review["calls"]) == (1, 0)  # a skip is no model call
    assert "review: skipped 1 time(s)" in run("log").stdout


def test_a_near_miss_skip_value_does_not_skip(hooked: Path) -> None:
    _stage(hooked, "x = 1\n")
    result = _commit(hooked, "not skipped", SPECFLOW_SKIP_REVIEW="0", SKIP="specflow-reviewer")
    assert "skipped" not in result.output
    assert "NOT REVIEWED — no model configured" in result.output


def test_unreachable_provider_is_not_reviewed_locally_and_fails_in_ci(hooked: Path) -> None:
    repo = hooked
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text("[anthropic]\nmax_retries = 0\n")
    env = {"ANTHROPIC_API_KEY": "sk-ant-test-key", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    _stage(repo, "x = 1\n")
    ci = _commit(repo, "ci", CI="true", **env)
    assert ci.returncode != 0
    assert "specflow review: NOT REVIEWED — the review did not run: could not reach" in ci.output
    local = _commit(repo, "local", **env)
    assert local.returncode == 0, local.output
    assert "specflow review: NOT REVIEWED — the review did not run" in local.output
    assert "sk-ant-test-key" not in local.output


def _read_only(folder: Path, command: list[str], env: dict[str, str]) -> Commit:
    """Run *command* with *folder* mounted read-only (a private mount namespace), else skip."""
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99; shift; exec "$@"'
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", str(folder)]
        + command,
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode == 99 or "unshare failed" in done.stderr:
        pytest.skip(f"no read-only bind mount here (needs a mount namespace): {done.stderr}")
    return Commit(done.returncode, done.stdout + done.stderr)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare(1) is not installed")
def test_a_read_only_specflow_folder_is_not_reviewed_never_a_traceback(
    repo: Path, claude: AnthropicServer
) -> None:
    # As root, chmod does not stop a write: a read-only bind mount does.
    (repo / ".specflow").mkdir()
    _stage(repo, "x = 1\n")
    claude.default = review_reply()
    command = [sys.executable, "-m", "specflow", "review", "--staged"]
    local = _read_only(repo / ".specflow", command, dict(os.environ))
    assert local.returncode == 0, local.output
    assert local.output.startswith(
        "specflow review: NOT REVIEWED — .specflow/ cannot be written (Read-only file system"
    )
    assert "Traceback" not in local.output and "PASS" not in local.output
    ci = _read_only(repo / ".specflow", command, {**os.environ, "CI": "true"})
    assert ci.returncode == 3, ci.output
    assert "NOT REVIEWED — .specflow/ cannot be written" in ci.output


def test_a_recorded_verdict_is_enforced_without_importing_an_sdk(repo: Path) -> None:
    _stage(repo, "x = 1\n")
    run("review", "--staged")
    (repo / REPLY).write_text(review_reply([BLOCKING]))
    assert run("review", "--staged", "--reply", REPLY).exit_code == 1
    done = fresh_run(
        repo,
        ["review", "--staged"],  # the verdict cache answers (and the memo is filled)
        ["review", "--staged"],  # the memo answers
        watch=("anthropic", "openai", "httpx2", "pydantic"),
    )
    assert done.codes == [1, 1]
    assert done.output.count("specflow review: FAIL (cached)") == 2
    assert done.loaded == ["pydantic"]  # the config was loaded once; no SDK ever


def test_a_skip_follows_the_fail_open_policy(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stage(repo, "x = 1\n")
    monkeypatch.setenv("SPECFLOW_SKIP_REVIEW", "1")
    assert run("review", "--staged").exit_code == 0  # locally: open
    monkeypatch.setenv("CI", "true")
    ci = run("review", "--staged", "--json")
    assert ci.exit_code == 3  # in CI: closed, as every NOT REVIEWED
    assert json.loads(ci.stdout)["outcome"] == "NOT REVIEWED"
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text("[review]\nfail_closed_in_ci = false\n")
    assert run("review", "--staged").exit_code == 0


def test_a_skip_with_a_broken_config_still_skips_and_says_so(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stage(repo, "x = 1\n")
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text("[review\nthreshold = 'MAJOR'\n")
    assert run("review", "--staged").exit_code == 2  # the near miss: no skip, the error
    monkeypatch.setenv("SPECFLOW_SKIP_REVIEW", "1")
    skipped = run("review", "--staged", "--json")
    assert skipped.exit_code == 0, skipped.output  # locally, the defaults' policy: open
    data = json.loads(skipped.stdout)
    assert data["outcome"] == "NOT REVIEWED" and data["reason"].startswith("skipped")
    (note,) = data["notes"]
    assert note.startswith("the config did not load, so this skip used the review defaults: ")
    assert "config.toml: not valid TOML" in note
    monkeypatch.setenv("CI", "true")
    assert run("review", "--staged").exit_code == 3  # in CI the defaults fail closed


def test_a_skip_reads_like_any_outcome_and_names_the_review_it_skipped(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECFLOW_SKIP_REVIEW", "1")
    skipped = json.loads(run("review", "--range", "HEAD~0..HEAD", "--json").stdout)
    monkeypatch.delenv("SPECFLOW_SKIP_REVIEW")
    reviewed = json.loads(run("review", "--range", "HEAD~0..HEAD", "--json").stdout)
    assert set(skipped) == set(reviewed)  # the same JSON shape as any other outcome
    assert skipped["outcome"] == "NOT REVIEWED" and skipped["reason"].startswith("skipped")
    assert skipped["next_command"].startswith("specflow review --range HEAD~0..HEAD ")
