"""The scope contract: 5–8 pointed questions, the risks, one simplification — or a blocker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from specflow.contracts.base import ContractResult, Violation
from specflow.contracts.markdown import (
    Document,
    Section,
    check_outline,
    empty_violation,
    finish,
    heading_ref,
    norm,
    parse,
    plural,
    preamble_violation,
    rejected,
)

if TYPE_CHECKING:
    from specflow.contracts.models import BlockerReply, ScopeReply

MIN_QUESTIONS = 5
MAX_QUESTIONS = 8
QUESTIONS = "Scoping Questions"
RISKS = "Current Risks / Ambiguities"
SIMPLIFICATION = "Proposed Simplification"
BLOCKER = "Blocker"
NEEDS = "What I Need From You"
DISCOVERY = "Phase 0 Discovery Plan"
NORMAL_FORM = (QUESTIONS, RISKS, SIMPLIFICATION)
BLOCKER_FORM = (BLOCKER, NEEDS, DISCOVERY)


def check_scope(
    text: str, min_questions: int = MIN_QUESTIONS, max_questions: int = MAX_QUESTIONS
) -> ContractResult[ScopeReply | BlockerReply]:
    """Check a scope reply; the first heading decides which form it must follow."""
    doc = parse(text)
    first = doc.sections[0].key if doc.sections else None
    if first == norm(QUESTIONS):
        return _check_questions_form(doc, (min_questions, max_questions))
    if first == norm(BLOCKER):
        return _check_blocker_form(doc)
    return rejected(_no_form(doc))


def _no_form(doc: Document) -> list[Violation]:
    starts = (
        f"a scope reply starts with {heading_ref(QUESTIONS)} (questions form) "
        f"or {heading_ref(BLOCKER)} (blocker form)"
    )
    if not doc.sections:
        return [Violation(f"the reply has no headings; {starts}", None)]
    section = doc.sections[0]
    violations = [
        Violation(
            f"the first heading is {section.ref} (line {section.line}); {starts}", section.line
        )
    ]
    before = preamble_violation(doc, f"{heading_ref(QUESTIONS)} or {heading_ref(BLOCKER)}")
    return ([before] if before else []) + violations


def _check_questions_form(
    doc: Document, allowed: tuple[int, int]
) -> ContractResult[ScopeReply | BlockerReply]:
    outline = check_outline(doc.sections, NORMAL_FORM)
    violations = list(outline.violations)
    before = preamble_violation(doc, heading_ref(QUESTIONS))
    if before:
        violations.append(before)
    questions = outline.found.get(norm(QUESTIONS))
    risks = outline.found.get(norm(RISKS))
    simplification = outline.found.get(norm(SIMPLIFICATION))
    if questions is not None:
        violations.extend(_question_violations(questions, *allowed))
    if risks is not None:
        violations.extend(_risk_violations(risks))
    if simplification is not None and simplification.is_empty:
        violations.append(empty_violation(simplification, "propose one simplification"))
    if questions is None or risks is None or simplification is None:
        return rejected(violations)

    def build() -> ScopeReply:
        from specflow.contracts.models import ScopeReply

        return ScopeReply(
            questions=[item.one_line for item in questions.items],
            risks=[item.one_line for item in risks.items],
            simplification=simplification.body_text,
        )

    return finish(violations, build)


def _question_violations(section: Section, least: int, most: int) -> list[Violation]:
    violations = [
        Violation(
            f"text outside the list in {section.ref} (line {block.line}); "
            "every question must be a list item",
            block.line,
        )
        for block in section.content_blocks
        if block.kind != "list"
    ]
    count = len(section.items)
    if not least <= count <= most:
        violations.append(
            Violation(
                f"{section.ref} has {plural(count, 'question')}; "
                f"the contract allows {least}–{most}",
                section.line,
            )
        )
    for number, item in enumerate(section.items, start=1):
        if not item.one_line.endswith("?"):
            violations.append(
                Violation(
                    f"question {number} (line {item.line}) does not end with `?`; "
                    "each list item must be one question",
                    item.line,
                )
            )
    return violations


def _risk_violations(section: Section) -> list[Violation]:
    if section.is_empty:
        return [empty_violation(section, "list at least one risk or ambiguity as `- <risk>`")]
    if not section.items:
        return [
            Violation(
                f"{section.ref} has no list items (line {section.line}); "
                "list at least one risk or ambiguity as `- <risk>`",
                section.line,
            )
        ]
    return []


def _check_blocker_form(doc: Document) -> ContractResult[ScopeReply | BlockerReply]:
    outline = check_outline(doc.sections, BLOCKER_FORM)
    violations = list(outline.violations)
    before = preamble_violation(doc, heading_ref(BLOCKER))
    if before:
        violations.append(before)
    advice = {
        BLOCKER: "say which integration is blocked and what is missing",
        NEEDS: "list what the user must supply",
        DISCOVERY: "list the steps that obtain what is missing",
    }
    for title, what in advice.items():
        section = outline.found.get(norm(title))
        if section is not None and section.is_empty:
            violations.append(empty_violation(section, what))
    found = outline.found

    def build() -> BlockerReply:
        from specflow.contracts.models import BlockerReply

        return BlockerReply(
            blocker=found[norm(BLOCKER)].body_text,
            needs=_list_or_text(found[norm(NEEDS)]),
            discovery_plan=found[norm(DISCOVERY)].body_text,
        )

    return finish(violations, build)


def _list_or_text(section: Section) -> list[str] | str:
    """The items when the section is nothing but a list, else its text."""
    if all(block.kind == "list" for block in section.content_blocks):
        return [item.one_line for item in section.items]
    return section.body_text
