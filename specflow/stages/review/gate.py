"""The review gate: a diff checked against the spec and the rules before it is committed.

diff → skip binary and excluded files → redact secrets (a staged secret is a BLOCKER,
found without calling a model) → split to fit the token budget → cache → provider →
merged verdict. Fails open locally and closed in CI when the provider cannot be reached.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.contracts.models import Finding, ReviewReply
from specflow.contracts.registry import ContractContext, contract_for
from specflow.contracts.review import blocks
from specflow.errors import CheckFailed, ProviderUnreachable, StateError
from specflow.gitx.diffs import (
    Chunk,
    FileDiff,
    SkippedFile,
    filter_files,
    parse_diff,
    split_for_budget,
)
from specflow.providers.base import SystemBlock
from specflow.stages.review.memo import Mode, read_diff
from specflow.stages.session import Handoff, Session, execute, render_vars, rules_blocks
from specflow.store.fsutil import atomic_write_text

if TYPE_CHECKING:
    from specflow.stages.engine import Contract, Prepared
from specflow.store.workspace import Task
from specflow.ui import notice

PROMPT_VERSION = "review-1"


@dataclass
class ReviewOptions:
    mode: Mode = "staged"
    rev_range: str | None = None
    paths: list[str] = field(default_factory=list)
    task_slug: str | None = None
    threshold: str | None = None
    use_cache: bool = True
    fail_open: bool | None = None  # None: the config decides (open locally, closed in CI)
    reply: str | None = None


PASS, FAIL, NOT_REVIEWED, BLOCKED = "PASS", "FAIL", "NOT REVIEWED", "BLOCKED"


@dataclass
class ReviewResult:
    verdict: str  # PASS | FAIL | NOT REVIEWED | BLOCKED: the gate's outcome
    findings: list[Finding]
    threshold: str
    blocked: bool
    cached: bool = False
    skipped: list[SkippedFile] = field(default_factory=list)
    reviewed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    handoff: Handoff | None = None
    task: str | None = None
    # The verdict-cache entry the verdict came from or went into, when the review memo may
    # answer the same review again: the cache is on and no task was skipped with a notice.
    memo_verdict: Path | None = None
    reason: str = ""  # NOT REVIEWED / BLOCKED: why
    next_command: str = ""  # NOT REVIEWED: the command that would review the change
    fail_open: bool = True  # NOT REVIEWED: pass (exit 0), or fail closed (exit 3)

    @property
    def exit_code(self) -> int:
        """PASS 0; FAIL and BLOCKED 1; NOT REVIEWED 0 failing open, 3 failing closed."""
        if self.verdict == NOT_REVIEWED:
            return 0 if self.fail_open else 3
        return 1 if self.blocked else 0

    def not_reviewed(self, reason: str, command: str, fail_open: bool) -> ReviewResult:
        self.verdict, self.reason, self.next_command = NOT_REVIEWED, reason, command
        self.fail_open, self.blocked = fail_open, False
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.verdict,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "next_command": self.next_command,
            "blocked": self.blocked,
            "threshold": self.threshold,
            "cached": self.cached,
            "task": self.task,
            "reviewed": self.reviewed,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "findings": [f.model_dump() for f in self.findings],
            "notes": self.notes,
            "handoff": str(self.handoff.path) if self.handoff else None,
        }


def pick_task(
    session: Session, slug: str | None, paths: list[str], problems: list[str] | None = None
) -> tuple[Task | None, str | None]:
    """The task whose spec the change is checked against, and that spec's text.

    A task that cannot be read is skipped with a notice (and its message added to *problems*).
    """
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


def cache_key(session: Session, diff_text: str, spec: str | None, threshold: str) -> str:
    """The verdict cache's key: diff, spec, rules, prompt (and the threshold it states),
    model."""
    prompts = session.prompts
    digest = hashlib.sha256()
    for part in (
        PROMPT_VERSION,
        threshold,
        diff_text,
        spec or "",
        prompts.rules(),
        prompts.standards(),
        prompts.fingerprint("review.md.j2", "review-input.md.j2", "_contract_review.md.j2"),
        session.config.model,
        str(session.config.review.chunk_tokens),
    ):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _cache_path(session: Session, key: str) -> Path:
    return session.ws.cache_dir / "review" / f"{key[:32]}.json"


def _from_cache(session: Session, key: str) -> ReviewReply | None:
    path = _cache_path(session, key)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ReviewReply.model_validate(data["reply"])
    except (ValueError, KeyError):
        return None  # a damaged cache entry is a miss, never an error


def _to_cache(session: Session, key: str, reply: ReviewReply) -> None:
    ignore = session.ws.cache_dir / ".gitignore"
    if not ignore.exists():  # keeps the cache out of git without touching the user's files
        atomic_write_text(ignore, "# written by specflow: the review cache stays local\n*\n")
    atomic_write_text(
        _cache_path(session, key),
        json.dumps({"key": key, "reply": reply.model_dump()}, indent=1) + "\n",
    )


def secret_findings(
    files: list[FileDiff], also_scan: Sequence[FileDiff] = ()
) -> tuple[list[FileDiff], list[Finding]]:
    """Redact *files* for sending; report secrets in them and in *also_scan* (not sent)."""
    from specflow.gitx.secrets import redact_diff

    redacted, found = redact_diff(files)
    found = found + redact_diff(list(also_scan))[1]
    findings = [
        Finding(
            severity="BLOCKER",
            path=s.path or "(unknown)",
            line=s.line,
            rule="Secrets",
            message=f"secret staged ({s.kind}); remove it, and rotate it if it was ever pushed",
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
    """Review the change *options* names (its *diff*, when already read); the result says
    whether it blocks the commit."""
    session = gate_session(session)
    threshold = options.threshold or session.config.review.threshold
    if diff is None:
        diff = read_diff(session.ws.root, options.mode, options.rev_range, options.paths)
    files = parse_diff(diff)
    kept, skipped = filter_files(files, session.config.review.exclude)
    result = ReviewResult(
        "PASS", [], threshold, False, skipped=skipped, reviewed=[f.path for f in kept]
    )
    excluded_text = [f for f in files if not f.binary and f.path not in result.reviewed]
    redacted, secrets = secret_findings(kept, excluded_text)
    if secrets:  # found locally: the change is blocked whatever a model would say
        _verdict(result, secrets, threshold, note="secrets found: the model was not called")
        result.verdict, result.reason = BLOCKED, "a secret is staged"
        return result
    if not kept:
        result.notes.append("nothing to review: the diff is empty after skipping files")
        return result
    if not _within_size(kept, session, options, result):
        return result
    problems: list[str] = []
    task, spec = pick_task(session, options.task_slug, result.reviewed, problems)
    result.task = task.slug if task else None
    key = cache_key(session, "".join(f.text for f in redacted), spec, threshold)
    if options.reply is not None:
        # The handoff gate: the verdict is recorded for this exact change (the verdict
        # cache's key), and the next review of the same change enforces it.
        reply = _ingest(session, task, redacted, options.reply, threshold)
        _to_cache(session, key, reply)
        result.notes.append("verdict recorded for this staged change; `git commit` enforces it")
        return _verdict(result, reply.findings, threshold)
    cached = (
        _from_cache(session, key) if options.use_cache and session.config.review.cache else None
    )
    if cached is not None:
        result.cached = True
        result.memo_verdict = None if problems else _cache_path(session, key)
        return _verdict(result, cached.findings, threshold)
    fail_open = _fail_open(session, options, ci)
    merged = _ask_model(session, task, spec, redacted, result, fail_open, ci, threshold)
    if merged is None:
        return result  # NOT REVIEWED: a handoff prompt was written, or no model answered
    _to_cache(session, key, merged)
    if not problems and options.use_cache and session.config.review.cache:
        result.memo_verdict = _cache_path(session, key)
    return _verdict(result, merged.findings, threshold)


def _within_size(
    kept: list[FileDiff], session: Session, options: ReviewOptions, result: ReviewResult
) -> bool:
    """False (with a note) when an oversized diff passes on --fail-open; raises otherwise."""
    changed = sum(f.added + f.removed for f in kept)
    limit = session.config.review.max_diff_lines
    if changed <= limit:
        return True
    message = (
        f"the diff changes {changed:,} lines, over [review] max_diff_lines "
        f"({limit:,}); review it in parts (--files, --range) or raise the limit"
    )
    if not options.fail_open:
        raise CheckFailed(message + " (or pass --fail-open to let it through)")
    result.notes.append(message + "; passing because of --fail-open")
    return False


def _ask_model(
    session: Session,
    task: Task | None,
    spec: str | None,
    files: list[FileDiff],
    result: ReviewResult,
    fail_open: bool,
    ci: bool,
    threshold: str,
) -> ReviewReply | None:
    """The merged verdict of the model, or None when no review ran (NOT REVIEWED)."""
    if ci and session.resolved.provider == "handoff":
        result.not_reviewed(
            "no model credentials in CI (a pull request from a fork has no secrets)",
            "set ANTHROPIC_API_KEY (or configure a provider), or pass --fail-open",
            fail_open,
        )
        return None
    try:
        merged = _review_chunks(session, task, spec, files, result, threshold)
    except ProviderUnreachable as exc:
        why = (
            f"the review did not run: {str(exc).rstrip('.')} (the gate waits up to "
            f"[review] timeout_s = {session.config.review.timeout_s:g} s per attempt)"
        )
        result.not_reviewed(why, _retry_command(result), fail_open)
        return None
    if merged is None and result.handoff is not None:
        reason = (
            f"no model configured: the review prompt is in {session.ws.rel(result.handoff.path)}"
        )
        result.not_reviewed(reason, result.handoff.command, fail_open)
    return merged


def _retry_command(result: ReviewResult) -> str:
    return "specflow review --staged (when the provider is reachable)"


def _fail_open(session: Session, options: ReviewOptions, ci: bool) -> bool:
    if options.fail_open is not None:
        return options.fail_open
    review = session.config.review
    return not review.fail_closed_in_ci if ci else review.fail_open_locally


def _verdict(
    result: ReviewResult, findings: list[Finding], threshold: str, note: str = ""
) -> ReviewResult:
    result.findings = findings
    result.blocked = blocks(findings, threshold)
    result.verdict = "FAIL" if result.blocked else "PASS"
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
    *threshold*, the same one _contract_for holds the reply to."""
    from specflow.stages.describe import fence_for
    from specflow.stages.engine import Prepared

    part, parts = where
    variables = render_vars(session, threshold=threshold)
    system = [
        *rules_blocks(session, standards=True, spec=spec),
        SystemBlock(session.prompts.render("review.md.j2", **variables), label="instructions"),
    ]
    turn = session.prompts.render(
        "review-input.md.j2",
        diff=chunk_text,
        files=paths,
        part=part,
        parts=parts,
        spec_available=spec is not None,
        fence=fence_for(chunk_text),
    )
    return Prepared("review", system, turn)


def _contract_for(paths: list[str], threshold: str) -> Contract:
    return contract_for("review", ContractContext(diff_paths=set(paths), threshold=threshold))


def _review_chunks(
    session: Session,
    task: Task | None,
    spec: str | None,
    files: list[FileDiff],
    result: ReviewResult,
    threshold: str,
) -> ReviewReply | None:
    handoff = session.resolved.provider == "handoff"
    chunks: list[Chunk] = (
        [] if handoff else split_for_budget(files, session.config.review.chunk_tokens)
    )
    if handoff:  # one prompt for a person to paste: no splitting
        paths = [f.path for f in files]
        pieces = [("".join(f.text for f in files), paths)]
    else:
        pieces = [(c.text, c.paths) for c in chunks]
    findings: list[Finding] = []
    session.printer.echo = False  # the verdict is summarised below; don't stream it too
    for n, (text, paths) in enumerate(pieces, 1):
        if len(pieces) > 1:
            notice(
                f"review: part {n} of {len(pieces)} ({', '.join(paths[:3])}"
                f"{', …' if len(paths) > 3 else ''})"
            )
        prepared = _prepare(session, spec, text, paths, (n, len(pieces)), threshold)
        contract = _contract_for(paths, threshold)
        outcome = execute(session, task, prepared, contract, reply=None, command="specflow review")
        if isinstance(outcome, Handoff):
            result.handoff = outcome
            return None
        for finding in outcome.value.findings:
            if finding not in findings:  # a file split across parts may be flagged twice
                findings.append(finding)
    failed = blocks(findings, threshold)
    return ReviewReply(verdict="FAIL" if failed else "PASS", findings=findings)


def _ingest(
    session: Session, task: Task | None, files: list[FileDiff], source: str, threshold: str
) -> ReviewReply:
    paths = [f.path for f in files]
    prepared = _prepare(session, None, "", paths, (1, 1), threshold)
    contract = _contract_for(paths, threshold)
    outcome = execute(session, task, prepared, contract, reply=source, command="specflow review")
    assert not isinstance(outcome, Handoff)
    reply: ReviewReply = outcome.value
    return reply


def format_result(result: ReviewResult) -> str:
    head = f"specflow review: {result.verdict}" + (" (cached)" if result.cached else "")
    lines = [head + (f" — {result.reason}" if result.reason else "")]
    if result.verdict == NOT_REVIEWED:
        lines.append(f"  to review it: {result.next_command}")
        if result.handoff is not None:
            lines.append("  (paste the prompt into any chat or agent and save its answer)")
    for f in result.findings:
        where = f"{f.path}:{f.line}" if f.line else f.path
        evidence = f" Evidence: `{f.evidence}`" if f.evidence else ""
        lines.append(f"  [{f.severity}] {where} — {f.rule} — {f.message.rstrip('.')}.{evidence}")
    for s in result.skipped:
        lines.append(f"  skipped {s.path}: {s.reason}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    if result.blocked:
        lines.append(f"Blocked: findings at or above {result.threshold}.")
    return "\n".join(lines) + "\n"
