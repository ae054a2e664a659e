"""The review of a task holds the task's stage lock; a task whose stage is running is NOT
REVIEWED (never a blocked commit, never a wait); the gate writes the cache through the
workspace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from specflow.stages.review import memo
from specflow.store.lock import TaskBusy
from specflow.store.workspace import Workspace
from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run, specced_task
from tests.support.samples import SPEC_REPLY_NO_UNKNOWNS, review_reply

SLUG = "exporter"
COLLECTOR = "src/exporter/collector.py"
HOLDER = "specflow implement --file src/exporter/collector.py"
HOLD = """
import sys
from pathlib import Path
from specflow.store.workspace import Workspace
ws = Workspace(Path(sys.argv[1]))
with ws.stage_lock(ws.load(sys.argv[2]), sys.argv[3]):
    print("held", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def staged(repo: Path, tmp_path: Path) -> Path:
    specced_task(tmp_path, SLUG, SPEC_REPLY_NO_UNKNOWNS)
    (repo / COLLECTOR).parent.mkdir(parents=True)
    (repo / COLLECTOR).write_text("X = 1\n")
    git(repo, "add", COLLECTOR)
    return repo


@pytest.fixture
def busy(staged: Path) -> Iterator[int]:
    """Another process runs a stage of the task (holds its lock); yields its pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(staged), SLUG, HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    try:
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_a_busy_task_is_not_reviewed_naming_the_command_and_pid(
    busy: int, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run("review", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["outcome"] == "NOT REVIEWED"
    assert HOLDER in data["reason"] and f"pid {busy}" in data["reason"]
    assert data["next_command"] == "specflow review --staged once it ends"
    assert claude.requests == []
    monkeypatch.setenv("CI", "true")
    assert run("review").exit_code == 3  # fails closed in CI, as any NOT REVIEWED


def test_the_review_runs_once_the_stage_ends(staged: Path, claude: AnthropicServer) -> None:
    # near miss of the above: nothing holds the lock, so the review runs
    claude.script(Text(review_reply()))
    result = run("review")
    assert result.exit_code == 0 and result.stdout.startswith("specflow review: PASS")
    assert len(claude.requests) == 1


def test_the_review_holds_the_task_lock_while_the_model_answers(
    staged: Path, claude: AnthropicServer
) -> None:
    ws = Workspace(staged)
    seen: list[str] = []

    def answer(_request: object) -> str:
        try:
            with ws.stage_lock(ws.load(SLUG), "specflow spec"):
                seen.append("free")
        except TaskBusy as exc:
            seen.append(str(exc))
        return review_reply()

    claude.default = answer
    assert run("review").exit_code == 0
    assert len(seen) == 1 and "`specflow review --staged` (pid" in seen[0]
    # released afterwards
    with ws.stage_lock(ws.load(SLUG), "specflow spec"):
        pass


def test_the_cache_is_ignored_through_the_workspace(staged: Path, claude: AnthropicServer) -> None:
    claude.script(Text(review_reply()))
    assert run("review").exit_code == 0
    ws = Workspace(staged)
    assert (ws.cache_dir / ".gitignore").read_text().strip().endswith("*")
    verdicts = list(ws.review_cache_dir.glob("*.json"))
    assert any(p.name.startswith("memo-") for p in verdicts)
    assert any(not p.name.startswith("memo-") for p in verdicts)
    assert memo._cache_dir(staged) == ws.review_cache_dir  # the memo's fast-path spelling
    assert "cache" not in git(staged, "status", "--porcelain", "--untracked-files=all")


@pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare(1) is not installed")
def test_a_read_only_specflow_folder_with_a_task_is_not_reviewed(staged: Path) -> None:
    # The lock file cannot be created: that is the folder's state, not a busy task.
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99; shift; exec "$@"'
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]
        + [str(staged / ".specflow"), sys.executable, "-m", "specflow", "review", "--staged"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=staged,
    )
    if done.returncode == 99 or "unshare failed" in done.stderr:
        pytest.skip(f"no read-only bind mount here (needs a mount namespace): {done.stderr}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(
        "specflow review: NOT REVIEWED — .specflow/ cannot be written (Read-only file system"
    )
    assert "busy" not in done.stdout and "Traceback" not in done.stderr
