"""The implement contract: one file's whole content in one code block (or, in the edit form,
SEARCH/REPLACE blocks applied to the file), then a self-review against the engineering
standards' checklist. This module owns the reply's layout; the self-review lines are
self_review.py's, the checks of the code itself code_checks.py's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from specflow.contracts.base import ContractResult, Violation
from specflow.contracts.code_checks import (
    EDITED,
    code_violations,
    language_of,
    syntax_violations,
)
from specflow.contracts.markdown import (
    Document,
    Fence,
    Section,
    code_span,
    finish,
    heading_ref,
    norm,
    parse,
    rejected,
    unquote_code,
)
from specflow.contracts.rules import keep
from specflow.contracts.self_review import (
    SELF_REVIEW,
    ReviewLine,
    check_self_review,
    failed_review,
    stray_blocks,
)
from specflow.contracts.unwrap import unwrap_outer_fence

if TYPE_CHECKING:
    from specflow.contracts.models import ImplementReply

LAYOUT = (
    "the reply is an optional `## File: <path>`, one fenced code block with the whole file, "
    "then `## Self-Review`"
)

_FILE_HEADING = re.compile(r"file\s*:\s*(?P<path>.*)", re.I | re.S)


def check_implement(
    text: str,
    path: str | None,
    checklist: list[str],
    *,
    current: str | None = None,
    directives: Sequence[str] = (),
    disabled: frozenset[str] = frozenset(),
) -> ContractResult[ImplementReply]:
    """Check an implement reply for *path* against the *checklist* item names.

    A reply in the edit form (`## Edit: PATH` with SEARCH/REPLACE blocks, see
    contracts/edits.py) is applied to *current*; the applied text then gets the same checks as
    a whole file, and is the value's `code`.

    *current*: the file's content on disk today (None: a new file), to find definitions the
    reply drops and to apply an edit reply to; *directives*: the spec's Implementation
    Directives and file-plan lines, which may say to remove or replace one; *disabled*:
    content rule ids switched off.
    """
    unwrapped = unwrap_outer_fence(text)
    if unwrapped.hint is not None:
        return rejected([unwrapped.hint])
    from specflow.contracts.edits import is_edit_reply

    check = _check_edit_reply if is_edit_reply(unwrapped.text) else _check_implement
    result = check(unwrapped.text, path, checklist, current, directives, disabled)
    result.notes.extend([unwrapped.note] if unwrapped.note else [])
    return result


def _check_implement(
    text: str,
    path: str | None,
    checklist: list[str],
    current: str | None,
    directives: Sequence[str],
    disabled: frozenset[str],
) -> ContractResult[ImplementReply]:
    doc = parse(text)
    violations: list[Violation] = []
    file_section, review = _layout(doc, violations)
    if file_section is not None:
        path = _check_file_heading(file_section, path, violations)
    holder = file_section if file_section is not None else doc.preamble
    fence = _the_fence(doc, holder, review, path, violations)
    if holder is not None:
        violations.extend(stray_blocks(holder, {"fence"}, f"outside the code block; {LAYOUT}"))
    items = _reviewed(review, checklist, violations, "the code block")
    if fence is None:
        return rejected(keep(violations, disabled))  # _the_fence() said why
    language = language_of(path, fence)
    syntax = syntax_violations(fence, language, path)
    violations.extend(syntax)
    if not syntax:
        violations.extend(code_violations(fence, language, path, current, directives, disabled))
    violations = keep(violations, disabled)
    return finish(violations, lambda: _reply(path, language, fence.content, items))


def _reviewed(
    review: Section | None, checklist: list[str], violations: list[Violation], after: str
) -> list[ReviewLine]:
    """The self-review's lines, checked against *checklist*; a missing self-review and each
    FAIL line it admits are added to *violations*."""
    items: list[ReviewLine] = []
    if review is None:
        violations.append(
            Violation(f"{heading_ref(SELF_REVIEW)} is missing; it comes after {after}")
        )
    else:
        items = check_self_review(review, checklist, violations)
    violations.extend(failed_review(items))
    return items


def _check_edit_reply(
    text: str,
    path: str | None,
    checklist: list[str],
    current: str | None,
    directives: Sequence[str],
    disabled: frozenset[str],
) -> ContractResult[ImplementReply]:
    """An edit reply: its blocks applied to *current*, then the self-review, then the syntax
    and content checks on the applied text, as for a whole file."""
    from specflow.contracts.edits import SELF_REVIEW as EDIT_REVIEW
    from specflow.contracts.edits import check_edit, parse_edit_reply

    applied = check_edit(text, path, current)
    violations = list(applied.violations)
    if path is None:
        parsed = parse_edit_reply(text)
        path = parsed.path if not isinstance(parsed, list) else None
    review = next(
        (s for s in parse(text).sections if s.level == 2 and s.key == norm(EDIT_REVIEW)), None
    )
    items = _reviewed(review, checklist, violations, "the edit blocks")
    if applied.text is None:
        return rejected(keep(violations, disabled))
    fence = Fence("", applied.text, EDITED, EDITED)
    language = language_of(path, fence)
    syntax = syntax_violations(fence, language, path)
    violations.extend(syntax)
    if not syntax:
        violations.extend(code_violations(fence, language, path, current, directives, disabled))
    violations = keep(violations, disabled)
    return finish(violations, lambda: _reply(path, language, applied.text or "", items))


def _reply(
    path: str | None, language: str | None, code: str, lines: list[ReviewLine]
) -> ImplementReply:
    from specflow.contracts.models import ImplementReply, ReviewItem

    review = [ReviewItem(**line._asdict()) for line in lines]
    return ImplementReply(path=path, language=language, code=code, self_review=review)


def _layout(doc: Document, violations: list[Violation]) -> tuple[Section | None, Section | None]:
    """The `## File:` section (first heading only) and the `## Self-Review` section."""
    file_section: Section | None = None
    review: Section | None = None
    for position, section in enumerate(doc.sections):
        is_file = _FILE_HEADING.fullmatch(section.title) is not None and section.level == 2
        if is_file and position == 0:
            file_section = section
        elif section.key == norm(SELF_REVIEW) and section.level == 2 and review is None:
            review = section
        elif section.key == norm(SELF_REVIEW) and review is not None:
            violations.append(
                Violation(
                    f"{section.ref} appears twice (lines {review.line} and {section.line}); "
                    "keep one",
                    section.line,
                )
            )
        else:
            violations.append(
                Violation(
                    f"unexpected heading {section.ref} (line {section.line}); {LAYOUT}",
                    section.line,
                )
            )
    if file_section is not None and doc.preamble is not None:
        line = doc.preamble.line
        violations.append(
            Violation(f"text before {file_section.ref} (line {line}); {LAYOUT}", line)
        )
    return file_section, review


def _check_file_heading(section: Section, path: str | None, out: list[Violation]) -> str | None:
    match = _FILE_HEADING.fullmatch(section.title)
    assert match is not None  # _layout() only picks a heading that matches
    named = unquote_code(match.group("path").strip()).strip("\"'")
    if not named:
        out.append(
            Violation(
                f"{section.ref} names no file (line {section.line}); write "
                f"`## File: {path or '<path>'}`",
                section.line,
            )
        )
        return path
    if path is not None and _same_path(named, path) is False:
        out.append(
            Violation(
                f"{section.ref} names `{named}` but the requested file is `{path}` "
                f"(line {section.line}); write only `{path}`",
                section.line,
            )
        )
        return path
    return path if path is not None else named


def _same_path(a: str, b: str) -> bool:
    def clean(p: str) -> str:
        p = p.strip().replace("\\", "/")
        return p[2:] if p.startswith("./") else p

    return clean(a) == clean(b)


def _the_fence(
    doc: Document,
    holder: Section | None,
    review: Section | None,
    path: str | None,
    out: list[Violation],
) -> Fence | None:
    """The one code block, or None with the violation that says why there is not one."""
    fences = doc.fences
    target = f"`{path}`" if path else "the file"
    if not fences:
        out.append(
            Violation(
                f"the reply has no fenced code block; put the whole content of {target} "
                "in one fenced block"
            )
        )
        return None
    if len(fences) > 1:
        lines = ", ".join(str(f.line) for f in fences[:-1]) + f" and {fences[-1].line}"
        out.append(
            Violation(
                f"the reply has {len(fences)} fenced code blocks (lines {lines}); it must hold "
                f"exactly one, with the whole content of {target}",
                fences[1].line,
            )
        )
        return None
    fence = fences[0]
    if not fence.closed:
        out.append(
            Violation(
                f"the code block (line {fence.line}) is never closed: the reply ends inside it; "
                f"close it with {code_span(fence.markup)}",
                fence.line,
            )
        )
        return None
    if holder is None or fence not in holder.fences:
        where = review.ref if review is not None and fence in review.fences else "the wrong place"
        out.append(
            Violation(f"the code block (line {fence.line}) is in {where}; {LAYOUT}", fence.line)
        )
        return None
    return fence
