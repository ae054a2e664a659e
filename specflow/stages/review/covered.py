"""What a PASS review covered: the new content of each changed file, for the plan's ledger.

After a PASS verdict the gate marks the task's planned files whose reviewed content is what
specflow wrote as `reviewed` (store.task.Task.mark_reviewed). The reviewed content is
the diff applied to the file's old content: for an added file the diff alone; for a modified
file the diff applied to HEAD's copy, which is the old side of a staged change and of
`--files`. A modified file in a `--range` review (whose old side is not HEAD) and a file
whose diff is not plain text (binary, cut for size) are not marked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from specflow.gitx.diffs import FileDiff
from specflow.stages.implement.target import sha256
from specflow.stages.review.rules import review_rules, spec_doc

if TYPE_CHECKING:
    from specflow.stages.review.result import ReviewOptions, ReviewResult
    from specflow.stages.session import Session

NO_NEWLINE = "\\"  # `\ No newline at end of file`: the line before it has no newline


def apply_diff(file: FileDiff, old_text: str) -> str:
    """*old_text* with *file*'s hunks applied: the file's new content."""
    old = old_text.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for hunk in file.hunks:
        # A hunk that adds to an empty range starts *after* old_start.
        start = hunk.old_start - 1 if hunk.old_count else hunk.old_start
        out += old[pos:start]
        pos = start
        last = ""
        for line in hunk.lines:
            tag, body = line[:1], line[1:]
            if tag == NO_NEWLINE:
                if last in (" ", "+") and out:
                    out[-1] = out[-1].removesuffix("\n")
                continue
            if tag in (" ", "-"):
                pos += 1
            if tag in (" ", "+"):
                out.append(body + "\n")
            last = tag
    out += old[pos:]
    return "".join(out)


def reviewed_hashes(
    files: Sequence[FileDiff],
    paths: Sequence[str],
    old_content: Callable[[str], str | None] | None,
) -> dict[str, str]:
    """sha256 of the new content of each of *files* named in *paths*. *old_content* gives a
    modified file's old content (None: it cannot be known, and the file is skipped)."""
    wanted = set(paths)
    hashes: dict[str, str] = {}
    for file in files:
        if file.path not in wanted or file.binary or file.status == "deleted":
            continue
        if file.status == "added":
            old: str | None = ""
        elif old_content is None:
            continue
        else:
            old = old_content(file.old_path or file.path)
        if old is not None:
            hashes[file.path] = sha256(apply_diff(file, old))
    return hashes


def mark_reviewed(
    session: Session,
    picked: tuple[str, str | None],
    options: ReviewOptions,
    files: list[FileDiff],
    result: ReviewResult,
) -> None:
    """Record in the task that this PASS covered its planned files whose reviewed content is
    what specflow wrote (`specflow status` then shows them `reviewed`); a task file that
    cannot be written leaves a note, not a failed gate."""
    from specflow.gitx.gitops import head_content

    slug, spec = picked
    ws = session.ws
    task = ws.load(slug)  # as it is now, under the lock: another stage may have saved it
    planned = review_rules(session, spec_doc(session, spec)).planned
    old = None if options.mode == "range" else (lambda rel: head_content(ws.root, rel))
    before = {f.path: f.reviewed_sha256 for f in task.files}
    marked = task.mark_reviewed(reviewed_hashes(files, planned, old))
    fresh = [f.path for f in task.files if f.path in marked and before[f.path] != f.sha256]
    if not fresh:
        return
    try:
        ws.save(task)
    except OSError as exc:
        result.notes.append(f"could not record the reviewed files in task `{slug}`: {exc}")
        return
    result.notes.append(f"plan of `{slug}`: reviewed {', '.join(fresh)}")
