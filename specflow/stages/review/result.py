"""What a review was asked and what it found: the options, the four outcomes, the text form.

PASS (a review ran and held), FAIL (a finding at or above the threshold), NOT REVIEWED (no
review ran: no model, provider unreachable, skipped, .specflow/ not writable — with the
reason and the command that would review it), BLOCKED (a staged secret, an oversized change).
"PASS" is printed for nothing but the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.gitx.diffs import SkippedFile
from specflow.stages.review.memo import Mode

if TYPE_CHECKING:
    from specflow.contracts.models import Finding
    from specflow.stages.session import Handoff

PASS, FAIL, NOT_REVIEWED, BLOCKED = "PASS", "FAIL", "NOT REVIEWED", "BLOCKED"


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

    def command(self) -> str:
        """The command that reviews the same change again, as the user would type it."""
        if self.mode == "range":
            return f"specflow review --range {self.rev_range}"
        if self.mode == "files":
            return "specflow review " + " ".join(f"--files {p}" for p in self.paths)
        return "specflow review --staged"


@dataclass
class ReviewResult:
    verdict: str  # the outcome: PASS | FAIL | NOT REVIEWED | BLOCKED
    findings: list[Finding]
    threshold: str
    blocked: bool  # a finding at or above the threshold
    cached: bool = False
    skipped: list[SkippedFile] = field(default_factory=list)
    reviewed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    handoff: Handoff | None = None
    task: str | None = None
    # The verdict-cache entry the verdict came from or went into, when the review memo may
    # answer the same review again: the cache is on and no task was skipped with a notice.
    memo_verdict: Path | None = None
    reason: str = ""  # NOT REVIEWED and BLOCKED: why
    next_command: str = ""  # NOT REVIEWED: the command that would review the change
    fail_open: bool = True  # NOT REVIEWED: pass (exit 0), or fail closed (exit 3)

    @property
    def exit_code(self) -> int:
        """PASS 0; FAIL and BLOCKED 1; NOT REVIEWED 0 failing open, 3 failing closed."""
        if self.verdict == NOT_REVIEWED:
            return 0 if self.fail_open else 3
        return 1 if self.verdict in (FAIL, BLOCKED) else 0

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


def format_result(result: ReviewResult) -> str:
    head = f"specflow review: {result.verdict}" + (" (cached)" if result.cached else "")
    lines = [head + (f" — {result.reason}" if result.reason else "")]
    if result.verdict == NOT_REVIEWED:
        lines.append(f"  to review it: {result.next_command}")
        if result.handoff is not None:
            lines.append(
                "  (paste the prompt into any chat or agent, save its answer to that file)"
            )
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
