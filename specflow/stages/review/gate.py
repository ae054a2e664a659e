"""The review gate: a diff checked against the spec and the rules before it is committed.

diff → skip binary and excluded files → redact secrets (a staged secret is BLOCKED without
calling a model) → size limit → verdict cache (or a recorded --reply) → provider, split to
fit the token budget → merged verdict. When no review can run the outcome is NOT REVIEWED,
which passes locally and fails closed in CI (result.py).
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from specflow.contracts.models import Finding, ReviewReply
from specflow.contracts.review import blocks
from specflow.errors import ProviderUnreachable, StateError, UsageError
from specflow.gitx.allowlist import load_allowlist
from specflow.gitx.chunks import split_for_budget
from specflow.gitx.diffs import Chunk, FileDiff, parse_diff
from specflow.gitx.excludes import filter_files
from specflow.gitx.secrets import redact_text
from specflow.providers.base import SystemBlock
from specflow.stages.review.cache import (
    REPLY_FILE,
    cache_key,
    cache_path,
    from_cache,
    to_cache,
)
from specflow.stages.review.covered import mark_reviewed
from specflow.stages.review.memo import read_diff
from specflow.stages.review.result import (
    BLOCKED,
    FAIL,
    PASS,
    ReviewOptions,
    ReviewResult,
    format_result,
)
from specflow.stages.review.rules import ReviewRules, contract_for, review_rules, spec_doc
from specflow.stages.session import (
    Handoff,
    Session,
    execute,
    render_vars,
    rules_blocks,
    stage_lock,
)
from specflow.store.lock import TaskBusy
from specflow.store.task import Task
from specflow.ui import notice

if TYPE_CHECKING:
    from specflow.providers.capabilities import StageModel
    from specflow.stages.engine import Prepared

__all__ = ["ReviewOptions", "ReviewResult", "format_result", "run_review"]

# Why a write under .specflow/ can fail that is the machine's state, not a bug in specflow.
_UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


def reviewer(session: Session) -> StageModel:
    """The provider and model the review talks to: `[stages.review]`, else the global ones."""
    return session.resolved.stage("review")


def pick_task(
    session: Session, slug: str | None, paths: list[str], problems: list[str] | None = None
) -> tuple[Task | None, str | None]:
    """The task whose spec the change is checked against, and that spec's text, redacted (a
    spec edited by hand may hold a value; the text is sent and printed).

    A task that cannot be read is skipped with a notice (and its message added to *problems*).
    """
    task, text = _pick_task(session, slug, paths, problems)
    return task, None if text is None else redact_text(text, allow=load_allowlist(session.ws.root))


def _pick_task(
    session: Session, slug: str | None, paths: list[str], problems: list[str] | None
) -> tuple[Task | None, str | None]:
    ws = session.ws
    if slug:
        task = ws.load(slug)
        spec = ws.artifact_path(task, "spec")
        return task, spec.read_text(encoding="utf-8") if spec.is_file() else None
    best: tuple[int, Task, str] | None = None
    current = ws.current_slug()
    for candidate in ws.slugs():
        try:
            task = ws.load(candidate)
        except StateError as exc:
            notice(f"review: skipping a task: {exc}")
            if problems is not None:
                problems.append(str(exc))
            continue
        spec = ws.artifact_path(task, "spec")
        if not spec.is_file():
            continue
        text = spec.read_text(encoding="utf-8")
        covered = sum(1 for p in paths if f"`{p}`" in text)
        score = covered * 2 + (1 if candidate == current else 0)
        if score and (best is None or score > best[0]):
            best = (score, task, text)
    return (best[1], best[2]) if best else (None, None)


def secret_findings(
    files: list[FileDiff],
    also_scan: Sequence[FileDiff] = (),
    allow: Iterable[str] = (),
) -> tuple[list[FileDiff], list[Finding]]:
    """Redact *files* for sending; report secrets in them and in *also_scan* (not sent).

    *allow*: the finding ids of the project's allowlist (gitx.allowlist.load_allowlist),
    which are neither reported nor redacted. Each finding names its id and the command that
    allows it, for a known false positive.
    """
    from specflow.gitx.secrets import redact_diff

    allowed = frozenset(allow)
    redacted, found = redact_diff(files, allow=allowed)
    found = found + redact_diff(list(also_scan), allow=allowed)[1]
    findings = [
        Finding(
            severity="BLOCKER",
            path=s.path or "(unknown)",
            line=s.line,
            rule="Secrets",
            message=(
                f"secret staged ({s.kind}, id {s.id}); remove it, and rotate it if it was ever "
                f'pushed. A known false positive: specflow secrets allow {s.id} --reason "…"'
            ),
            evidence=s.preview,
        )
        for s in found
    ]
    return redacted, findings


def gate_session(session: Session) -> Session:
    """The same session with the gate's patience: [review] timeout_s, at most one retry.

    A commit waits on the gate, so an unreachable provider must fail (open or closed) in
    about two timeouts, not in the many minutes a stage call may take.
    """
    cfg = session.config
    limit = cfg.review.timeout_s
    patient = cfg.model_copy(
        update={
            "anthropic": cfg.anthropic.model_copy(
                update={
                    "timeout_s": min(cfg.anthropic.timeout_s, limit),
                    "max_retries": min(cfg.anthropic.max_retries, 1),
                }
            ),
            "openai": cfg.openai.model_copy(
                update={
                    "timeout_s": min(cfg.openai.timeout_s, limit),
                    "max_retries": min(cfg.openai.max_retries, 1),
                }
            ),
        }
    )
    return replace(session, config=patient)


def run_review(
    session: Session, options: ReviewOptions, *, ci: bool, diff: str | None = None
) -> ReviewResult:
    """Review the change *options* names (its *diff*, when already read); the result's
    outcome says whether a review ran and whether it blocks the commit."""
    session = gate_session(session)
    threshold = options.threshold or session.config.review.threshold
    if diff is None:
        diff = read_diff(session.ws.root, options.mode, options.rev_range, options.paths)
    files = parse_diff(diff)
    kept, skipped = filter_files(files, session.config.review.exclude)
    result = ReviewResult(PASS, [], threshold, False, skipped=skipped)
    result.reviewed = [f.path for f in kept]
    result.fail_open = session.config.review.fails_open(ci, options.fail_open)
    excluded_text = [f for f in files if not f.binary and f.path not in result.reviewed]
    redacted, secrets = secret_findings(kept, excluded_text, load_allowlist(session.ws.root))
    if secrets:  # found locally: the change is blocked whatever a model would say
        _verdict(result, secrets, threshold, note="secrets found: the model was not called")
        result.verdict, result.reason = BLOCKED, "a secret is staged"
        return result
    if not kept:  # no review ran: never PASS; nothing to hold back either, even in CI
        if options.reply is not None:
            raise UsageError(
                "--reply: there is nothing to review (the change is empty after skipping "
                "files), so there is no verdict to record; stage the change first"
            )
        reason = "nothing to review: the diff is empty after skipping files"
        return result.not_reviewed(reason, options.command(), fail_open=True)
    if not _within_size(kept, session, options, result):
        return result
    try:
        return _review(session, options, ci, result, redacted)
    except OSError as exc:
        if exc.errno not in _UNWRITABLE:
            raise
        where = session.ws.rel(session.ws.dir)
        reason = f"{where}/ cannot be written ({exc.strerror}: {exc.filename})"
        command = f"make {where}/ writable (or free disk space), then {options.command()}"
        return result.not_reviewed(reason, command, result.fail_open)


def _review(
    session: Session,
    options: ReviewOptions,
    ci: bool,
    result: ReviewResult,
    redacted: list[FileDiff],
) -> ReviewResult:
    """The review of the change against the task it belongs to, holding that task's stage
    lock. A task whose stage is running (TaskBusy) is NOT REVIEWED with the holder's command
    and pid: the gate never blocks a commit on another command, and never waits for it."""
    problems: list[str] = []
    task, spec = pick_task(session, options.task_slug, result.reviewed, problems)
    result.task = task.slug if task else None
    if task is None:
        return _judge(session, options, ci, result, redacted, (task, spec, problems))
    try:
        with stage_lock(session, task, options.command()):
            _judge(session, options, ci, result, redacted, (task, spec, problems))
            if result.verdict == PASS:
                mark_reviewed(session, (task.slug, spec), options, redacted, result)
            return result
    except TaskBusy as exc:
        reason = f"another specflow command is running on this task: {exc}"
        return result.not_reviewed(reason, f"{options.command()} once it ends", result.fail_open)


def _judge(
    session: Session,
    options: ReviewOptions,
    ci: bool,
    result: ReviewResult,
    redacted: list[FileDiff],
    picked: tuple[Task | None, str | None, list[str]],
) -> ReviewResult:
    """A recorded or cached verdict, else the model's."""
    task, spec, problems = picked
    threshold = result.threshold
    rules = review_rules(session, spec_doc(session, spec))
    key = cache_key(session, "".join(f.text for f in redacted), spec, threshold)
    if options.reply is not None:
        # The handoff gate: the verdict is recorded for this exact change (the verdict
        # cache's key), and the next review of the same change enforces it.
        reply = _redact_reply(session, _ingest(session, task, redacted, options, threshold, rules))
        to_cache(session, key, reply, source=REPLY_FILE)
        result.notes.append("verdict recorded for this change; the next review of it enforces it")
        return _verdict(result, reply.findings, threshold)
    # A verdict recorded with --reply is enforced even when [review] cache is off, whatever
    # the provider; --no-cache asks for a fresh review and reads neither.
    cached = None
    if options.use_cache:
        recorded_only = not session.config.review.cache
        cached = from_cache(session, key, recorded_only=recorded_only)
    if cached is not None:
        result.cached = True
        result.memo_verdict = None if problems else cache_path(session, key)
        return _verdict(result, cached.findings, threshold)
    merged = _ask_model(session, task, spec, redacted, result, ci, options, rules)
    if merged is None:
        return result  # NOT REVIEWED: a handoff prompt was written, or no model answered
    merged = _redact_reply(session, merged)
    if session.config.review.cache:
        # With the cache off the model's verdict is never read again: writing it would only
        # replace a verdict recorded with --reply for the same change.
        to_cache(session, key, merged)
        if not problems and options.use_cache:
            result.memo_verdict = cache_path(session, key)
    return _verdict(result, merged.findings, threshold)


def _redact_reply(session: Session, reply: ReviewReply) -> ReviewReply:
    """The verdict with its findings' text redacted before it is stored, printed or turned
    into CI annotations: a model (or a pasted reply) may write a value it should not."""
    allow = load_allowlist(session.ws.root)
    findings = [
        finding.model_copy(
            update={
                field: redact_text(getattr(finding, field), allow=allow)
                for field in ("message", "evidence", "rule")
            }
        )
        for finding in reply.findings
    ]
    return reply.model_copy(update={"findings": findings})


def _within_size(
    kept: list[FileDiff], session: Session, options: ReviewOptions, result: ReviewResult
) -> bool:
    """False when the change is over [review] max_diff_lines: BLOCKED, or NOT REVIEWED on
    an explicit --fail-open."""
    changed = sum(f.added + f.removed for f in kept)
    limit = session.config.review.max_diff_lines
    if changed <= limit:
        return True
    reason = f"the diff changes {changed:,} lines, over [review] max_diff_lines ({limit:,})"
    command = f"review it in parts (--files, --range) or raise the limit: {options.command()}"
    if options.fail_open:
        result.not_reviewed(reason + "; passing because of --fail-open", command, True)
    else:
        result.verdict, result.reason = BLOCKED, reason
        result.notes.append(command + " (or pass --fail-open to let it through)")
    return False


def _ask_model(
    session: Session,
    task: Task | None,
    spec: str | None,
    files: list[FileDiff],
    result: ReviewResult,
    ci: bool,
    options: ReviewOptions,
    rules: ReviewRules,
) -> ReviewReply | None:
    """The merged verdict of the model, or None when no review ran (NOT REVIEWED)."""
    fail_open = result.fail_open
    if ci and reviewer(session).provider == "handoff":
        result.not_reviewed(
            "no model credentials in CI (a pull request from a fork has no secrets)",
            f"set ANTHROPIC_API_KEY (or configure a provider), then {options.command()}",
            fail_open,
        )
        return None
    try:
        merged = _review_chunks(session, task, spec, files, result, options, rules)
    except ProviderUnreachable as exc:
        why = (
            f"the review did not run: {str(exc).rstrip('.')} (the gate waits up to "
            f"[review] timeout_s = {session.config.review.timeout_s:g} s per attempt)"
        )
        result.not_reviewed(why, f"{options.command()} (once the provider answers)", fail_open)
        return None
    if merged is None and result.handoff is not None:
        reason = (
            f"no model configured: the review prompt is in {session.ws.rel(result.handoff.path)}"
        )
        result.not_reviewed(reason, result.handoff.command, fail_open)
    return merged


def _verdict(
    result: ReviewResult, findings: list[Finding], threshold: str, note: str = ""
) -> ReviewResult:
    result.findings = findings
    result.blocked = blocks(findings, threshold)
    result.verdict = FAIL if result.blocked else PASS
    if note:
        result.notes.append(note)
    return result


def _prepare(
    session: Session,
    spec: str | None,
    chunk_text: str,
    paths: list[str],
    where: tuple[int, int],
    threshold: str,
) -> Prepared:
    """The request for one part (*where*: part, parts) of the change; the prompt states
    *threshold*, the same one rules.contract_for holds the reply to."""
    from specflow.contracts.evidence import number_hunk_lines
    from specflow.stages.describe import fence_for
    from specflow.stages.engine import Prepared

    part, parts = where
    shown = number_hunk_lines(chunk_text)  # findings cite the numbers the model sees
    variables = render_vars(session, threshold=threshold)
    system = [
        *rules_blocks(session, standards=True, spec=spec, compact=True),
        SystemBlock(session.prompts.render("review.md.j2", **variables), label="instructions"),
    ]
    turn = session.prompts.render(
        "review-input.md.j2",
        diff=shown,
        files=paths,
        part=part,
        parts=parts,
        spec_available=spec is not None,
        fence=fence_for(shown),
    )
    return Prepared("review", system, turn)


def _pieces(
    session: Session, files: list[FileDiff], result: ReviewResult
) -> list[tuple[str, list[str]]]:
    """The parts the change is sent in: (text, paths) each within the chunk budget; a line
    too long for any chunk is cut with a marker, and the result says so."""
    if reviewer(session).provider == "handoff":  # one prompt for a person to paste
        return [("".join(f.text for f in files), [f.path for f in files])]
    budget = session.config.review.chunk_tokens
    chunks: list[Chunk] = split_for_budget(files, budget)
    cut: dict[str, int] = {}
    for chunk in chunks:
        for path, lines in chunk.truncated.items():
            cut[path] = cut.get(path, 0) + lines
    for path, lines in cut.items():
        result.notes.append(
            f"{path}: {lines} line(s) longer than a chunk ([review] chunk_tokens = {budget:,}) "
            "were cut short; the model saw the start of each and a marker"
        )
    return [(c.text, c.paths) for c in chunks]


def _review_chunks(
    session: Session,
    task: Task | None,
    spec: str | None,
    files: list[FileDiff],
    result: ReviewResult,
    options: ReviewOptions,
    rules: ReviewRules,
) -> ReviewReply | None:
    """Each part's verdict, merged; None when a handoff prompt was written instead."""
    threshold = result.threshold
    pieces = _pieces(session, files, result)
    findings: list[Finding] = []
    session.printer.echo = False  # the verdict is summarised below; don't stream it too
    for n, (text, paths) in enumerate(pieces, 1):
        if len(pieces) > 1:
            notice(
                f"review: part {n} of {len(pieces)} ({', '.join(paths[:3])}"
                f"{', …' if len(paths) > 3 else ''})"
            )
        prepared = _prepare(session, spec, text, paths, (n, len(pieces)), threshold)
        contract = contract_for(text, threshold, rules)
        outcome = execute(session, task, prepared, contract, reply=None, command=options.command())
        if isinstance(outcome, Handoff):
            result.handoff = outcome
            return None
        for finding in outcome.value.findings:
            if finding not in findings:  # a file split across parts may be flagged twice
                findings.append(finding)
    failed = blocks(findings, threshold)
    return ReviewReply(verdict="FAIL" if failed else "PASS", findings=findings)


def _ingest(
    session: Session,
    task: Task | None,
    files: list[FileDiff],
    options: ReviewOptions,
    threshold: str,
    rules: ReviewRules,
) -> ReviewReply:
    """The verdict in --reply FILE, checked against the review contract at *threshold*
    and the change in *files* (the prompt the user pasted showed the same change)."""
    paths = [f.path for f in files]
    prepared = _prepare(session, None, "", paths, (1, 1), threshold)
    contract = contract_for("".join(f.text for f in files), threshold, rules)
    outcome = execute(
        session, task, prepared, contract, reply=options.reply, command=options.command()
    )
    assert not isinstance(outcome, Handoff)
    reply: ReviewReply = outcome.value
    return reply
