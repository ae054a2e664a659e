"""The spec contract: the template's headings in order, N/A with a reason, the error matrix,
the file plan, well-formed UNKNOWN items, and decisions stated without hedging."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from specflow.contracts.base import ContractResult, Violation
from specflow.contracts.markdown import (
    Document,
    Inline,
    Section,
    Table,
    check_outline,
    code_span_contents,
    code_spans,
    empty_violation,
    finish,
    heading_ref,
    mask_code,
    norm,
    parse,
    preamble_violation,
    rejected,
    search_prose,
)
from specflow.contracts.paths import plan_entry
from specflow.contracts.rules import (
    DEFAULT_HEDGES,
    keep,
    needles,
    phrase_pattern,
    violation,
)
from specflow.contracts.spec_content import (
    CONCURRENCY,
    DIRECTIVES,
    OPEN_ITEMS,
    concurrency_na,
    matrix_cells,
    out_of_scope_conflicts,
    reopened,
    same_item,
    vague_directives,
)
from specflow.contracts.unwrap import unwrap_outer_fence
from specflow.errors import ConfigError

if TYPE_CHECKING:
    from specflow.contracts.models import SpecDoc

MATRIX = "Error Handling Matrix"
FILE_PLAN = "Architecture & File Plan"
TESTING = "Testing Strategy"
OUT_OF_SCOPE = "Out of Scope"
MATRIX_COLUMNS = ("Failure", "Detection", "Logging", "Recovery")
UNKNOWN_FORM = (
    "`UNKNOWN: <what> — verify: <fastest way to find out> — blocks: <decisions it blocks>`"
)

_NA = re.compile(r"[*_]*N/A\b[*_]*(?P<rest>.*)", re.I | re.S)
_NA_REASON = re.compile(r"\s*(?:—|–|--|-|:)\s*(?P<reason>\S.*)", re.S)
# A pipe table's delimiter row: `--|--`, `:---|---:`, with or without outer pipes.
_DELIMITER_ROW = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*")
_UNKNOWN = re.compile(r"\bUNKNOWN:")
_BACKTICK_RUN = re.compile(r"`+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SEPARATORS = ("—", "–", "--", " -")
_VERIFY = re.compile(r"\bverify\s*:", re.I)
_BLOCKS = re.compile(r"\bblocks\s*:", re.I)
_TEST_RUNNER = re.compile(
    r"(?:pytest|python3? -m pytest|uv run pytest|npm test|npm run test|yarn test|pnpm test"
    r"|go test|cargo test|make test|make check|tox)\b"
)


def template_headings(template_text: str) -> list[str]:
    """The `##` headings of a spec template, in order (a heading repeated counts once)."""
    seen: set[str] = set()
    headings: list[str] = []
    for section in parse(template_text).sections:
        if section.level == 2 and section.key not in seen:
            seen.add(section.key)
            headings.append(section.title)
    return headings


def check_spec(
    text: str,
    headings: list[str],
    *,
    hedges: Sequence[str] | None = None,
    exists: Callable[[str], bool] | None = None,
    resolved: Sequence[tuple[str, str]] = (),
    disabled: frozenset[str] = frozenset(),
) -> ContractResult[SpecDoc]:
    """Check a spec against the template's *headings* and the spec rules.

    *hedges*: the rules' hedging phrases (hedges_from_rules; default: the packaged rules').
    *exists*: whether a repository-relative path is a file (a dotted token is planned only
    then). *resolved*: (what, resolution) of the UNKNOWN items the user resolved; re-opening
    one is a violation. *disabled*: content rule ids switched off.
    """
    unwrapped = unwrap_outer_fence(text)
    if unwrapped.hint is not None:
        return rejected([unwrapped.hint])
    result = _check_spec(unwrapped.text, headings, hedges, exists, resolved, disabled)
    result.notes.extend([unwrapped.note] if unwrapped.note else [])
    return result


def _check_spec(
    text: str,
    headings: list[str],
    hedges: Sequence[str] | None,
    exists: Callable[[str], bool] | None,
    resolved: Sequence[tuple[str, str]],
    disabled: frozenset[str],
) -> ContractResult[SpecDoc]:
    if not headings:
        raise ConfigError(
            "the spec template has no `##` headings; give it the sections a spec must have, "
            "e.g. `## Intent`, or remove the override to use specflow's template"
        )
    doc = parse(text)
    outline = check_outline(doc.sections, headings)
    violations = list(outline.violations)
    before = preamble_violation(doc, heading_ref(headings[0]))
    if before:
        violations.append(before)
    present = [outline.found[norm(t)] for t in headings if norm(t) in outline.found]
    na = {s.key: _check_na(s, violations) for s in present}
    matrix = outline.found.get(norm(MATRIX))
    if matrix is not None and not na[matrix.key]:
        violations.extend(_matrix_violations(matrix, doc.lines))
    file_plan = _file_plan(outline.found.get(norm(FILE_PLAN)), na, violations, exists)
    unknowns = _unknowns(doc, violations)
    violations.extend(reopened([(u[0], u[3]) for u in unknowns], resolved))
    violations.extend(_hedging(doc, DEFAULT_HEDGES if hedges is None else hedges))
    violations.extend(_consistency(outline.found, na, present))
    violations = keep(violations, disabled)

    def build() -> SpecDoc:
        from specflow.contracts.models import SpecDoc, SpecSection, Unknown

        return SpecDoc(
            sections=[
                SpecSection(title=_title(s, headings), body=s.body_text, line=s.line, na=na[s.key])
                for s in present
            ],
            file_plan=file_plan,
            unknowns=[
                Unknown(id=f"U{n}", what=what, verify=verify, blocks=blocks, line=line)
                for n, (what, verify, blocks, line) in enumerate(unknowns, 1)
            ],
            out_of_scope=_items(outline.found.get(norm(OUT_OF_SCOPE)), na),
            test_commands=_test_commands(outline.found.get(norm(TESTING))),
        )

    return finish(violations, build)


def _consistency(
    found: dict[str, Section], na: dict[str, bool], present: list[Section]
) -> list[Violation]:
    """Vague directives; a Concurrency N/A the design contradicts; Out of Scope overruled."""
    out: list[Violation] = []
    directives = found.get(norm(DIRECTIVES))
    if directives is not None and not na[directives.key]:
        out.extend(vague_directives(directives))
    concurrency = found.get(norm(CONCURRENCY))
    if concurrency is not None and na[concurrency.key]:
        skip = {norm(CONCURRENCY), norm(OUT_OF_SCOPE), norm(OPEN_ITEMS)}
        out.extend(concurrency_na(concurrency, [s for s in present if s.key not in skip]))
    out_of_scope = found.get(norm(OUT_OF_SCOPE))
    if out_of_scope is not None and directives is not None and not na[out_of_scope.key]:
        out.extend(out_of_scope_conflicts(out_of_scope, directives))
    return out


def _title(section: Section, headings: list[str]) -> str:
    """The section's title as the template spells it."""
    return next(t for t in headings if norm(t) == section.key)


def _check_na(section: Section, violations: list[Violation]) -> bool:
    """Whether *section* reads `N/A — <reason>`; reports an empty section or a bare N/A."""
    blocks = section.content_blocks
    if not blocks:
        violations.append(empty_violation(section, "write its content or `N/A — <reason>`"))
        return False
    first = blocks[0]
    paragraph = next((i for i in section.inlines if i.line == first.line), None)
    if first.kind != "paragraph" or paragraph is None:
        return False
    match = _NA.fullmatch(paragraph.source.strip())
    if match is None:
        return False
    if _NA_REASON.match(match.group("rest")) is None:
        violations.append(
            Violation(
                f"{section.ref} is N/A without a reason (line {first.line}); "
                "write `N/A — <why it does not apply>`",
                first.line,
            )
        )
    return True


def _matrix_violations(section: Section, lines: list[str]) -> list[Violation]:
    columns = ", ".join(MATRIX_COLUMNS)
    if not section.tables:
        message = (
            f"{section.ref} has no table (line {section.line}); it needs a Markdown table "
            f"with the columns {columns} and one row per failure"
        )
        return [Violation(message + _table_hint(section, lines), section.line)]
    violations: list[Violation] = []
    for table in section.tables:
        violations.extend(_table_violations(section, table))
    return violations


def _table_hint(section: Section, lines: list[str]) -> str:
    """Why a table the writer meant is not one, when a paragraph of the section holds a
    header row and a delimiter row: glued to the text above it (a table without a leading
    `|` cannot interrupt a paragraph), or rows of different widths."""
    for block in section.blocks:
        if block.kind != "paragraph":
            continue
        for number in range(block.line + 1, block.end_line + 1):  # the delimiter row's line
            header, below = lines[number - 2], lines[number - 1]
            if "|" not in header or not _DELIMITER_ROW.fullmatch(below):
                continue
            if number - 1 > block.line:
                return (
                    f"; line {number - 1} looks like a table's header row read as part of the "
                    "text above it: put a blank line before the table"
                )
            return (
                f"; line {number - 1} looks like a table's header row, but the row under it "
                f"has {_cells(below)} cells to its {_cells(header)}: give them the same number"
            )
    return ""


def _cells(row: str) -> int:
    """How many cells a pipe-table row has (outer pipes optional, `\\|` not a separator)."""
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return len(re.split(r"(?<!\\)\|", inner))


def _table_violations(section: Section, table: Table) -> list[Violation]:
    header = [_cell_key(cell) for cell in table.header]
    missing = [c for c in MATRIX_COLUMNS if c.casefold() not in header]
    where = f"the table in {section.ref} (line {table.line})"
    if missing:
        columns = ", ".join(MATRIX_COLUMNS)
        return [
            Violation(
                f"{where} is missing the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}; its columns must include {columns}",
                table.line,
            )
        ]
    if not table.rows:
        return [Violation(f"{where} has no rows; add one row per failure", table.line)]
    violations = []
    for row, line in zip(table.rows, table.row_lines, strict=True):
        for column in MATRIX_COLUMNS:
            at = header.index(column.casefold())
            if at >= len(row) or not row[at]:
                violations.append(
                    Violation(f"{where}: the row on line {line} has an empty {column} cell", line)
                )
    return violations + matrix_cells(table, header)


def _cell_key(cell: str) -> str:
    return cell.strip().strip("*_`").strip().casefold()


def _file_plan(
    section: Section | None,
    na: dict[str, bool],
    out: list[Violation],
    exists: Callable[[str], bool] | None,
) -> list[str]:
    """The backticked paths of the file plan; a plan must name at least one file, and only
    repository-relative paths outside `.git` and `.specflow`."""
    if section is None or section.is_empty:
        return []
    if na[section.key]:
        out.append(
            Violation(
                f"{section.ref} cannot be N/A (line {section.line}); list each file to create "
                "or change as a backticked path, e.g. `src/app/main.py`",
                section.line,
            )
        )
        return []
    paths: list[str] = []
    for inline in section.inlines:
        for content in code_span_contents(inline.source):
            is_file, unsafe = plan_entry(content, exists)
            if unsafe is not None:
                line = inline.line_at(inline.source.find(content))
                out.append(
                    violation(
                        "spec.file-plan-path",
                        f"the file plan names `{content}` (line {line}): {unsafe}",
                        line,
                    )
                )
            elif is_file and content not in paths:
                paths.append(content)
    if not paths and not any(v.rule == "spec.file-plan-path" for v in out):
        out.append(
            Violation(
                f"{section.ref} names no files (line {section.line}); list each file to create "
                "or change as a backticked path, e.g. `src/app/main.py`",
                section.line,
            )
        )
    return paths


def _items(section: Section | None, na: dict[str, bool]) -> list[str]:
    if section is None or na.get(section.key, False):
        return []
    return [item.one_line for item in section.items]


def _test_commands(section: Section | None) -> list[str]:
    if section is None:
        return []
    commands: list[str] = []
    for inline in section.inlines:
        for content in code_span_contents(inline.source):
            if _TEST_RUNNER.match(content) and content not in commands:
                commands.append(content)
    return commands


def _hedging(doc: Document, hedges: Sequence[str]) -> list[Violation]:
    pattern = _hedge_pattern(tuple(hedges))
    if pattern is None:
        return []
    return [
        violation("spec.hedge", f'hedging "{word}" (line {line})', line)
        for word, line in search_prose(doc, pattern, needles(hedges))
    ]


_HEDGE_PATTERNS: dict[tuple[str, ...], re.Pattern[str] | None] = {}


def _hedge_pattern(hedges: tuple[str, ...]) -> re.Pattern[str] | None:
    if hedges not in _HEDGE_PATTERNS:
        _HEDGE_PATTERNS[hedges] = phrase_pattern(hedges)
    return _HEDGE_PATTERNS[hedges]


# --- UNKNOWN items ---------------------------------------------------------------------------


def _unknowns(doc: Document, violations: list[Violation]) -> list[tuple[str, str, str, int]]:
    """(what, verify, blocks, line) of every UNKNOWN item outside fenced code, in order;
    malformed ones become violations."""
    unknowns: list[tuple[str, str, str, int]] = []
    seen: set[str] = set()
    for text, line in _unknown_texts(doc):
        parts = _unknown_parts(text, line)
        if isinstance(parts, Violation):
            violations.append(parts)
        elif same_item(parts[0]) not in seen:  # the same item twice is one item
            seen.add(same_item(parts[0]))
            unknowns.append((*parts, line))
    return unknowns


def _unknown_texts(doc: Document) -> Iterator[tuple[str, int]]:
    """The text after each `UNKNOWN:` up to the next one or the end of its paragraph/cell.

    An item written wholly as a code span (`` `UNKNOWN: ...` ``) is read from inside it.
    """
    for inline in doc.inlines:
        source = inline.source
        if "UNKNOWN:" not in source:
            continue
        yield from _split_unknowns(inline, source)


def _split_unknowns(inline: Inline, source: str) -> Iterator[tuple[str, int]]:
    spans = code_spans(source)
    comments = [(m.start(), m.end()) for m in _HTML_COMMENT.finditer(source)]
    starts = [m.start() for m in _UNKNOWN.finditer(source)]
    for i, start in enumerate(starts):
        if any(a < start < b for a, b in comments):
            continue
        end = starts[i + 1] if i + 1 < len(starts) else len(source)
        span = next((s for s in spans if s[0] < start < s[1]), None)
        if span is not None:
            opener = _BACKTICK_RUN.match(source, span[0])
            assert opener is not None  # a code span starts with its backticks
            if source[opener.end() : start].strip():
                continue  # UNKNOWN: in the middle of quoted code is an example, not an item
            end = min(end, span[1] - (opener.end() - span[0]))
        text = source[start + len("UNKNOWN:") : end]
        yield " ".join(text.split("\n")), inline.line_at(start)


def _unknown_parts(text: str, line: int) -> tuple[str, str, str] | Violation:
    """(what, verify, blocks) of an UNKNOWN item, or the violation naming what is missing."""
    masked = mask_code(text)  # a `verify:` inside a code span is part of a command
    verify = _VERIFY.search(masked)
    blocks = _BLOCKS.search(masked, verify.end() if verify else 0)
    if verify is not None and blocks is None and _BLOCKS.search(masked, 0, verify.start()):
        return Violation(
            f"UNKNOWN on line {line} has `blocks:` before `verify:`; write it as {UNKNOWN_FORM}",
            line,
        )
    end = len(text)
    what = _clean(text[: verify.start() if verify else blocks.start() if blocks else end])
    verify_text = _clean(text[verify.end() : blocks.start() if blocks else end]) if verify else ""
    blocks_text = _clean(text[blocks.end() :]) if blocks else ""
    problems = []
    if not what:
        problems.append("what is unknown")
    if verify is None:
        problems.append("the `verify:` part")
    elif not verify_text:
        problems.append("the text after `verify:`")
    if blocks is None:
        problems.append("the `blocks:` part")
    elif not blocks_text:
        problems.append("the text after `blocks:`")
    if not problems:
        return what, verify_text, blocks_text
    listed = ", ".join(problems[:-1]) + " and " + problems[-1] if len(problems) > 1 else problems[0]
    return Violation(
        f"UNKNOWN on line {line} is missing {listed}; write it as {UNKNOWN_FORM}", line
    )


def _clean(part: str) -> str:
    """A part of an UNKNOWN without its separators and the emphasis around the label."""
    part = part.strip().lstrip("*_").strip()
    for separator in _SEPARATORS:
        if part.endswith(separator):
            part = part[: -len(separator)].strip()
            break
    return part.rstrip("*_").strip()
