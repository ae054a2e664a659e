"""The spec's file plan and the open UNKNOWNs that block files of it."""

from __future__ import annotations

import re

from specflow.contracts.models import SpecDoc
from specflow.errors import StateError, UsageError
from specflow.stages.implement.target import Target
from specflow.store.workspace import Task, UnknownItem


def norm(path: str) -> str:
    """A file-plan entry as a repository-relative POSIX path."""
    return path.strip().strip("`").removeprefix("./")


def plan_paths(doc: SpecDoc) -> list[str]:
    return [norm(p) for p in doc.file_plan]


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


def blocking_unknowns(task: Task, target: Target | str) -> list[UnknownItem]:
    """Open UNKNOWNs that block this file: those naming it, and those naming no file at all."""
    rel = target.rel if isinstance(target, Target) else target
    blocking = []
    for item in task.unknowns:
        if item.status != "open":
            continue
        paths = named_paths(item.blocks)
        if not paths or any(_same_file(p, rel) for p in paths):
            blocking.append(item)
    return blocking


def check_unknowns(task: Task, target: Target) -> None:
    items = blocking_unknowns(task, target)
    if not items:
        return
    listed = "\n".join(
        f"  {u.id}: {u.what} (verify: {u.verify}; blocks: {u.blocks})" for u in items
    )
    raise StateError(
        f"{len(items)} open UNKNOWN item(s) block {target.rel}:\n{listed}\n"
        'Resolve them with `specflow resolve ID "what you found"` and run `specflow spec` '
        "to revise the spec first."
    )


def next_files(task: Task, doc: SpecDoc) -> list[str]:
    """Planned files not written yet and not blocked by an open UNKNOWN, in plan order."""
    done = {f.path for f in task.files}
    return [p for p in plan_paths(doc) if p not in done and not blocking_unknowns(task, p)]
