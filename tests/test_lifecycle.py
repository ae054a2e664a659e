"""The task lifecycle: plan progress in `status`, `show plan`, `specflow done` and the archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run, specced_task
from tests.support.samples import (
    SCOPE_REPLY,
    SPEC_REPLY,
    SPEC_REPLY_NO_UNKNOWNS,
    implement_reply,
    review_reply,
)

SLUG = "exporter"
COLLECTOR = "src/exporter/collector.py"
SERVER = "src/exporter/server.py"


def _write(tmp_path: Path, path: str, code: str) -> None:
    reply = tmp_path / "reply.md"
    reply.write_text(implement_reply(path, code))
    result = run("implement", "--file", path, "--reply", str(reply))
    assert result.exit_code == 0, result.output


@pytest.fixture
def task_dir(repo: Path, tmp_path: Path) -> Path:
    return specced_task(tmp_path, SLUG, SPEC_REPLY_NO_UNKNOWNS)


def test_status_shows_progress_and_the_current_tasks_files(
    task_dir: Path, repo: Path, tmp_path: Path
) -> None:
    assert run("new", "Another task", "--name", "other").exit_code == 0
    assert run("use", SLUG).exit_code == 0
    _write(tmp_path, COLLECTOR, "X = 1\n")
    written = json.loads((task_dir / "task.json").read_text())["files"][0]["written"]
    result = run("status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("* exporter  implementing  1/2 files ")
    assert lines[1] == "  other     described     -           describe.md"
    assert lines[3:] == [
        "Plan of exporter:",
        f"  {COLLECTOR}: written {written}",
        f"  {SERVER}: pending",
    ]
    data = json.loads(run("status", "--json").output)
    row = next(t for t in data["tasks"] if t["slug"] == SLUG)
    assert row["progress"] == "1/2 files"
    assert [(e["path"], e["state"]) for e in row["plan"]] == [
        (COLLECTOR, "written"),
        (SERVER, "pending"),
    ]
    assert row["plan"][0]["written"] == written
    assert next(t for t in data["tasks"] if t["slug"] == "other")["plan"] == []


def test_show_plan_and_an_unknown_artifact(task_dir: Path, tmp_path: Path) -> None:
    _write(tmp_path, COLLECTOR, "X = 1\n")
    result = run("show", "plan")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"1. {COLLECTOR}: written ")
    assert lines[1:] == [f"2. {SERVER}: pending", "(1/2 files written)"]
    unknown = run("show", "plna")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: task `exporter` has no plna yet")
    assert unknown.stderr.endswith("it has: answers, describe, scope, spec, plan\n")


def test_done_refuses_while_planned_files_are_pending(task_dir: Path, tmp_path: Path) -> None:
    _write(tmp_path, COLLECTOR, "X = 1\n")
    result = run("done")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: task `exporter` has 1 planned file(s) not written yet:\n"
        f"  {SERVER}: pending\n"
        "Write them (`specflow next`), or close the task anyway with `specflow done --force`.\n"
    )
    assert json.loads((task_dir / "task.json").read_text())["state"] == "implementing"


def test_done_archives_the_task_and_its_spec_stays_readable(
    task_dir: Path, repo: Path, tmp_path: Path
) -> None:
    from specflow.config import load_config
    from specflow.stages.review.gate import pick_task
    from specflow.stages.session import Session
    from specflow.store.workspace import Workspace

    _write(tmp_path, COLLECTOR, "X = 1\n")
    _write(tmp_path, SERVER, "Y = 1\n")
    spec = (task_dir / "spec.md").read_text()
    result = run("done")
    assert result.exit_code == 0, result.output
    archived = next((repo / ".specflow" / "archive").iterdir())
    assert archived.name.endswith(f"-{SLUG}") and len(archived.name) == len(SLUG) + 11
    assert result.output == (
        f"Task exporter is done; archived in .specflow/archive/{archived.name}/.\n"
        "Its spec: specflow show spec --task exporter\n"
    )
    assert not task_dir.exists()
    assert json.loads((archived / "task.json").read_text())["state"] == "done"
    assert run("show", "spec", "--task", SLUG).output == spec
    assert run("show", "--task", SLUG).output == spec
    assert run("show", "plan", "--task", SLUG).output.endswith("(2/2 files written)\n")
    # not current any more, not listed without --all
    ws = Workspace(repo)
    assert ws.current_slug() is None and ws.slugs() == []
    assert run("status").output.startswith("No tasks yet.")
    listed = json.loads(run("status", "--all", "--json").output)["tasks"]
    assert [(t["slug"], t["state"], t["current"], t["progress"]) for t in listed] == [
        (SLUG, "done", False, "2/2 files")
    ]
    assert listed[0]["archived"] == f".specflow/archive/{archived.name}"
    assert f"(archived in .specflow/archive/{archived.name})" in run("status", "--all").output
    # the review gate no longer checks changes against its spec
    session = Session(ws, load_config(ws.config_path), {})
    assert pick_task(session, None, [COLLECTOR, SERVER]) == (None, None)
    git(repo, "add", "src")
    named = run("review", "--staged", "--task", SLUG)
    assert named.exit_code == 2
    assert "task `exporter` is done and archived" in named.stderr
    # the slug is free again, and a second archive of it does not clash
    assert run("new", "Exporter again", "--name", SLUG).exit_code == 0
    assert run("done", "--force").exit_code == 0
    names = sorted(p.name for p in (repo / ".specflow" / "archive").iterdir())
    assert names == [archived.name, archived.name + "~2"]
    assert run("show", "--task", SLUG).output.startswith("## Description\n\nExporter again")


def test_done_force_closes_with_files_left(task_dir: Path, repo: Path) -> None:
    result = run("done", "--force")
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"closed with {COLLECTOR}: pending\nclosed with {SERVER}: pending\n")
    assert run("use", SLUG).exit_code == 2


def test_done_before_a_spec_says_what_to_run(repo: Path) -> None:
    assert run("new", "Exporter", "--name", SLUG).exit_code == 0
    result = run("done")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: task `exporter` is described; it cannot become done from there. "
        "Run `specflow scope` first.\n"
    )


def test_blocked_files_keep_a_task_open(repo: Path, tmp_path: Path) -> None:
    specced_task(tmp_path, SLUG, SPEC_REPLY)
    result = run("done")
    assert result.exit_code == 2
    assert f"  {COLLECTOR}: blocked by " in result.stderr


def test_plan_states_through_a_whole_task_on_the_loopback_server(
    repo: Path, claude: AnthropicServer
) -> None:
    """pending → blocked → written → changed since → reviewed, every stage through the real
    SDK against the loopback Messages API."""

    def plan() -> dict[str, str]:
        (row,) = json.loads(run("status", "--json").output)["tasks"]
        return {entry["path"]: entry["state"] for entry in row["plan"]}

    assert run("new", "Prometheus exporter", "--name", SLUG).exit_code == 0
    claude.script(Text(SCOPE_REPLY))
    assert run("scope").exit_code == 0
    for n in range(1, 6):
        assert run("answer", str(n), "known").exit_code == 0
    claude.script(Text(SPEC_REPLY))  # its UNKNOWN blocks the collector, by path
    assert run("spec").exit_code == 0
    assert plan() == {COLLECTOR: "blocked", SERVER: "pending"}
    code = "def serve() -> None:\n    return None\n"
    claude.script(Text(implement_reply(SERVER, code)))
    assert run("implement", "--file", SERVER).exit_code == 0
    assert plan() == {COLLECTOR: "blocked", SERVER: "written"}
    (repo / SERVER).write_text(code + "# mine\n")
    assert plan()[SERVER] == "changed since"
    (repo / SERVER).write_text(code)
    git(repo, "add", SERVER)
    claude.script(Text(review_reply()))
    review = run("review", "--staged")
    assert review.exit_code == 0 and review.stdout.startswith("specflow review: PASS")
    assert plan() == {COLLECTOR: "blocked", SERVER: "reviewed"}
    models = {r.body["model"] for r in claude.requests}
    assert models == {"claude-sonnet-5-5"} and len(claude.requests) == 4  # no stage skipped


def test_the_newest_archive_of_a_slug_is_found_past_nine(tmp_path: Path) -> None:
    from specflow.store.workspace import Workspace

    (tmp_path / ".git").mkdir()
    ws = Workspace(tmp_path)
    for name in ("2026-12-01-demo", "2026-12-01-demo~2", "2026-12-01-demo~10", "2026-11-30-demo"):
        folder = ws.archive_dir / name
        folder.mkdir(parents=True)
        (folder / "task.json").write_text("{}")
    assert [folder.name for _, folder in ws.archived()] == [
        "2026-11-30-demo",
        "2026-12-01-demo",
        "2026-12-01-demo~2",
        "2026-12-01-demo~10",
    ]
    folder = ws.archived_folder("demo")
    assert folder is not None and folder.name == "2026-12-01-demo~10"
