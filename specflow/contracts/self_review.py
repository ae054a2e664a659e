"""The self-review an implement reply ends with: one `- <Name>: PASS|FAIL|N/A — <reason>`
line per item of the engineering standards' `## Review Checklist`; a FAIL carries its fix."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from specflow.contracts.base import Violation
from specflow.contracts.markdown import ListItem, Section, heading_ref, norm, parse
from specflow.contracts.rules import violation
from specflow.errors import ConfigError

if TYPE_CHECKING:
    from specflow.contracts.models import Status

SELF_REVIEW = "Self-Review"
CHECKLIST = "Review Checklist"
REVIEW_LINE = "`- <Name>: PASS|FAIL|N/A — <reason>`"

STATUSES: dict[str, Status] = {"PASS": "PASS", "FAIL": "FAIL", "N/A": "N/A"}
_STATUS = re.compile(r"[*_]*(?P<status>PASS|FAIL|N/A)\b[*_]*(?P<rest>.*)", re.I | re.S)
_REASON = re.compile(r"\s*(?:—|–|--|-|:)\s*(?P<reason>.*)", re.S)
_FIX = re.compile(r"\s*(?:—|–|--|\s-|;)\s*[*_]*fix[*_]*\s*:[*_]*", re.I)


def parse_checklist(standards_text: str) -> list[str]:
    """The item names of the standards' `## Review Checklist` (`- <Name>: <what to check>`)."""
    doc = parse(standards_text)
    section = next((s for s in doc.sections if s.key == norm(CHECKLIST)), None)
    if section is None:
        raise ConfigError(
            f"the engineering standards have no {heading_ref(CHECKLIST)} section; add one with "
            "one item per check, e.g. `- Logging: <what to check>`"
        )
    names: list[str] = []
    for item in section.items:
        name, colon, _ = item.one_line.partition(":")
        name = checklist_name(name)
        if not colon or not name:
            raise ConfigError(
                f"the engineering standards, line {item.line}: the checklist item is not "
                "`- <Name>: <what to check>`; give it a short name and a colon"
            )
        if norm(name) in (norm(n) for n in names):
            raise ConfigError(
                f"the engineering standards, line {item.line}: the checklist item `{name}` "
                "appears twice; keep one"
            )
        names.append(name)
    return names


def checklist_name(text: str) -> str:
    """A checklist name without the emphasis or backticks a writer may put around it."""
    return text.strip().strip("*_`").strip()


class ReviewLine(NamedTuple):
    """A well-formed self-review line; the pydantic ReviewItem is made only with the value,
    so that checking a reply (`specflow check implement`) needs no pydantic."""

    name: str
    status: Status
    reason: str
    fix: str | None


def failed_review(items: list[ReviewLine]) -> list[Violation]:
    """A FAIL line is the model admitting a violation: the reply goes back, not to disk."""
    return [
        violation(
            "implement.self-review-fail",
            f"the self-review says `{item.name}: FAIL — {item.reason}`"
            + (f" (its fix: {item.fix})" if item.fix else ""),
            None,
        )
        for item in items
        if item.status == "FAIL"
    ]


def stray_blocks(section: Section, allowed: set[str], what: str) -> list[Violation]:
    return [
        Violation(f"text (line {block.line}) {what}", block.line)
        for block in section.content_blocks
        if block.kind not in allowed
    ]


def check_self_review(
    section: Section, checklist: list[str], out: list[Violation]
) -> list[ReviewLine]:
    """The review items; each checklist item once (any order), each line well formed."""
    if section.is_empty:
        wanted = f": {', '.join(checklist)}" if checklist else ""
        out.append(
            Violation(
                f"{section.ref} is empty (line {section.line}); write one {REVIEW_LINE} "
                f"line per checklist item{wanted}",
                section.line,
            )
        )
        return []
    outside = f"in {section.ref} is outside its list; write one {REVIEW_LINE} per checklist item"
    out.extend(stray_blocks(section, {"list"}, outside))
    names = {norm(name): name for name in checklist}
    seen: dict[str, int] = {}
    items: list[ReviewLine] = []
    for entry in section.items:
        named = _entry_name(entry, section, names, seen, out)
        if named is not None:
            item = _review_item(
                named[0], named[1], f"{section.ref} line {entry.line}", entry.line, out
            )
            items.extend([item] if item is not None else [])
    out.extend(
        Violation(
            f"{section.ref} has no line for `{name}`; add `- {name}: PASS|FAIL|N/A — <reason>`",
            section.line,
        )
        for key, name in names.items()
        if key not in seen
    )
    return items


def _entry_name(
    entry: ListItem,
    section: Section,
    names: dict[str, str],
    seen: dict[str, int],
    out: list[Violation],
) -> tuple[str, str] | None:
    """The checklist name a review line is for (marked seen) and the text after its colon;
    None after reporting a line without a name, an unknown name or a repeated one."""
    where = f"{section.ref} line {entry.line}"
    raw_name, colon, rest = entry.one_line.partition(":")
    name = checklist_name(raw_name)
    key = norm(name)
    if not colon or not name:
        problem = f"{where} is not {REVIEW_LINE}"
    elif names and key not in names:
        problem = (
            f"{where} names `{name}`, which is not a checklist item; the items are: "
            f"{', '.join(names.values())}"
        )
    elif key in seen:
        problem = (
            f"`{name}` appears twice in {section.ref} (lines {seen[key]} and {entry.line}); "
            "keep one"
        )
    else:
        seen[key] = entry.line
        return names.get(key, name), rest
    out.append(Violation(problem, entry.line))
    return None


def _review_item(
    name: str, rest: str, where: str, line: int, out: list[Violation]
) -> ReviewLine | None:
    """The status, reason and fix after `<Name>:`, or None after reporting what is wrong."""
    status = _STATUS.fullmatch(rest.strip().lstrip("*_").strip())
    if status is None:
        out.append(
            Violation(
                f"{where}: `{name}` has no status; write `- {name}: PASS|FAIL|N/A — <reason>`", line
            )
        )
        return None
    verdict = STATUSES[status.group("status").upper()]
    reason_match = _REASON.fullmatch(status.group("rest"))
    reason, fix = _split_fix(reason_match.group("reason") if reason_match else "")
    if not reason:
        out.append(
            Violation(
                f"{where}: `{name}` has no reason after {verdict}; write "
                f"`- {name}: {verdict} — <reason>`",
                line,
            )
        )
        return None
    if verdict == "FAIL" and not fix:
        out.append(
            Violation(
                f"{where}: `{name}` is FAIL without a fix; append "
                "`— fix: <what was or must be changed>`",
                line,
            )
        )
        return None
    return ReviewLine(name, verdict, reason, fix)


def _split_fix(text: str) -> tuple[str, str | None]:
    match = _FIX.search(text)
    if match is None:
        return text.strip(), None
    return text[: match.start()].strip(), text[match.end() :].strip() or None
