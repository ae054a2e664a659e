"""The spec's file plan and the open UNKNOWNs that block files of it."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specflow.contracts.models import SpecDoc
from specflow.contracts.spec_content import unknown_blocks
from specflow.errors import StateError, UsageError
from specflow.stages.implement.outline import line_count
from specflow.stages.implement.target import Target, sha256
from specflow.store.task import Task, UnknownItem


def norm(path: str) -> str:
    """A file-plan entry as a repository-relative POSIX path."""
    return path.strip().strip("`").removeprefix("./")


def plan_paths(doc: SpecDoc) -> list[str]:
    return [norm(p) for p in doc.file_plan]


DIRECTIVE_SECTIONS = ("implementation directives", "architecture & file plan")


def spec_directives(doc: SpecDoc) -> tuple[str, ...]:
    """The lines of the spec's Implementation Directives and file plan: what may direct the
    implement contract to accept a removed definition."""
    return tuple(
        line.strip()
        for section in doc.sections
        if section.title.strip().casefold() in DIRECTIVE_SECTIONS
        for line in section.body.splitlines()
        if line.strip()
    )


def check_plan(doc: SpecDoc, target: Target, allow_unplanned: bool) -> None:
    plan = plan_paths(doc)
    if target.rel in plan or allow_unplanned:
        return
    listed = ", ".join(plan) or "(empty)"
    raise UsageError(
        f"{target.rel} is not in the spec's file plan ({listed}); add it to the plan in "
        "spec.md, or pass --allow-unplanned"
    )


_PATHLIKE = re.compile(
    r"`([^`\s]+)`|(?<![\w./-])((?:[\w.-]+/)+[\w.-]+|[\w-]+\.[A-Za-z]\w{0,7})(?![\w/])"
)


def named_paths(text: str) -> list[str]:
    """The file paths a `blocks:` text names: backticked tokens and bare path-like words."""
    found = []
    for quoted, bare in _PATHLIKE.findall(text):
        token = (quoted or bare).rstrip(".,;:")
        if "/" in token or re.search(r"\.[A-Za-z]\w{0,7}$", token):
            found.append(token.removeprefix("./"))
    return found


def _same_file(named: str, rel: str) -> bool:
    """`collector.py` or `exporter/collector.py` names src/exporter/collector.py; `a.py` names
    only files called a.py."""
    return rel == named or rel.endswith("/" + named)


def blocks_file(item: UnknownItem, rel: str, plan: Sequence[str] = ()) -> tuple[bool, str | None]:
    """Whether *item* blocks *rel*, and the note when it names no file (so blocks them all).

    The planned paths its `blocks:` spells out (contracts.spec_content.unknown_blocks) are the
    files it blocks; a shorter name (`collector.py` for src/exporter/collector.py) still names
    the files it ends; an item that names no file at all blocks every file.
    """
    found = unknown_blocks(item.blocks, list(dict.fromkeys([*plan, rel])), item.id)
    if found.note is None:
        return rel in found.paths, None
    named = named_paths(item.blocks)
    if named:
        return any(_same_file(p, rel) for p in named), None
    return True, found.note


def blocking_unknowns(
    task: Task, target: Target | str, plan: Sequence[str] = ()
) -> list[UnknownItem]:
    """Open UNKNOWNs that block this file: those naming it, and those naming no file at all."""
    rel = target.rel if isinstance(target, Target) else target
    return [u for u in task.unknowns if u.status == "open" and blocks_file(u, rel, plan)[0]]


def check_unknowns(task: Task, target: Target, plan: Sequence[str] = ()) -> None:
    items = blocking_unknowns(task, target, plan)
    if not items:
        return
    lines = []
    for u in items:
        note = blocks_file(u, target.rel, plan)[1]
        lines.append(f"  {u.id}: {u.what} (verify: {u.verify}; blocks: {u.blocks})")
        lines.extend([f"    {note}"] if note else [])
    listed = "\n".join(lines)
    raise StateError(
        f"{len(items)} open UNKNOWN item(s) block {target.rel}:\n{listed}\n"
        'Resolve them with `specflow resolve ID "what you found"` and run `specflow spec` '
        "to revise the spec first."
    )


def next_files(task: Task, doc: SpecDoc) -> list[str]:
    """Planned files not written yet and not blocked by an open UNKNOWN, in plan order."""
    done = {f.path for f in task.files}
    plan = plan_paths(doc)
    return [p for p in plan if p not in done and not blocking_unknowns(task, p, plan)]


# -- what the prompt says of files already written ------------------------------------------

SUMMARY_MAX = 200  # characters of one file's one-line summary: the prompt stays bounded


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    if isinstance(node, ast.ClassDef):
        return f"class {node.name}"
    args = [a.arg for a in [*node.args.posonlyargs, *node.args.args] if a.arg not in ("self",)]
    args += [f"*{node.args.vararg.arg}"] if node.args.vararg else []
    args += [a.arg for a in node.args.kwonlyargs]
    return f"def {node.name}({', '.join(args)})"


def one_line_summary(rel: str, content: str) -> str:
    """A written file in one line for the implement prompt: its size and, for Python, its
    public classes and functions with their parameters; at most SUMMARY_MAX characters."""
    summary = f"{line_count(content)} lines"
    if rel.endswith(".py"):
        try:
            tree = ast.parse(content)
        except SyntaxError:
            return summary + " (does not parse)"
        names = [
            _signature(node)
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and not node.name.startswith("_")
        ]
        if names:
            summary += ": " + ", ".join(names)
    return summary if len(summary) <= SUMMARY_MAX else summary[: SUMMARY_MAX - 1] + "…"


def written_summaries(root: Path, task: Task, skip: str = "") -> dict[str, str]:
    """path -> one-line summary of each file specflow wrote for *task* but *skip*, as it is on
    disk now (a file the user edited since says so; a deleted one too)."""
    found = {}
    for record in task.files:
        if record.path == skip:
            continue
        path = root / record.path
        if not path.is_file():
            found[record.path] = "deleted since specflow wrote it"
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        edited = (
            "; edited by the user since specflow wrote it" if sha256(text) != record.sha256 else ""
        )
        found[record.path] = one_line_summary(record.path, text) + edited
    return found


# -- plan progress -----------------------------------------------------------------------------
# The tool keeps the ledger: each planned file's state is derived from task.json (what specflow
# wrote, and which content a PASS review covered), the open UNKNOWNs and the file on disk.

PENDING, BLOCKED, WRITTEN, CHANGED, REVIEWED = (
    "pending",
    "blocked",
    "written",
    "changed since",
    "reviewed",
)
DONE_STATES = (WRITTEN, CHANGED, REVIEWED)


@dataclass(frozen=True)
class PlanEntry:
    path: str
    state: str
    blocked_by: tuple[str, ...] = ()  # ids of the open UNKNOWNs that block it
    written: str = ""  # when specflow wrote it
    sha256: str = ""  # what specflow wrote

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "state": self.state,
            "blocked_by": list(self.blocked_by),
            "written": self.written or None,
            "sha256": self.sha256 or None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanEntry:
        """The entry as_dict() gave."""
        return cls(
            data["path"],
            data["state"],
            tuple(data["blocked_by"]),
            data["written"] or "",
            data["sha256"] or "",
        )

    def line(self) -> str:
        """One line of `status` / `show plan`: the path and its state, with the detail."""
        detail = {
            BLOCKED: f" by {', '.join(self.blocked_by)}",
            WRITTEN: f" {self.written}",
            CHANGED: f" (specflow wrote it {self.written}; edited on disk since)",
            REVIEWED: f" (written {self.written})",
        }.get(self.state, "")
        return f"{self.path}: {self.state}{detail}"


def _disk_hash(root: Path, rel: str) -> str | None:
    path = root / rel
    if not path.is_file():
        return None
    # Bytes decoded as they are: a CRLF file hashes as specflow wrote it.
    return sha256(path.read_bytes().decode("utf-8", errors="replace"))


def plan_progress(root: Path, task: Task, doc: SpecDoc) -> list[PlanEntry]:
    """Each planned file of the spec, in plan order, with its state."""
    records = {f.path: f for f in task.files}
    entries = []
    plan = plan_paths(doc)
    for rel in plan:
        record = records.get(rel)
        if record is None:
            blocking = tuple(u.id for u in blocking_unknowns(task, rel, plan))
            entries.append(PlanEntry(rel, BLOCKED if blocking else PENDING, blocking))
            continue
        if _disk_hash(root, rel) != record.sha256:
            state = CHANGED
        elif record.reviewed_sha256 == record.sha256:
            state = REVIEWED
        else:
            state = WRITTEN
        entries.append(PlanEntry(rel, state, (), record.written, record.sha256))
    return entries


def progress(entries: list[PlanEntry]) -> str:
    """`2/5 files`: planned files written (in any form) out of all planned."""
    done = sum(1 for e in entries if e.state in DONE_STATES)
    return f"{done}/{len(entries)} files"


@dataclass(frozen=True)
class NextStep:
    """What `specflow next` does: implement *path*, or say *message* (exit 2 when *blocked*)."""

    path: str | None
    message: str
    blocked: bool = False


def next_step(entries: list[PlanEntry], task: Task, task_flag: str = "") -> NextStep:
    """The first pending, unblocked planned file; else what stands in the way."""
    pending = next((e for e in entries if e.state == PENDING), None)
    if pending is not None:
        return NextStep(pending.path, f"next: {pending.path} ({progress(entries)} written)")
    blocked = [e for e in entries if e.state == BLOCKED]
    if blocked:
        ids = sorted({i for e in blocked for i in e.blocked_by})
        items = {u.id: u for u in task.unknowns}
        listed = "\n".join(f"  {i}: {items[i].what} (verify: {items[i].verify})" for i in ids)
        files = ", ".join(e.path for e in blocked)
        return NextStep(
            None,
            f"every remaining planned file is blocked by an open UNKNOWN ({files}):\n{listed}\n"
            f'Resolve each with `specflow resolve ID "what you found"{task_flag}`, then run '
            f"`specflow spec{task_flag}` to revise the spec.",
            blocked=True,
        )
    return NextStep(
        None,
        f"every planned file is written ({progress(entries)}); review the change with "
        "`specflow review` before committing it.",
    )
