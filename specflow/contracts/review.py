"""The review contract: a verdict, and findings that each cite a rule and quote the code."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

from specflow.contracts.base import ContractResult, Violation
from specflow.contracts.markdown import (
    ListItem,
    Section,
    check_outline,
    code_span,
    code_spans,
    empty_violation,
    finish,
    heading_ref,
    norm,
    parse,
    preamble_violation,
    prose,
    rejected,
    unquote_code,
)
from specflow.contracts.rules import DEFAULT_HEDGES, keep, phrase_pattern, violation
from specflow.contracts.unwrap import unwrap_outer_fence

if TYPE_CHECKING:
    from specflow.contracts.evidence import ChangedFile
    from specflow.contracts.models import ReviewReply, Severity, Verdict

SEVERITIES: tuple[Severity, ...] = ("BLOCKER", "MAJOR", "MINOR", "NIT")  # most severe first
_BY_NAME: dict[str, Severity] = {s: s for s in SEVERITIES}
_RANK: dict[str, int] = {s: len(SEVERITIES) - 1 - i for i, s in enumerate(SEVERITIES)}
VERDICT = "Verdict"
FINDINGS = "Findings"
FINDING_FORM = (
    "`` - [SEVERITY] path:line — <rule or spec section> — <what is wrong>. Evidence: `<code>` ``"
)

_SEVERITY = re.compile(r"[*_]*\[(?P<severity>[^\]]*)\][*_]*\s*")
_EVIDENCE = re.compile(r"[*_]*evidence[*_]*\s*:[*_]*", re.I)
_LOCATION = re.compile(r"(?P<path>.+?)(?::(?P<line>\d+)(?:\s*[-–]\s*\d+)?)?")
# The parts of a finding are split at ` — `; `--` and ` - ` are accepted when no dash is used.
# A separator at the very start means the path is missing.
_SEPARATORS = tuple(re.compile(rf"(?:^|\s+){dash}\s+") for dash in ("[—–]", "--", "-"))


def severity_rank(severity: str) -> int:
    """How severe *severity* is: NIT 0, MINOR 1, MAJOR 2, BLOCKER 3 (any letter case)."""
    rank = _RANK.get(severity.strip().upper())
    if rank is None:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    return rank


class _Severe(Protocol):
    @property
    def severity(self) -> str: ...


def blocks(findings: Iterable[_Severe], threshold: str) -> bool:
    """Whether any finding is at or above *threshold* (the severity that fails a change)."""
    bar = severity_rank(threshold)
    return any(severity_rank(f.severity) >= bar for f in findings)


def check_review(
    text: str,
    diff_paths: set[str] | None,
    threshold: str = "MAJOR",
    *,
    changes: Mapping[str, ChangedFile] | None = None,
    planned: Sequence[str] = (),
    hedges: Sequence[str] | None = None,
    disabled: frozenset[str] = frozenset(),
) -> ContractResult[ReviewReply]:
    """Check a review reply; findings must name files of the diff when *diff_paths* is given.

    The verdict is FAIL exactly when a finding is at or above *threshold*. With *changes*
    (evidence.changed_files of the reviewed diff) each finding must point inside the change
    and quote code it holds (contracts/evidence.py); a finding may name a *planned* file
    the change lacks, at line 0 or 1, without evidence. *hedges*: the rules' hedging
    phrases; *disabled*: content rule ids switched off.
    """
    unwrapped = unwrap_outer_fence(text)
    if unwrapped.hint is not None:
        return rejected([unwrapped.hint])
    context = _Context(diff_paths, changes, tuple(planned), hedges, disabled)
    result = _check_review(unwrapped.text, threshold, context)
    result.notes.extend([unwrapped.note] if unwrapped.note else [])
    return result


class _Context(NamedTuple):
    diff_paths: set[str] | None
    changes: Mapping[str, ChangedFile] | None
    planned: tuple[str, ...]
    hedges: Sequence[str] | None
    disabled: frozenset[str]

    def missing_planned(self, path: str, line: int | None) -> bool:
        """A finding about a planned file the change lacks (no evidence to quote)."""
        known = self.diff_paths if self.diff_paths is not None else set(self.changes or ())
        cleaned = _clean_path(path)
        return (
            cleaned in {_clean_path(p) for p in self.planned}
            and cleaned not in known
            and line in (None, 0, 1)
        )


def _check_review(text: str, threshold: str, context: _Context) -> ContractResult[ReviewReply]:
    bar = severity_rank(threshold)
    doc = parse(text)
    outline = check_outline(doc.sections, (VERDICT, FINDINGS))
    violations = list(outline.violations)
    before = preamble_violation(doc, heading_ref(VERDICT))
    if before:
        violations.append(before)
    verdict_section = outline.found.get(norm(VERDICT))
    findings_section = outline.found.get(norm(FINDINGS))
    verdict = _verdict(verdict_section, violations) if verdict_section else None
    if findings_section is None:
        return rejected(violations)
    before_findings = len(violations)
    pairs = _findings(findings_section, context, violations)
    violations.extend(_content(pairs, context))
    violations = keep(violations, context.disabled)
    if verdict is None:
        return rejected(violations)
    # A malformed finding may be the one that justifies FAIL: judge the verdict only when
    # every finding could be read.
    readable = len(violations) == before_findings
    violations.extend(_consistency(verdict, pairs, bar, readable))
    drafts = [finding for finding, _ in pairs]
    return finish(violations, lambda: _reply(verdict, drafts))


class _Finding(NamedTuple):
    """A well-formed finding; the pydantic Finding is made only with the value, so that
    checking a reply (`specflow check review`) needs no pydantic."""

    severity: Severity
    path: str
    line: int | None
    rule: str
    message: str
    evidence: str


def _reply(verdict: Verdict, drafts: list[_Finding]) -> ReviewReply:
    from specflow.contracts.models import Finding, ReviewReply

    return ReviewReply(verdict=verdict, findings=[Finding(**d._asdict()) for d in drafts])


def _verdict(section: Section, out: list[Violation]) -> Verdict | None:
    if section.is_empty:
        out.append(empty_violation(section, "write `PASS` or `FAIL`"))
        return None
    word = section.content_text.strip("*_`").strip()
    if word.upper() == "PASS":
        return "PASS"
    if word.upper() == "FAIL":
        return "FAIL"
    shown = " ".join(word.split())
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    out.append(
        Violation(
            f"{section.ref} must be exactly `PASS` or `FAIL` (line {section.line}); "
            f"found `{shown}`",
            section.line,
        )
    )
    return None


def _content(pairs: list[tuple[_Finding, int]], context: _Context) -> list[Violation]:
    """Hedged findings; with the change, findings outside it or quoting what it lacks."""
    from specflow.contracts.evidence import Located, evidence_violations

    out: list[Violation] = []
    pattern = _hedges(tuple(DEFAULT_HEDGES if context.hedges is None else context.hedges))
    for finding, line in pairs:
        match = pattern.search(prose(finding.message)) if pattern else None
        if match is not None:
            out.append(
                violation(
                    "review.hedge",
                    f'the finding on line {line} hedges with "{match.group()}"',
                    line,
                )
            )
    if context.changes is not None:
        located = [
            Located(f.path, f.line, f.evidence, line)
            for f, line in pairs
            if not context.missing_planned(f.path, f.line)
        ]
        out.extend(evidence_violations(located, context.changes, context.planned))
    return out


_HEDGE_PATTERNS: dict[tuple[str, ...], re.Pattern[str] | None] = {}


def _hedges(hedges: tuple[str, ...]) -> re.Pattern[str] | None:
    if hedges not in _HEDGE_PATTERNS:
        _HEDGE_PATTERNS[hedges] = phrase_pattern(hedges)
    return _HEDGE_PATTERNS[hedges]


def _findings(
    section: Section, context: _Context, out: list[Violation]
) -> list[tuple[_Finding, int]]:
    """Each finding with its line; `None.` means there are none."""
    if section.is_empty:
        out.append(empty_violation(section, "write `None.` when there are no findings"))
        return []
    if section.content_text in ("None.", "None"):
        return []
    for block in section.content_blocks:
        if block.kind != "list":
            out.append(
                Violation(
                    f"text (line {block.line}) in {section.ref} is outside its list; write one "
                    f"{FINDING_FORM} per finding, or exactly `None.`",
                    block.line,
                )
            )
    pairs: list[tuple[_Finding, int]] = []
    diff_paths = context.diff_paths
    for item in section.items:
        finding = _finding(item, out, context)
        if finding is None:
            continue
        missing = context.missing_planned(finding.path, finding.line)
        if diff_paths is not None and _clean_path(finding.path) not in diff_paths and not missing:
            out.append(_not_in_diff(finding.path, item.line, diff_paths))
        pairs.append((finding, item.line))
    return pairs


def _not_in_diff(path: str, line: int, diff_paths: set[str]) -> Violation:
    known = sorted(diff_paths)
    listed = ", ".join(f"`{p}`" for p in known[:10]) + (", ..." if len(known) > 10 else "")
    return Violation(
        f"the finding on line {line} names `{path}`, which is not in the diff; findings point "
        f"at changed files: {listed or '(none)'}",
        line,
    )


def _finding(item: ListItem, out: list[Violation], context: _Context) -> _Finding | None:
    """Parse `[SEV] path[:line] — rule — message. Evidence: `code``, naming a missing part."""
    text = item.one_line
    where = f"the finding on line {item.line}"

    def bad(problem: str) -> None:
        out.append(Violation(f"{where} {problem}; write it as {FINDING_FORM}", item.line))

    head = _SEVERITY.match(text)
    if head is None:
        bad("does not start with a severity in brackets, e.g. `[MAJOR]`")
        return None
    severity = head.group("severity").strip().upper()
    if severity not in _BY_NAME:
        shown = head.group("severity").strip()
        bad(f"has the severity `[{shown}]`; use one of {', '.join(SEVERITIES)}")
        return None
    rest = text[head.end() :]
    evidence_at = _evidence_label(rest)
    body = rest[: evidence_at.start()] if evidence_at else rest
    parts = _split_parts(body)
    path, line = _location(parts[0])
    if not path:
        bad("has no file path after the severity")
        return None
    if len(parts) < 3 or not parts[1]:
        bad("is missing the rule or spec section it rests on (parts are separated by ` — `)")
        return None
    message = parts[2].strip().removesuffix(".").strip()
    if not message:
        bad("does not say what is wrong")
        return None
    evidence = _evidence(rest[evidence_at.end() :]) if evidence_at is not None else ""
    if not evidence and context.missing_planned(path, line):
        pass  # a planned file the change lacks has no code to quote
    elif evidence_at is None:
        bad("has no `Evidence:` quoting the code")
        return None
    elif not evidence:
        bad("has an empty `Evidence:`")
        return None
    return _Finding(
        severity=_BY_NAME[severity],
        path=path,
        line=line,
        rule=parts[1].strip(),
        message=message,
        evidence=evidence,
    )


def _evidence_label(rest: str) -> re.Match[str] | None:
    """The last `Evidence:` outside code spans (code may itself contain the word)."""
    spans = code_spans(rest)
    found = None
    for match in _EVIDENCE.finditer(rest):
        if not any(a <= match.start() < b for a, b in spans):
            found = match
    return found


def _split_parts(body: str) -> list[str]:
    """path, rule, message: split at the first two separators of the strongest kind used."""
    for separator in _SEPARATORS:
        parts = separator.split(body, maxsplit=2)
        if len(parts) > 1:
            return [p.strip() for p in parts]
    return [body.strip()]


def _evidence(text: str) -> str:
    """The quoted code: the content of the code span when the evidence is one, else the text."""
    text = text.strip().rstrip("*_").strip()
    spans = code_spans(text)
    if len(spans) == 1 and spans[0] == (0, len(text)):
        return unquote_code(text)
    return text


def _location(text: str) -> tuple[str, int | None]:
    cleaned = unquote_code(text.strip()).strip()
    match = _LOCATION.fullmatch(cleaned)
    if match is None:  # empty
        return "", None
    line = match.group("line")
    return match.group("path").strip(), int(line) if line else None


def _clean_path(path: str) -> str:
    path = path.replace("\\", "/")
    return path[2:] if path.startswith("./") else path


def _consistency(
    verdict: Verdict, pairs: list[tuple[_Finding, int]], bar: int, readable: bool
) -> list[Violation]:
    """FAIL exactly when a finding reaches the bar (a severity rank)."""
    above = [(f, line) for f, line in pairs if severity_rank(f.severity) >= bar]
    at_or_above = " or ".join(s for s in SEVERITIES if _RANK[s] >= bar)
    if verdict == "FAIL" and not above and readable:
        return [
            Violation(
                f"the verdict is FAIL but no finding is {at_or_above}; list the finding that "
                "fails the change, or make the verdict PASS"
            )
        ]
    if verdict == "PASS" and above:
        finding, line = above[0]
        return [
            Violation(
                f"the verdict is PASS but the finding on line {line} is {finding.severity}; "
                f"a {at_or_above} finding means FAIL",
                line,
            )
        ]
    return []


def render_review(reply: ReviewReply) -> str:
    """*reply* in the contract's Markdown (check_review() reads it back unchanged)."""
    lines = ["## Verdict", "", reply.verdict, "", "## Findings", ""]
    if not reply.findings:
        lines.append("None.")
    for f in reply.findings:
        where = f"{f.path}:{f.line}" if f.line is not None else f.path
        message = f.message if f.message.endswith((".", "!", "?")) else f.message + "."
        evidence = f" Evidence: {code_span(f.evidence)}" if f.evidence else ""
        lines.append(f"- [{f.severity}] {where} — {f.rule} — {message}{evidence}")
    return "\n".join(lines) + "\n"
