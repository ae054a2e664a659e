"""`specflow prompt review`: the review prompt the gate would send for a change, printed.

Built from the gate's own steps (diff, skipped files, redaction, the task's spec, the
request), so it is the prompt the gate sends, with secrets redacted. One prompt for the
whole change, as the handoff provider writes it: no splitting into parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from specflow.errors import UsageError
from specflow.gitx.allowlist import load_allowlist
from specflow.gitx.diffs import parse_diff
from specflow.gitx.excludes import filter_files
from specflow.stages.review.gate import _prepare, pick_task, secret_findings
from specflow.stages.review.memo import Mode, read_diff
from specflow.stages.session import Session

if TYPE_CHECKING:
    from specflow.stages.engine import Prepared


def review_prompt(
    session: Session, mode: Mode, rev_range: str | None, task_slug: str | None
) -> tuple[Prepared, list[str]]:
    """The review request for the staged change (or *rev_range*) and the notes to show with
    it (skipped files, secrets found); a change with nothing to review is a usage error."""
    diff = read_diff(session.ws.root, mode, rev_range, [])
    files = parse_diff(diff)
    kept, skipped = filter_files(files, session.config.review.exclude)
    if not kept:
        what = f"the range {rev_range}" if rev_range else "the staged change"
        raise UsageError(
            f"nothing to review in {what} (empty after skipping excluded and binary files); "
            "stage a change with `git add`, or pass --range A..B"
        )
    paths = [f.path for f in kept]
    redacted, secrets = secret_findings(kept, allow=load_allowlist(session.ws.root))
    notes = [f"skipped {s.path}: {s.reason}" for s in skipped]
    notes += [
        f"{f.path}:{f.line}: a secret is redacted in this prompt; the gate blocks the change "
        "without asking a model"
        for f in secrets
    ]
    _task, spec = pick_task(session, task_slug, paths)
    threshold = session.config.review.threshold
    text = "".join(f.text for f in redacted)
    return _prepare(session, spec, text, paths, (1, 1), threshold), notes
