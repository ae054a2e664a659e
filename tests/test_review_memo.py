"""The review memo: a change judged before is answered from the memo, and only when nothing
the review reads has changed since."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import specflow.stages.review.gate
from specflow.stages.review import memo as review_memo
from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import fresh_run, run
from tests.support.samples import SPEC_REPLY, review_reply

MAJOR = "- [MAJOR] app.py:1 — Error propagation — the error is swallowed. Evidence: `x = 1`"
MINOR = "- [MINOR] app.py:1 — Logging — print instead of a logger. Evidence: `x = 1`"


@pytest.fixture
def full_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the reviews that took the ordinary path (not answered by the memo)."""
    calls: list[int] = []
    real = specflow.stages.review.gate.run_review

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(specflow.stages.review.gate, "run_review", counted)
    return calls


def _stage(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)
    git(repo, "add", name)


def _memos(repo: Path) -> list[Path]:
    return sorted((repo / ".specflow/cache/review").glob("memo-*.json"))


def test_a_repeat_is_answered_without_the_config_or_pydantic(
    repo: Path, claude: AnthropicServer
) -> None:
    _stage(repo, "app.py", "x = 1\n")
    claude.script(Text(review_reply([MINOR])))
    assert run("review").exit_code == 0
    heavy = ("pydantic", "specflow.config", "specflow.store.workspace", "anthropic")
    done = fresh_run(repo, ["review"], watch=heavy)
    assert (done.codes, done.loaded) == ([0], [])
    assert "specflow review: PASS (cached)\n  [MINOR] app.py:1 — Logging" in done.output
    assert len(claude.requests) == 1


def test_the_memo_prints_what_the_verdict_cache_prints(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch, full_runs: list[int]
) -> None:
    _stage(repo, "app.py", "x = 1\n")
    claude.script(Text(review_reply([MAJOR])))
    first = run("review")
    assert first.exit_code == 1 and "specflow review: FAIL\n" in first.stdout
    monkeypatch.setenv("SPECFLOW_REVIEW_MEMO", "0")
    cached_text, cached_json = run("review"), run("review", "--json")
    monkeypatch.delenv("SPECFLOW_REVIEW_MEMO")
    assert len(full_runs) == 3  # the memo was off: the verdict cache answered
    memo_text, memo_json = run("review"), run("review", "--json")
    assert len(full_runs) == 3  # both answered by the memo
    assert memo_text.exit_code == cached_text.exit_code == 1
    assert memo_json.exit_code == cached_json.exit_code == 1
    assert memo_text.stdout == cached_text.stdout
    assert memo_text.stdout.startswith("specflow review: FAIL (cached)\n  [MAJOR] app.py:1")
    assert json.loads(memo_json.stdout) == json.loads(cached_json.stdout)
    assert json.loads(memo_json.stdout)["cached"] is True
    assert len(claude.requests) == 1


def _spec_task(repo: Path) -> None:
    assert run("new", "Add the app module").exit_code == 0
    spec = SPEC_REPLY.replace("`src/exporter/server.py`", "`app.py`")
    (repo / ".specflow/tasks/add-the-app-module/spec.md").write_text(spec)


def _edit_config(repo: Path, text: str) -> None:
    path = repo / ".specflow/config.toml"
    path.write_text(path.read_text() + text)


CHANGES: dict[str, Callable[[Path, pytest.MonkeyPatch], None]] = {
    "the diff": lambda repo, _: _stage(repo, "app.py", "x = 2\n"),
    "the spec": lambda repo, _: (repo / ".specflow/tasks/add-the-app-module/spec.md").write_text(
        SPEC_REPLY.replace("`src/exporter/server.py`", "`app.py` and `lib.py`")
    ),
    "the config": lambda repo, _: _edit_config(repo, "\n# a comment changes the bytes\n"),
    "a rules override": lambda repo, _: (
        (repo / ".specflow/rules").mkdir()
        or (repo / ".specflow/rules/rules.md").write_text("# Rules\n\n- Never print.\n")
    ),
    "a template override": lambda repo, _: (
        (repo / ".specflow/templates").mkdir()
        or (repo / ".specflow/templates/review.md.j2").write_text("Review the diff.\n")
    ),
    "the current task": lambda repo, _: run("new", "Another task") and None,
    "SPECFLOW_MODEL": lambda _, mp: mp.setenv("SPECFLOW_MODEL", "claude-opus-4-5"),
    "CI": lambda _, mp: mp.setenv("CI", "true"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_to_what_the_review_reads_is_a_miss(
    change: str,
    repo: Path,
    claude: AnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
    full_runs: list[int],
) -> None:
    assert run("init").exit_code == 0
    _spec_task(repo)
    _stage(repo, "app.py", "x = 1\n")
    claude.default = review_reply()
    assert run("review").exit_code == 0
    assert run("review").exit_code == 0
    assert len(full_runs) == 1  # the repeat came from the memo
    CHANGES[change](repo, monkeypatch)
    assert run("review").exit_code == 0
    assert len(full_runs) == 2, f"a change to {change} was answered from the memo"


def test_a_stricter_threshold_in_the_config_is_not_hidden_by_the_memo(
    repo: Path, claude: AnthropicServer, full_runs: list[int]
) -> None:
    assert run("init").exit_code == 0
    _stage(repo, "app.py", "x = 1\n")
    claude.script(Text(review_reply([MINOR])))
    assert run("review").exit_code == 0
    assert run("review").exit_code == 0
    config = repo / ".specflow/config.toml"
    config.write_text(config.read_text().replace('threshold = "MAJOR"', 'threshold = "MINOR"'))
    # The threshold is stated in the prompt, so a new threshold is a new review.
    claude.script(Text(review_reply([MINOR]).replace("PASS", "FAIL")))
    stricter = run("review")
    assert stricter.exit_code == 1 and "Blocked: findings at or above MINOR." in stricter.stdout
    assert run("review", "--threshold", "MAJOR").exit_code == 0  # the flag is part of the key
    assert len(full_runs) == 3
    assert len(claude.requests) == 2  # the verdict cache answered the MAJOR review again


def test_results_without_a_cached_verdict_are_not_remembered(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude.default = review_reply()
    _stage(repo, "app.py", "x = 1\n")
    assert run("review", "--no-cache").exit_code == 0
    assert _memos(repo) == []
    (repo / ".specflow/config.toml").write_text("[review]\ncache = false\n")
    _stage(repo, "app.py", "x = 2\n")
    assert run("review").exit_code == 0
    assert _memos(repo) == []
    (repo / ".specflow/config.toml").unlink()
    monkeypatch.delenv("ANTHROPIC_API_KEY")  # handoff: a prompt, no verdict
    _stage(repo, "app.py", "x = 3\n")
    assert "the review prompt is in" in run("review").stdout
    reply = repo.parent / "verdict.md"
    reply.write_text(review_reply())
    assert run("review", "--reply", str(reply)).exit_code == 0
    assert _memos(repo) == []
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # refused: fails open
    (repo / ".specflow/config.toml").write_text("[anthropic]\nmax_retries = 0\n")
    _stage(repo, "app.py", "x = 4\n")
    assert "the review did not run" in run("review").stdout
    assert _memos(repo) == []
    assert len(claude.requests) == 2


def test_a_damaged_memo_is_a_miss(
    repo: Path, claude: AnthropicServer, full_runs: list[int]
) -> None:
    _stage(repo, "app.py", "x = 1\n")
    claude.script(Text(review_reply([MAJOR])))
    assert run("review").exit_code == 1
    (memo,) = _memos(repo)
    for damage in ("{not json", '{"key": "another"}', json.dumps({"key": memo.stem})):
        memo.write_text(damage)
        again = run("review")
        assert again.exit_code == 1 and "specflow review: FAIL (cached)" in again.stdout
    assert len(full_runs) == 4
    assert len(claude.requests) == 1


def test_a_skipped_task_warns_on_every_run(
    repo: Path, claude: AnthropicServer, full_runs: list[int]
) -> None:
    bad = repo / ".specflow/tasks/zz"
    bad.mkdir(parents=True)
    (bad / "task.json").write_text('{"slug": 3}')
    _stage(repo, "app.py", "x = 1\n")
    claude.default = review_reply()
    for _ in range(2):
        result = run("review")
        assert result.exit_code == 0
        assert "review: skipping a task: .specflow/tasks/zz/task.json" in result.stderr
    assert _memos(repo) == []
    assert len(full_runs) == 2


def test_the_key_covers_packaged_templates_and_options(repo: Path) -> None:
    base = review_memo.memo_key(repo, "diff", ("staged", None), {})
    assert review_memo.memo_key(repo, "diff", ("staged", None), {}) == base
    assert review_memo.memo_key(repo, "diff", ("staged", "MINOR"), {}) != base
    assert review_memo.memo_key(repo, "diff!", ("staged", None), {}) != base
    assert review_memo.memo_key(repo, "diff", ("staged", None), {"CI": "true"}) != base
    assert review_memo.memo_key(repo, "diff", ("staged", None), {}, cwd=repo / "sub") != base
    packaged = [str(p) for p in review_memo._inputs(repo)]
    assert any(p.endswith("review.md.j2") for p in packaged)
    assert any(p.endswith("rules.md") for p in packaged)


def test_a_verdict_replaced_by_no_cache_is_not_answered_by_the_memo(
    repo: Path, claude: AnthropicServer
) -> None:
    _stage(repo, "app.py", "x = 1\n")
    claude.script(Text(review_reply()))
    assert run("review").exit_code == 0  # PASS, remembered
    claude.script(Text(review_reply([MAJOR])))
    assert run("review", "--no-cache").exit_code == 1  # the model changed its mind
    again = run("review")  # what the hook runs next
    assert again.exit_code == 1
    assert again.stdout.startswith("specflow review: FAIL (cached)")
    assert len(claude.requests) == 2


def test_a_deleted_verdict_is_asked_again(repo: Path, claude: AnthropicServer) -> None:
    _stage(repo, "app.py", "x = 1\n")
    claude.default = review_reply()
    assert run("review").exit_code == 0
    for verdict in (repo / ".specflow/cache/review").glob("[0-9a-f]*.json"):
        verdict.unlink()
    assert run("review").exit_code == 0
    assert len(claude.requests) == 2


def test_nothing_is_remembered_when_an_input_changed_during_the_review(
    repo: Path, claude: AnthropicServer
) -> None:
    _stage(repo, "app.py", "x = 1\n")
    config = repo / ".specflow/config.toml"

    def edit_then_answer(request: object) -> str:
        config.parent.mkdir(exist_ok=True)
        config.write_text('[review]\nthreshold = "MINOR"\n')  # edited while the model thinks
        return review_reply([MINOR])

    claude.default = edit_then_answer
    assert run("review").exit_code == 0  # judged with the threshold read before the edit
    assert _memos(repo) == []
    assert run("review").exit_code == 1  # the edited threshold blocks the MINOR finding


def test_a_memo_that_cannot_be_written_does_not_fail_the_review(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, text: str) -> None:
        if path.name.startswith("memo-"):
            raise PermissionError(13, "Permission denied", str(path))
        real(path, text)

    real = review_memo.atomic_write_text
    monkeypatch.setattr(review_memo, "atomic_write_text", refuse)
    _stage(repo, "app.py", "x = 1\n")
    claude.default = review_reply()
    for _ in range(2):
        result = run("review")
        assert result.exit_code == 0 and "specflow review: PASS" in result.stdout
    assert _memos(repo) == []


def test_the_key_follows_specflow_modules_and_odd_file_names(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "module.py"
    module.write_text("A = 1\n")
    monkeypatch.setattr(review_memo, "_modules", lambda: [module])
    before = review_memo.memo_key(repo, "diff", (), {})
    module.write_text("A = 22\n")  # an edited checkout keeps its version number
    assert review_memo.memo_key(repo, "diff", (), {}) != before
    odd = repo / ".specflow/tasks" / os.fsdecode(b"caf\xe9")  # not UTF-8
    odd.mkdir(parents=True)
    (odd / "task.json").write_text("{}")
    assert review_memo.memo_key(repo, "diff", (), {}, cwd=odd) != before


def test_a_recorded_verdict_is_enforced_with_the_verdict_cache_off(
    repo: Path, claude: AnthropicServer
) -> None:
    (repo / ".specflow").mkdir(exist_ok=True)
    (repo / ".specflow/config.toml").write_text("[review]\ncache = false\n")
    claude.default = review_reply()  # the model would pass the change
    _stage(repo, "app.py", "try:\n    x()\nexcept:\n    pass\n")
    finding = "- [MAJOR] app.py:3 — Error propagation — swallowed. Evidence: `except:`"
    reply = repo.parent / "verdict.md"
    reply.write_text(review_reply([finding]))
    recorded = run("review", "--reply", str(reply))
    assert recorded.exit_code == 1
    assert "the next review of it enforces it" in recorded.output
    again = run("review")
    assert again.exit_code == 1, again.output  # the recorded FAIL, not the model's PASS
    assert claude.requests == []
    # the near miss: a verdict the model gave is not reused while the cache is off
    _stage(repo, "app.py", "x = 1\n")
    assert run("review").exit_code == 0
    assert run("review").exit_code == 0
    assert len(claude.requests) == 2
    # and --no-cache asks the model even over a recorded verdict, which it leaves in place
    _stage(repo, "app.py", "try:\n    x()\nexcept:\n    pass\n")
    assert run("review", "--no-cache").exit_code == 0
    assert len(claude.requests) == 3
    assert run("review").exit_code == 1
    assert len(claude.requests) == 3


@pytest.mark.parametrize("damage", ["[]", '"x"', "{}", '{"reply": []}', "not json"])
def test_a_damaged_verdict_cache_entry_is_a_miss(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    monkeypatch.setenv("SPECFLOW_REVIEW_MEMO", "0")
    claude.default = review_reply()
    _stage(repo, "app.py", "x = 1\n")
    assert run("review").exit_code == 0
    (entry,) = (repo / ".specflow" / "cache" / "review").glob("*.json")
    entry.write_text(damage)
    again = run("review")
    assert again.exit_code == 0, again.output
    assert "Traceback" not in again.output
    assert len(claude.requests) == 2  # asked again
