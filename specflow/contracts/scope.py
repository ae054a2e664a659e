"""The scope contract: 5–8 pointed questions, the risks, one simplification — or a blocker."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from specflow.contracts.base import ContractResult, Violation
from specflow.contracts.markdown import (
    Document,
    Section,
    check_outline,
    empty_violation,
    finish,
    heading_ref,
    norm,
    outside_list,
    parse,
    plural,
    preamble_violation,
    prose,
    rejected,
)
from specflow.contracts.rules import (
    DEFAULT_HEDGES,
    QUESTION_STOPWORDS,
    content_words,
    keep,
    phrase_pattern,
    violation,
)
from specflow.contracts.unwrap import unwrap_outer_fence

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


# Two questions are the same when this share of their meaningful words is common to both.
SAME_QUESTION = 0.8
# Only questions with this many meaningful words are compared (short ones share too much).
MIN_WORDS = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[-*]\s+")
_CONCRETE = re.compile(r"\d|`[^`]+`|\b[A-Z][A-Za-z0-9]*[A-Z0-9]\w*\b")


class _Judge(NamedTuple):
    description: str | None
    hedges: Sequence[str]
    disabled: frozenset[str]


def check_scope(
    text: str,
    min_questions: int = MIN_QUESTIONS,
    max_questions: int = MAX_QUESTIONS,
    *,
    description: str | None = None,
    hedges: Sequence[str] | None = None,
    disabled: frozenset[str] = frozenset(),
) -> ContractResult[ScopeReply | BlockerReply]:
    """Check a scope reply; the first heading decides which form it must follow.

    *description*: the task's description (a question it already answers is a violation);
    *hedges*: the rules' hedging phrases; *disabled*: content rule ids switched off.
    """
    unwrapped = unwrap_outer_fence(text)
    if unwrapped.hint is not None:
        return rejected([unwrapped.hint])
    judge = _Judge(description, DEFAULT_HEDGES if hedges is None else hedges, disabled)
    doc = parse(unwrapped.text)
    first = doc.sections[0].key if doc.sections else None
    if first == norm(QUESTIONS):
        result = _check_questions_form(doc, (min_questions, max_questions), judge)
    elif first == norm(BLOCKER):
        result = _check_blocker_form(doc, judge)
    else:
        result = rejected(_no_form(doc))
    result.notes.extend([unwrapped.note] if unwrapped.note else [])
    return result


def _hedged(sections: Sequence[Section | None], hedges: Sequence[str]) -> list[Violation]:
    pattern = phrase_pattern(hedges)
    if pattern is None:
        return []
    out: list[Violation] = []
    for section in sections:
        if section is None:
            continue
        for inline in section.inlines:
            match = pattern.search(prose(inline.source))
            if match is not None:
                line = inline.line_at(match.start())
                out.append(
                    violation(
                        "scope.hedge",
                        f'hedging "{match.group()}" in {section.ref} (line {line})',
                        line,
                    )
                )
    return out


def _question_content(section: Section, description: str | None) -> list[Violation]:
    """Questions asked twice in other words; questions the description answers."""
    out: list[Violation] = []
    seen: list[tuple[set[str], int]] = []
    for item in section.items:
        words = content_words(prose(item.one_line), QUESTION_STOPWORDS)
        if len(words) < MIN_WORDS:
            continue
        twin = next((line for other, line in seen if _same(words, other)), None)
        if twin is not None:
            out.append(
                violation(
                    "scope.duplicate-question",
                    f"the question on line {item.line} asks again what line {twin} asks",
                    item.line,
                )
            )
        seen.append((words, item.line))
        answer = _answered(words, description) if description else None
        if answer is not None:
            out.append(
                violation(
                    "scope.answered-question",
                    f'the description answers the question on line {item.line}: "{answer}"',
                    item.line,
                )
            )
    return out


def _same(a: set[str], b: set[str]) -> bool:
    return len(a & b) / len(a | b) >= SAME_QUESTION


def _answered(words: set[str], description: str) -> str | None:
    """A statement of the description that holds every meaningful word of the question
    and a concrete value (a number, code, a name) besides."""
    for sentence in _SENTENCE.split(description):
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?"):
            continue
        if words <= content_words(sentence) and _CONCRETE.search(sentence):
            return " ".join(sentence.split())
    return None


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
    doc: Document, allowed: tuple[int, int], judge: _Judge
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
    if questions is not None:
        violations.extend(_question_content(questions, judge.description))
    violations.extend(_hedged([risks, simplification], judge.hedges))
    violations = keep(violations, judge.disabled)
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
    violations = outside_list(section, "question")
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


def _check_blocker_form(doc: Document, judge: _Judge) -> ContractResult[ScopeReply | BlockerReply]:
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
    violations.extend(_hedged([found.get(norm(BLOCKER))], judge.hedges))
    violations = keep(violations, judge.disabled)

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
