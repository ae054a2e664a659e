"""The spec rules that judge substance: vague directives, empty matrix cells, a Concurrency
N/A that the design contradicts, directives that add what Out of Scope excludes, re-opened
UNKNOWN items, and which planned files each UNKNOWN blocks.

Pure functions over the parsed spec; the phrase lists are data in contracts/rules.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from specflow.contracts.base import Violation
from specflow.contracts.markdown import Section, Table, mask_code, prose
from specflow.contracts.rules import (
    CONCURRENCY_WORDS,
    NEGATIONS,
    RETRY_BOUNDS,
    UNDECIDED_PHRASES,
    VAGUE_CELLS,
    VAGUE_PHRASES,
    content_words,
    phrase_pattern,
    violation,
)

DIRECTIVES = "Implementation Directives"
CONCURRENCY = "Concurrency Decisions"
OPEN_ITEMS = "Open Items"

_VAGUE = phrase_pattern(VAGUE_PHRASES)
_CONCURRENCY = phrase_pattern(CONCURRENCY_WORDS)
_RETRY = re.compile(r"\bretr(?:y|ies|ied|ying)\b", re.I)
# A retry the cell rules out: `do not retry`, `never retry`, `no retries`.
_NEGATED_RETRY = re.compile(r"\b(?:no|not|never|don't|dont|don’t)\s+$", re.I)
_UNDECIDED = phrase_pattern(UNDECIDED_PHRASES)
_SENTENCE_END = re.compile(r"[.!?;](?=\s)|\n")
_NA_CELL = re.compile(r"[*_]*N/A\b[*_]*(?P<rest>.*)", re.I | re.S)
_NA_REASON = re.compile(r"\s*(?:—|–|--|-|:|\()\s*\S", re.S)
# A concrete anchor: a code span, a number, a flag, a path or file, a call, an identifier
# with `_` or a dot, a CamelCase or upper-case name, or a capitalised name inside a sentence.
_ANCHORS = (
    re.compile(r"`[^`]+`"),
    re.compile(r"\d"),
    re.compile(r"(?:^|\s)--?[A-Za-z][\w-]*"),
    re.compile(r"\w/\w|\w\.[A-Za-z]{1,5}\b"),
    re.compile(r"\b\w+\(\)"),
    re.compile(r"\b[A-Za-z]+_[A-Za-z0-9_]+\b"),
    re.compile(r"\b[A-Z][a-z0-9]+[A-Z]\w*\b|\b[a-z]+[A-Z]\w*\b"),
    re.compile(r"\b[A-Z]{2,}[a-z]?\b"),
)


class Blocked(NamedTuple):
    """The planned files an UNKNOWN blocks; `note` says when it names none (all blocked)."""

    paths: list[str]
    note: str | None


def unknown_blocks(blocks: str, plan: Sequence[str], item: str = "the UNKNOWN") -> Blocked:
    """Which planned files an UNKNOWN's `blocks:` text names by path.

    An item that names no planned file blocks every file of the plan; the note says so and
    how to narrow it.
    """
    named = [path for path in plan if _names_path(blocks, path)]
    if named:
        return Blocked(named, None)
    return Blocked(
        list(plan),
        f"{item} names no planned file in `blocks:`, so it blocks every file of the plan; "
        "name the files it blocks by path, e.g. `blocks: src/app/export.py (the batch size)`",
    )


def _names_path(text: str, path: str) -> bool:
    at = text.find(path)
    while at != -1:
        before = text[at - 1] if at > 0 else " "
        after = text[at + len(path)] if at + len(path) < len(text) else " "
        if not (before.isalnum() or before in "/._-") and not (after.isalnum() or after in "/_-"):
            return True
        at = text.find(path, at + 1)
    return False


def same_item(what: str) -> str:
    """An UNKNOWN's what-text as compared: case, spacing, emphasis and end stop ignored."""
    return " ".join(what.replace("`", "").strip(" .*_").casefold().split())


def reopened(
    unknowns: Sequence[tuple[str, int]], resolved: Sequence[tuple[str, str]]
) -> list[Violation]:
    """An UNKNOWN (what, line) the user has resolved, quoting the resolution."""
    answers = {same_item(what): answer for what, answer in resolved}
    return [
        violation(
            "spec.unknown-reopened",
            f'the UNKNOWN on line {line} (`{what}`) was resolved: "{answers[same_item(what)]}"',
            line,
        )
        for what, line in unknowns
        if same_item(what) in answers
    ]


# --- directives ------------------------------------------------------------------------------


def directive_items(section: Section) -> Iterator[tuple[str, int]]:
    """Each directive of the section: its list items, else its paragraphs."""
    if section.items:
        for item in section.items:
            yield item.one_line, item.line
        return
    for inline in section.inlines:
        yield inline.source, inline.line


_QUOTED = re.compile(r"`+[^`]*`+|\"[^\"\n]*\"|“[^”\n]*”")


@functools.lru_cache(maxsize=4096)  # each directive is read by several rules
def _plain(text: str) -> str:
    """The writer's own words: code spans and double-quoted text blanked (a quick form of
    markdown.prose for one-line items)."""
    if "`" not in text and '"' not in text and "“" not in text:
        return text
    return _QUOTED.sub(" ", text)


def vague_directives(section: Section) -> list[Violation]:
    out: list[Violation] = []
    for text, line in directive_items(section):
        words = _plain(text)
        phrases = list(_VAGUE.finditer(words)) if _VAGUE else []
        phrase = phrases[0] if phrases else None
        # An anchored directive ("Handle errors from `cursor.execute` by raising
        # `ExportError`") is not vague for one such phrase; two, or an undecided one, are.
        if phrase is not None and (
            len(phrases) > 1
            or not _anchored(text.strip())
            or (_UNDECIDED is not None and _UNDECIDED.search(words))
        ):
            out.append(
                violation(
                    "spec.vague-directive",
                    f'the directive on line {line} ("{_shorten(text)}") rests on the vague '
                    f'phrase "{phrase.group()}"',
                    line,
                )
            )
        elif not _anchored(text.strip()):
            out.append(
                violation(
                    "spec.vague-directive",
                    f'the directive on line {line} ("{_shorten(text)}") names nothing concrete: no '
                    "library, API, function, file, flag, number or identifier",
                    line,
                )
            )
    return out


def _anchored(text: str) -> bool:
    if any(anchor.search(text) for anchor in _ANCHORS):
        return True
    words = text.split()
    return any(  # a capitalised name inside a sentence: `Redis`, `Postgres`
        word[:1].isupper() and not words[i - 1].endswith((".", "!", "?", ":"))
        for i, word in enumerate(words)
        if i > 0
    )


def _shorten(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# --- the error matrix ------------------------------------------------------------------------


def matrix_cells(table: Table, header: list[str]) -> list[Violation]:
    """Detection and Recovery cells that say nothing concrete, naming the row."""
    out: list[Violation] = []
    for row, line in zip(table.rows, table.row_lines, strict=True):
        for column in ("Detection", "Recovery"):
            at = header.index(column.casefold()) if column.casefold() in header else -1
            if at < 0 or at >= len(row) or not row[at].strip():
                continue  # a missing or empty cell is the form check's
            problem = _cell_problem(row[at], column)
            if problem:
                failure = _shorten(row[0], 40) if row else ""
                out.append(
                    violation(
                        "spec.matrix-cell",
                        f'the matrix row on line {line} ("{failure}"): the {column} cell {problem}',
                        line,
                    )
                )
    return out


_PUNCTUATION = re.compile(r"[^\w\s/-]")


def _cell_problem(cell: str, column: str) -> str | None:
    text = mask_code(cell).strip()
    na = _NA_CELL.fullmatch(text)
    if na is not None:
        return None if _NA_REASON.match(na.group("rest")) else "is N/A without a reason"
    # Only a short cell can be one of the vague phrases ("handle it"): skip the rest quickly.
    bare = " ".join(_PUNCTUATION.sub(" ", text.lower()).split()) if len(text) <= 40 else ""
    if bare in VAGUE_CELLS:
        return f'only says "{cell.strip()}"'
    if column == "Recovery" and _retries(text) and not _bounded(cell):
        return "retries without a bound or backoff"
    return None


def _retries(text: str) -> bool:
    """The cell retries: it names a retry that no `no`/`not`/`never`/`don't` rules out."""
    return any(not _NEGATED_RETRY.search(text, 0, m.start()) for m in _RETRY.finditer(text))


def _bounded(cell: str) -> bool:
    lowered = cell.lower()
    return any(ch.isdigit() for ch in cell) or any(word in lowered for word in RETRY_BOUNDS)


# --- consistency -----------------------------------------------------------------------------


def concurrency_na(concurrency: Section, others: Sequence[Section]) -> list[Violation]:
    """Concurrency Decisions is N/A: report the first section whose prose names concurrency."""
    if _CONCURRENCY is None:
        return []
    for section in others:
        for inline in section.inlines:
            if not _CONCURRENCY.search(inline.source):
                continue
            words = prose(inline.source)
            match = next(
                (
                    m
                    for m in _CONCURRENCY.finditer(words)
                    if not _negated_sentence(words, m.start())
                ),
                None,
            )
            if match is not None:
                line = inline.line_at(match.start())
                return [
                    violation(
                        "spec.concurrency-na",
                        f"{concurrency.ref} is N/A (line {concurrency.line}) but "
                        f'{section.ref} names "{match.group()}" (line {line})',
                        concurrency.line,
                    )
                ]
    return []


def out_of_scope_conflicts(out_of_scope: Section, directives: Section) -> list[Violation]:
    """A directive that adds what an Out of Scope item excludes: every meaningful word of the
    item occurs in the directive, and the directive is not itself a negation."""
    keyed = [(content_words(_plain(i.one_line)), i) for i in out_of_scope.items]
    # Each item with its longest key word: one scan per directive finds the candidates.
    # A one-word item (`- Authentication.`) is too broad to conflict with a directive that
    # merely names the word; an item needs two content words.
    items = [(max(keys, key=len), keys, item) for keys, item in keyed if len(keys) >= 2]
    if not items:
        return []
    leads = {key for key, _, _ in items}
    lead = re.compile("|".join(re.escape(k) for k in sorted(leads, key=len, reverse=True)))
    out: list[Violation] = []
    for text, line in directive_items(directives):
        lowered = _plain(text).lower()
        found = set(lead.findall(lowered))
        if not found:
            continue
        words = content_words(lowered)
        hit = next((item for key, keys, item in items if key in found and keys <= words), None)
        if hit is not None and not _negated(text):
            out.append(
                violation(
                    "spec.out-of-scope-conflict",
                    f'the directive on line {line} ("{_shorten(text)}") adds what Out of '
                    f'Scope excludes on line {hit.line} ("{_shorten(hit.one_line)}")',
                    line,
                )
            )
    return out


def _negated_sentence(text: str, at: int) -> bool:
    """A negation comes before offset *at* in its sentence (`no background threads`), so
    `workers share no state` still counts."""
    start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, at)), default=0)
    return any(w.strip(".,;:()").lower() in NEGATIONS for w in text[start:at].split())


def _negated(text: str) -> bool:
    return any(w.strip(".,;:").lower() in NEGATIONS for w in _plain(text).split())
