"""Hand-edited files, odd input and hostile paths: clear errors, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from specflow.config import load_config
from specflow.errors import ConfigError
from specflow.stages.implement.stage import Target, blocking_unknowns
from specflow.store.task import Task, UnknownItem
from tests.conftest import git
from tests.support.fakes import Delay, Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run
from tests.support.samples import (
    BLOCKER_REPLY,
    SCOPE_REPLY,
    SPEC_REPLY,
    SPEC_REPLY_NO_UNKNOWNS,
    implement_reply,
)

SLUG = "exporter"


def _reply(tmp_path: Path, text: str, name: str = "reply.md") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _scoped(tmp_path: Path) -> Path:
    assert run("new", "Prometheus exporter", "--name", SLUG).exit_code == 0
    assert run("scope", "--reply", _reply(tmp_path, SCOPE_REPLY, "s.md")).exit_code == 0
    return Path.cwd() / ".specflow" / "tasks" / SLUG


def _specced(tmp_path: Path, spec: str = SPEC_REPLY_NO_UNKNOWNS) -> Path:
    task = _scoped(tmp_path)
    for n in range(1, 6):
        run("answer", str(n), f"answer {n}")
    assert run("spec", "--reply", _reply(tmp_path, spec, "spec.md")).exit_code == 0
    return task


# -- describe and answers --------------------------------------------------------------------


def test_headings_inside_the_description_stay_in_the_prompt(repo: Path) -> None:
    run("new", "Multi line title\n## Notes\nsecond para\n\n# H1 inside", "--name", "multi")
    prompt = run("prompt", "scope").output
    assert "## Notes" in prompt and "second para" in prompt and "# H1 inside" in prompt


def test_unclosed_fence_in_answers_is_caught(repo: Path, tmp_path: Path) -> None:
    task = _scoped(tmp_path)
    answers = task / "answers.md"
    lines = answers.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("## 2."))
    lines.insert(at + 2, "```\n")  # an answer that opens a fence and never closes it
    answers.write_text("".join(lines))
    result = run("answer", "1", "one")
    assert result.exit_code == 2
    assert ".specflow/tasks/exporter/answers.md does not match scope.md (questions" in result.stderr
    assert "unclosed ``` fence" in result.stderr
    spec = run("spec", "--reply", _reply(tmp_path, SPEC_REPLY, "spec.md"))
    assert spec.exit_code == 2
    assert not (task / "spec.md").exists()


def test_rescoping_a_blocked_task_keeps_the_blocker(repo: Path, tmp_path: Path) -> None:
    run("new", "Prometheus exporter", "--name", SLUG)
    run("scope", "--reply", _reply(tmp_path, BLOCKER_REPLY, "b.md"))
    assert run("scope", "--reply", _reply(tmp_path, SCOPE_REPLY, "s.md")).exit_code == 0
    kept = list((repo / ".specflow/tasks" / SLUG / "rounds").rglob("scope-*.md"))
    assert [k.read_text() for k in kept] == [BLOCKER_REPLY]


# -- task files --------------------------------------------------------------------------------


def test_a_corrupt_task_is_listed_and_reported(repo: Path) -> None:
    run("new", "Good task")
    bad = repo / ".specflow/tasks/zz"
    bad.mkdir()
    (bad / "task.json").write_text("{")
    result = run("status")
    assert result.exit_code == 2
    assert "* good-task  described" in result.stdout
    assert "  zz         corrupt" in result.stdout
    assert result.stderr.startswith("error: .specflow/tasks/zz/task.json is corrupt (")


def test_a_corrupt_task_does_not_block_the_review_gate(repo: Path) -> None:
    bad = repo / ".specflow/tasks/zz"
    bad.mkdir(parents=True)
    (bad / "task.json").write_text('{"slug": 3}')
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "app.py")
    result = run("review")
    assert result.exit_code == 0
    assert (
        "review: skipping a task: .specflow/tasks/zz/task.json is corrupt (slug:" in result.stderr
    )


def test_a_slug_that_points_elsewhere_is_refused(repo: Path, tmp_path: Path) -> None:
    run("new", "Some task")
    task_json = repo / ".specflow/tasks/some-task/task.json"
    data = json.loads(task_json.read_text())
    data["slug"] = "../../../escaped"
    task_json.write_text(json.dumps(data))
    result = run("scope", "--reply", _reply(tmp_path, SCOPE_REPLY))
    assert result.exit_code == 2
    assert "says its slug is '../../../escaped', but it lives in tasks/some-task/" in result.stderr
    assert not (repo.parent.parent / "escaped").exists()


def test_show_reads_only_the_task_folder(repo: Path) -> None:
    run("new", "Some task")
    result = run("show", "../../../../../../etc/hostname")
    assert result.exit_code == 2
    assert "is not an artifact of task `some-task`" in result.stderr
    assert run("show", "../task.json").exit_code == 2


def test_use_refuses_a_path(repo: Path) -> None:
    run("new", "Some task")
    assert run("use", "../tasks/some-task").exit_code == 2


def test_closed_pipe_is_not_a_bug(repo: Path) -> None:
    run("new", "Big task")
    describe = repo / ".specflow/tasks/big-task/describe.md"
    describe.write_text("## Description\n\n" + "line of text\n" * 200_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "specflow", "show", "describe"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait() == 0, err
    assert "bug" not in err and "Traceback" not in err


# -- implement ---------------------------------------------------------------------------------


def _task_with(blocks: str) -> Task:
    return Task(
        slug="t", title="t", unknowns=[UnknownItem(id="U1", what="w", verify="v", blocks=blocks)]
    )


@pytest.mark.parametrize(
    ("blocks", "path", "blocked"),
    [
        ("the label design.", "a.py", True),
        ("the retry policy of the uploader", "src/up.py", True),
        ("the `data.py` schema", "a.py", False),
        ("the `data.py` schema", "pkg/data.py", True),
        ("the cache lifetime in `src/exporter/collector.py`", "src/exporter/collector.py", True),
        ("the cache lifetime in `src/exporter/collector.py`", "src/exporter/server.py", False),
        ("collector.py and server.py", "src/exporter/server.py", True),
        ("src/exporter/collector.py", "other/collector.py", False),
    ],
)
def test_which_unknowns_block_a_file(blocks: str, path: str, blocked: bool) -> None:
    target = Target(Path("/repo") / path, path)
    assert bool(blocking_unknowns(_task_with(blocks), target)) is blocked


def test_force_backup_is_byte_for_byte(repo: Path, tmp_path: Path) -> None:
    task = _specced(tmp_path)
    (repo / "crlf.py").write_bytes(b"x = 2\r\ny = 3\r\n")
    reply = _reply(tmp_path, implement_reply("crlf.py", "x = 1\n"))
    result = run("implement", "--file", "crlf.py", "--allow-unplanned", "--force", "--reply", reply)
    assert result.exit_code == 0, result.output
    (backup,) = (task / "backups").rglob("crlf.py.*")
    assert backup.read_bytes() == b"x = 2\r\ny = 3\r\n"


def test_non_utf8_target_is_left_alone(repo: Path, tmp_path: Path) -> None:
    task = _specced(tmp_path)
    (repo / "latin.py").write_bytes(b"caf\xe9 = 1\r\n")
    reply = _reply(tmp_path, implement_reply("latin.py", "x = 1\n"))
    result = run(
        "implement", "--file", "latin.py", "--allow-unplanned", "--force", "--reply", reply
    )
    assert result.exit_code == 2
    assert "--file latin.py: not UTF-8 text (byte 3)" in result.stderr
    assert (repo / "latin.py").read_bytes() == b"caf\xe9 = 1\r\n"
    assert not (task / "backups").exists()


def test_handoff_continue_command_keeps_force(repo: Path, tmp_path: Path) -> None:
    _specced(tmp_path)
    (repo / "config.json").write_text('{"mine": 2}\n')
    result = run("implement", "--file", "config.json", "--allow-unplanned", "--force")
    assert result.exit_code == 0
    assert (
        "specflow implement --file config.json --allow-unplanned --force --reply" in result.stderr
    )


def test_test_command_timeout(repo: Path, tmp_path: Path) -> None:
    _specced(tmp_path)
    (repo / ".specflow/config.toml").write_text(
        '[stages.implement]\ntest_command = "sleep 5"\ntest_timeout_s = 0.2\n'
    )
    reply = _reply(tmp_path, implement_reply("src/exporter/collector.py", "X = 1\n"))
    result = run("implement", "--file", "src/exporter/collector.py", "--reply", reply)
    assert result.exit_code == 1
    assert "timed out after 0.2 s ([stages.implement] test_timeout_s)" in result.output


def test_thinking_budget_is_checked(repo: Path) -> None:
    config = repo / ".specflow" / "config.toml"
    config.parent.mkdir()
    config.write_text("[stages.scope]\nthinking = 500\n")
    with pytest.raises(ConfigError, match="greater than or equal to 1024"):
        load_config(config)
    config.write_text("[stages.scope]\nthinking = 20000\n")
    with pytest.raises(
        ConfigError, match=r"thinking budget 20000 must be below max_tokens \(16000\)"
    ):
        load_config(config)
    config.write_text('[stages.scope]\nthinking = "adaptive"\n')
    assert load_config(config).stages.scope.thinking == "adaptive"


# -- review --------------------------------------------------------------------------------------


def test_review_in_ci_without_credentials_fails_closed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "app.py")
    monkeypatch.setenv("CI", "true")
    result = run("review")
    assert result.exit_code == 3
    assert result.stdout.startswith("specflow review: NOT REVIEWED — no model credentials in CI")
    assert "PASS" not in result.stdout
    assert run("review", "--fail-open").exit_code == 0


def test_review_leaves_the_users_gitignore_alone(
    repo: Path, anthropic_server: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.root_url)
    anthropic_server.script(Text("## Verdict\n\nPASS\n\n## Findings\n\nNone.\n"))
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "app.py")
    assert run("review").exit_code == 0
    assert not (repo / ".gitignore").exists()
    assert (repo / ".specflow/cache/.gitignore").read_text().endswith("*\n")
    assert "?? .specflow" not in git(repo, "status", "--porcelain")


def test_review_handoff_stays_in_the_cache(repo: Path, tmp_path: Path) -> None:
    _specced(tmp_path)
    (repo / "src/exporter").mkdir(parents=True)
    (repo / "src/exporter/collector.py").write_text("x = 1\n")
    git(repo, "add", "src/exporter/collector.py")
    result = run("review")
    assert result.exit_code == 0
    assert (repo / ".specflow/cache/review/handoff/review.prompt.md").is_file()
    assert not (repo / ".specflow/tasks" / SLUG / "handoff" / "review.prompt.md").exists()


def test_secret_on_a_context_line_is_redacted_in_the_request(
    repo: Path, anthropic_server: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    (repo / "settings.py").write_text(f'A = 1\nGITHUB_TOKEN = "{token}"\nB = 2\n')
    git(repo, "add", "settings.py")
    git(repo, "commit", "-qm", "old secret")
    (repo / "settings.py").write_text(f'A = 1\nGITHUB_TOKEN = "{token}"\nB = 3\n')
    git(repo, "add", "settings.py")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.root_url)
    anthropic_server.script(Text("## Verdict\n\nPASS\n\n## Findings\n\nNone.\n"))
    assert run("review").exit_code == 0
    (request,) = anthropic_server.requests
    assert token not in request.raw.decode()
    assert "«secret:github-token:" in json.dumps(request.body, ensure_ascii=False)


def test_review_timeout_comes_from_the_review_section(
    repo: Path, anthropic_server: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text("[review]\ntimeout_s = 0.5\n")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.root_url)
    anthropic_server.script(Delay(3, Text("late")), Delay(3, Text("late")))
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "app.py")
    result = run("review")
    assert result.exit_code == 0
    assert "[review] timeout_s = 0.5 s per attempt" in result.stdout
    assert len(anthropic_server.requests) == 2  # one try and one retry, no more


def test_environment_is_clean() -> None:
    assert "ANTHROPIC_API_KEY" not in os.environ
