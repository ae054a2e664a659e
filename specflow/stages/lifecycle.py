"""The task lifecycle around the spec's file plan: progress for `status`, `show plan`, `done`.

The plan states themselves are derived in stages/implement/plan.py; this module reads a task's
spec from its folder (open or archived), reports progress, and closes a finished task.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specflow.contracts.spec import check_spec, template_headings
from specflow.errors import StateError
from specflow.stages.implement.plan import BLOCKED, PENDING, PlanEntry, plan_progress, progress
from specflow.stages.prompts import Prompts
from specflow.store.task import Task
from specflow.store.workspace import Workspace


def read_plan(ws: Workspace, task: Task, folder: Path) -> list[PlanEntry] | None:
    """The plan of the spec in *folder* with each file's state; None without a valid spec."""
    spec = folder / "spec.md"
    if not spec.is_file():
        return None
    headings = template_headings(Prompts(ws.dir).spec_template())
    doc = check_spec(spec.read_text(encoding="utf-8"), headings).value
    return None if doc is None else plan_progress(ws.root, task, doc)


def status_rows(
    ws: Workspace, include_archived: bool = False
) -> tuple[list[dict[str, Any]], list[StateError]]:
    """`specflow status`'s rows, each with the plan's progress (`2/5 files`) and its files."""
    rows, problems = ws.status_rows(True) if include_archived else ws.status_rows()
    for row in rows:
        entries: list[PlanEntry] | None = None
        if row["state"] != "corrupt":
            folder = ws.root / row["archived"] if row["archived"] else ws.tasks_dir / row["slug"]
            entries = read_plan(ws, ws.read_task(folder / "task.json", row["slug"]), folder)
        row["progress"] = progress(entries) if entries is not None else None
        row["plan"] = [e.as_dict() for e in entries or []]
    return rows, problems


def format_status(rows: list[dict[str, Any]]) -> str:
    """One line per task (`*` marks the current one), then the current task's files."""
    width = max(len(r["slug"]) for r in rows)
    lines = []
    for r in rows:
        mark = "*" if r["current"] else " "
        shown = r["progress"] or "-"
        where = f"  (archived in {r['archived']})" if r["archived"] else ""
        artifacts = ", ".join(r["artifacts"]) + where
        lines.append(f"{mark} {r['slug']:<{width}}  {r['state']:<12}  {shown:<10}  {artifacts}")
    current = next((r for r in rows if r["current"]), None)
    if current is not None and current["plan"]:
        lines += ["", f"Plan of {current['slug']}:"]
        lines += [f"  {PlanEntry.from_dict(e).line()}" for e in current["plan"]]
    return "\n".join(lines) + "\n"


def shown_by_default(folder: Path, default: str) -> str:
    """What `show` prints without a name: *default* (the state's artifact), or, when a task
    closed with --force never got it, the newest artifact its folder holds."""
    newest = (default, "spec", "answers", "scope")
    return next((name for name in newest if (folder / f"{name}.md").is_file()), "describe")


def format_plan(entries: list[PlanEntry]) -> str:
    """`specflow show plan`: the plan in order, one line per file with its state."""
    lines = [f"{n}. {e.line()}" for n, e in enumerate(entries, 1)]
    return "\n".join([*lines, f"({progress(entries)} written)"]) + "\n"


@dataclass(frozen=True)
class Closed:
    folder: Path  # where the task now lives
    left: list[PlanEntry]  # planned files still pending or blocked (closed with --force)


def close_task(ws: Workspace, task: Task, force: bool) -> Closed:
    """`specflow done`: refuse while a planned file is pending or blocked (unless *force*),
    then mark the task done and archive its folder; it stops being current."""
    entries = read_plan(ws, task, ws.task_dir(task.slug)) or []
    left = [e for e in entries if e.state in (PENDING, BLOCKED)]
    if left and not force:
        listed = "\n".join(f"  {e.line()}" for e in left)
        raise StateError(
            f"task `{task.slug}` has {len(left)} planned file(s) not written yet:\n{listed}\n"
            "Write them (`specflow next`), or close the task anyway with `specflow done --force`."
        )
    if force:
        task.state = "done"
    else:
        task.move_to("done")  # a task without a spec is refused with the command to run
    with ws.stage_lock(task, "specflow done"):
        pass  # no stage of this task is running now
    return Closed(ws.archive(task), left)
