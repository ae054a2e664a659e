"""The user's answers file: one `## N. question` heading per scoping question, the answer
below it. specflow writes it, the user edits it, specflow reads it back."""

from __future__ import annotations

import re
from dataclasses import dataclass

from specflow.contracts.markdown import Document, Section, parse
from specflow.errors import StateError, UsageError

INSTRUCTIONS = "Write each answer below its question. `skip: <reason>` is a valid answer."

_QUESTION = re.compile(r"(?P<n>\d+)\.\s+(?P<question>\S.*)", re.S)


@dataclass(frozen=True)
class Answer:
    """Question *n*, its text, and the user's answer ("" while unanswered)."""

    n: int
    question: str
    answer: str


def render_answers(
    questions: list[str], answers: dict[int, str] | None = None, round: int = 1
) -> str:
    """The answers file for *questions* (numbered from 1), with any *answers* filled in."""
    answers = answers or {}
    title = "# Answers" if round <= 1 else f"# Answers (round {round})"
    parts = [title, "", INSTRUCTIONS, ""]
    for n, question in enumerate(questions, start=1):
        answer = answers.get(n, "").strip()
        # An empty answer keeps a blank line to type on.
        parts += [f"## {n}. {' '.join(question.split())}", "", answer, ""]
    return "\n".join(parts)


def parse_answers(text: str, source: str = "answers.md") -> list[Answer]:
    """The questions and answers of an answers file, in file order.

    An answer that holds only an HTML comment (a placeholder) counts as empty. *source*
    names the file in errors.
    """
    doc = parse(text)
    answers: list[Answer] = []
    seen: dict[int, int] = {}
    for section in _question_sections(doc, source):
        match = _QUESTION.fullmatch(section.title)
        if match is None:
            raise StateError(
                f"{source}, line {section.line}: the heading {section.ref} is not "
                "`## <number>. <question>`; restore the question's heading, or if this line "
                "belongs to an answer, remove the `#` marks at its start"
            )
        n = int(match.group("n"))
        if n in seen:
            raise StateError(
                f"{source}, line {section.line}: question {n} appears twice (lines {seen[n]} "
                f"and {section.line}); keep one of them"
            )
        seen[n] = section.line
        question = " ".join(match.group("question").split())
        answers.append(Answer(n, question, _answer_text(doc, section)))
    return answers


def _question_sections(doc: Document, source: str) -> list[Section]:
    """The `##` sections; a `#` title is allowed only before the first question."""
    sections: list[Section] = []
    for section in doc.sections:
        if section.level == 1 and sections:
            raise StateError(
                f"{source}, line {section.line}: the `#` heading {section.ref} is inside the "
                "answers; remove the `#` at its start, or move it above the first question"
            )
        if section.level == 2:
            sections.append(section)
    return sections


def _answer_text(doc: Document, section: Section) -> str:
    """The section's body without comment blocks (placeholders and notes to self)."""
    comments = [b for b in section.blocks if b.kind == "comment"]
    if not comments:
        return section.body_text.strip()
    keep = [
        line
        for number, line in enumerate(doc.lines[section.line : section.end_line], section.line + 1)
        if not any(b.line <= number <= b.end_line for b in comments)
    ]
    return "\n".join(keep).strip()


def set_answer(text: str, n: int, answer: str) -> str:
    """*text* with question *n*'s answer replaced by *answer*; everything else kept as is."""
    doc = parse(text)
    before = parse_answers(text)
    section = next(
        (s for s in _question_sections(doc, "answers.md") if _number(s.title) == n), None
    )
    if section is None:
        numbers = ", ".join(str(a.n) for a in before) or "none"
        raise UsageError(f"question {n} is not in the answers file; its questions are {numbers}")
    lines = doc.lines
    end = _body_end(doc, section)
    new_lines = [*lines[: section.line], "", answer.strip(), "", *lines[end:]]
    new_text = "\n".join(new_lines).rstrip("\n") + "\n"
    _check_kept(before, new_text, n)
    return new_text


def _number(title: str) -> int | None:
    match = _QUESTION.fullmatch(title)
    return int(match.group("n")) if match else None


def _body_end(doc: Document, section: Section) -> int:
    """The 0-based index of the line after *section*'s body: the next heading, or the end."""
    later = [s.line for s in doc.sections if s.line > section.line]
    return later[0] - 1 if later else len(doc.lines)


def _check_kept(before: list[Answer], new_text: str, n: int) -> None:
    """Refuse an answer whose Markdown would change the file's questions (a heading, or an
    unclosed code fence that swallows the questions after it)."""
    try:
        after = parse_answers(new_text)
    except StateError:
        after = []
    if [(a.n, a.question) for a in before] != [(a.n, a.question) for a in after]:
        raise UsageError(
            f"the answer to question {n} would change the answers file's questions (it holds "
            "a `#` heading or an unclosed code fence); reword it, or edit the file directly"
        )
