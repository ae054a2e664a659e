"""Target safety: which file implement may write, and never over the user's own changes.

A target must resolve inside the repository and outside any `.git` (at any depth: nested
repositories and submodules) and `.specflow` folder, in any letter case, since macOS and
Windows file systems fold case. A file with uncommitted changes specflow did not write is
left alone unless --force, and then a byte-for-byte backup is kept first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from specflow.contracts.paths import unsafe_path_reason
from specflow.errors import UsageError
from specflow.store.task import Task, WrittenFile
from specflow.store.workspace import Workspace

# Folder names implement never writes into, compared case-folded.
FORBIDDEN_PARTS = (".git", ".specflow")


@dataclass(frozen=True)
class Target:
    path: Path  # absolute, resolved
    rel: str  # POSIX, relative to the repository root


def forbidden_part(rel: Path) -> str | None:
    """The first component of *rel* that is `.git` or `.specflow` in any case, or None."""
    return next((part for part in rel.parts if part.casefold() in FORBIDDEN_PARTS), None)


def resolve_target(root: Path, raw: str) -> Target:
    """PATH must resolve inside the repository, outside every .git/ and .specflow/."""
    given = Path(raw)
    candidate = given if given.is_absolute() else Path.cwd() / given
    resolved = candidate.resolve()
    real_root = root.resolve()
    try:
        rel = resolved.relative_to(real_root)
    except ValueError:
        raise UsageError(
            f"--file {raw}: resolves to {resolved}, outside the repository ({real_root}); "
            "pass a path inside it"
        ) from None
    if not rel.parts:
        raise UsageError(f"--file {raw}: is the repository root; pass a file path")
    # One rule for the file plan and --file (contracts.paths); the path as typed is checked
    # too, without its root and `..` steps, which the resolution above has judged.
    typed = "/".join(part for part in given.parts if part not in ("..", given.anchor))
    reason = unsafe_path_reason(rel.as_posix()) or (unsafe_path_reason(typed) if typed else None)
    if reason is not None:
        bad = forbidden_part(rel) or forbidden_part(given)
        if bad is None:
            raise UsageError(f"--file {raw}: {reason}")
        raise UsageError(
            f"--file {raw}: inside {bad}/, which specflow never writes to (git's and "
            "specflow's own folders, at any depth and in any letter case); pass a project file"
        )
    if resolved.is_dir():
        raise UsageError(f"--file {raw}: is a folder; pass a file path")
    return Target(resolved, rel.as_posix())


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def written_record(task: Task, rel: str) -> WrittenFile | None:
    """What specflow last wrote to *rel* for this task, if it wrote it."""
    return next((f for f in task.files if f.path == rel), None)


def read_target(target: Target) -> str | None:
    """The target's current text (None when it does not exist yet); not UTF-8 is refused."""
    if not target.path.is_file():
        return None
    try:
        return target.path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--file {target.rel}: not UTF-8 text (byte {exc.start}); specflow writes text "
            "files only, so it leaves this one alone"
        ) from None


def protect_user_changes(ws: Workspace, task: Task, target: Target, force: bool) -> None:
    """Refuse to overwrite uncommitted changes specflow did not write, unless --force."""
    content = read_target(target)
    if content is None:
        return
    record = written_record(task, target.rel)
    if record is not None and record.sha256 == sha256(content):
        return  # exactly what specflow wrote last
    from specflow.gitx import gitops  # GitPython: only when a file is really at stake

    untracked = gitops.head_content(ws.root, target.rel) is None
    if not untracked and not gitops.is_tracked_and_modified(ws.root, target.rel):
        return  # committed: git keeps the user's version
    if not force:
        raise UsageError(
            f"{target.rel} has uncommitted changes that specflow did not write; commit or "
            "stash them, or pass --force (a copy is kept under the task's backups/)"
        )
    # Byte for byte: line endings and all.
    ws.write_bytes(ws.backup_path(task, target.rel), target.path.read_bytes())
