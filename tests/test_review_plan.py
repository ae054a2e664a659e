"""A PASS review marks the planned files it covered `reviewed` in the task's plan."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from specflow.gitx.diffs import parse_diff
from specflow.stages.review.covered import apply_diff
from tests.conftest import git
from tests.support.helpers import run, specced_task
from tests.support.samples import SPEC_REPLY_NO_UNKNOWNS, implement_reply, review_reply
from tests.support.scripted import ScriptedProvider

SLUG = "exporter"
COLLECTOR = "src/exporter/collector.py"
SERVER = "src/exporter/server.py"
CODE = "import os\n\n\ndef collect() -> str:\n    return os.getcwd()\n"
BLOCKING = f"- [MAJOR] {COLLECTOR}:5 — Error propagation — unchecked. Evidence: `os.getcwd()`"


def _plan() -> dict[str, str]:
    data = json.loads(run("status", "--json").output)
    row = next(t for t in data["tasks"] if t["slug"] == SLUG)
    return {e["path"]: e["state"] for e in row["plan"]}


@pytest.fixture
def written(repo: Path, tmp_path: Path, scripted: ScriptedProvider) -> Path:
    specced_task(tmp_path, SLUG, SPEC_REPLY_NO_UNKNOWNS)
    scripted.enqueue(implement_reply(COLLECTOR, CODE))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert _plan() == {COLLECTOR: "written", SERVER: "pending"}
    git(repo, "add", COLLECTOR)
    return repo


def test_a_pass_marks_the_planned_file_reviewed_and_an_edit_undoes_it(
    written: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(review_reply())
    result = run("review")
    assert result.exit_code == 0 and result.stdout.startswith("specflow review: PASS")
    assert f"plan of `{SLUG}`: reviewed {COLLECTOR}" in result.stdout
    assert _plan() == {COLLECTOR: "reviewed", SERVER: "pending"}
    # The user edits the file: the plan says so.
    (written / COLLECTOR).write_text(CODE + "\nEXTRA = 1\n")
    assert _plan()[COLLECTOR] == "changed since"


def test_a_fail_marks_nothing(written: Path, scripted: ScriptedProvider) -> None:
    scripted.enqueue(review_reply([BLOCKING]))
    assert run("review").exit_code == 1
    assert _plan()[COLLECTOR] == "written"


def test_a_reviewed_content_other_than_what_specflow_wrote_is_not_marked(
    written: Path, scripted: ScriptedProvider
) -> None:
    # The staged copy differs from what specflow wrote (then the disk is put back): the
    # review saw other content, so the file is not reviewed.
    (written / COLLECTOR).write_text(CODE.replace("os.getcwd()", "os.sep"))
    git(written, "add", COLLECTOR)
    (written / COLLECTOR).write_text(CODE)
    scripted.enqueue(review_reply())
    assert run("review").exit_code == 0
    assert _plan()[COLLECTOR] == "written"


def test_a_recorded_handoff_pass_marks_the_file(repo: Path, tmp_path: Path) -> None:
    # No key: every stage is a handoff, brought back with --reply.
    specced_task(tmp_path, SLUG, SPEC_REPLY_NO_UNKNOWNS)
    code = tmp_path / "implement.md"
    code.write_text(implement_reply(COLLECTOR, CODE))
    assert run("implement", "--file", COLLECTOR, "--reply", str(code)).exit_code == 0
    (repo / "src/exporter/__init__.py").write_text("")
    git(repo, "add", "src")
    first = run("review", "--staged")
    assert first.exit_code == 0 and "NOT REVIEWED" in first.stdout  # the prompt is written
    assert _plan()[COLLECTOR] == "written"
    reply = tmp_path / "verdict.md"
    reply.write_text(review_reply())
    assert run("review", "--staged", "--reply", str(reply)).exit_code == 0
    assert _plan()[COLLECTOR] == "reviewed"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb\nc\n", "x\na\nb\nc\ny\n"),
        ("a\nb", "a\nb\nc\n"),
        ("a\nb\n", "a\nb"),
        ("l1\r\nl2\r\n", "l1\r\nl2 changed\r\n"),
        ("".join(f"{i}\n" for i in range(40)), "".join(f"{i}\n" for i in range(40) if i % 9)),
    ],
)
def test_the_diff_applied_to_the_old_content_gives_the_new(repo: Path, old: str, new: str) -> None:
    (repo / "f.txt").write_bytes(old.encode())
    git(repo, "add", "f.txt")
    git(repo, "commit", "-qm", "old")
    (repo / "f.txt").write_bytes(new.encode())
    raw = subprocess.run(["git", "diff"], cwd=repo, capture_output=True, check=True).stdout
    (file,) = parse_diff(raw.decode())  # bytes: a text-mode pipe would drop the CRs
    assert apply_diff(file, old) == new
