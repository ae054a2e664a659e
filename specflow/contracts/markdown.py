"""The Markdown reader every contract shares: one parse, then sections, lists, tables, fences.

Block structure comes from markdown-it-py's token stream (so a `#` inside a code fence is
never a heading); inline text is kept as its Markdown source, with code spans located by the
CommonMark backtick rule. Lines are 1-based throughout, like an editor shows them.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from specflow.contracts.base import ContractResult, Violation

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

T = TypeVar("T")

# Blocks that carry no content: an HTML comment (template guidance) or a `---` rule.
NEUTRAL_KINDS = frozenset({"comment", "hr"})
_COMMENT_BLOCK = re.compile(r"\s*(?:<!--.*?-->\s*)+", re.S)
_BACKTICK_RUN = re.compile(r"`+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DOUBLE_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
_NOT_NEWLINE = re.compile(r"[^\n]")
# Letters a case-insensitive pattern matches to an ASCII letter that str.lower() leaves apart
# (dotless ı and dotted İ for i, long ſ for s, the Kelvin sign for k).
_FOLDS_TO_ASCII = "ıİſ\u212a"


@cache
def _parser() -> MarkdownIt:
    # Imported here: markdown-it costs ~70 ms to import, and `specflow --help` never needs it.
    # Only block rules run: inline text stays as source (half the parse time saved, and
    # values keep their formatting); code spans are found by code_spans() below. Setext
    # headings (a line underlined with `---`) and link reference definitions are off: the
    # contracts speak of `##` headings, a `---` under text is meant as a rule, and both rules
    # cost time on every paragraph.
    from markdown_it import MarkdownIt

    return (
        MarkdownIt("commonmark")
        .enable("table")
        .disable(["inline", "text_join", "lheading", "reference"])
    )


@dataclass(frozen=True)
class Block:
    """A top-level block of a section: paragraph, list, table, fence, code, html, comment,
    quote, hr or heading (levels 3–6)."""

    kind: str
    line: int
    end_line: int


@dataclass(frozen=True)
class Inline:
    """A run of inline Markdown source (a paragraph, heading or table cell) and where it is."""

    source: str
    line: int
    quoted: bool  # inside a blockquote

    def line_at(self, offset: int) -> int:
        """The document line of the character at *offset* in `source`."""
        return self.line + self.source.count("\n", 0, offset)


@dataclass(frozen=True)
class ListItem:
    """A top-level list item: its own paragraphs as source (nested lists left out)."""

    text: str
    line: int
    end_line: int
    ordered: bool

    @property
    def one_line(self) -> str:
        """The text with its line breaks folded into spaces."""
        return " ".join(self.text.split("\n")).strip()


@dataclass(frozen=True)
class Table:
    """A pipe table: header cells and body rows as inline source, with each row's line."""

    header: list[str]
    rows: list[list[str]]
    line: int
    row_lines: list[int]


@dataclass(frozen=True)
class Fence:
    """A fenced code block; `line` is the opening fence, content starts on the next line."""

    info: str
    content: str
    line: int
    end_line: int
    closed: bool = True  # False when the text ends inside the block (a cut-off reply)
    markup: str = "```"  # the opening fence's backticks or tildes

    @property
    def language(self) -> str:
        """The first word of the info string, lower-cased ("" when there is none)."""
        words = self.info.split()
        return words[0].lower() if words else ""


@dataclass
class Section:
    """A level-1 or level-2 heading and everything up to the next one (level 0: the text
    before the first heading)."""

    level: int
    title: str
    line: int
    end_line: int = 0
    body_text: str = ""
    blocks: list[Block] = field(default_factory=list)
    items: list[ListItem] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)
    inlines: list[Inline] = field(default_factory=list)

    @property
    def key(self) -> str:
        return norm(self.title)

    @property
    def ref(self) -> str:
        """The heading as the reader wrote it, in backticks: `## Scope`."""
        return heading_ref(self.title, self.level)

    @property
    def content_blocks(self) -> list[Block]:
        """Blocks that carry content (comments and `---` rules left out)."""
        return [b for b in self.blocks if b.kind not in NEUTRAL_KINDS]

    @property
    def is_empty(self) -> bool:
        return not self.content_blocks

    @property
    def content_text(self) -> str:
        """The body without HTML comments, stripped: what a reader of the rendered page sees
        in a one-word section."""
        return _HTML_COMMENT.sub("", self.body_text).strip()


@dataclass
class Document:
    """A parsed Markdown text: its lines, the text before the first heading, its sections."""

    text: str
    lines: list[str]
    preamble: Section | None
    sections: list[Section]

    @property
    def fences(self) -> list[Fence]:
        parts = ([self.preamble] if self.preamble else []) + self.sections
        return [f for s in parts for f in s.fences]

    @property
    def inlines(self) -> Iterator[Inline]:
        parts = ([self.preamble] if self.preamble else []) + self.sections
        for section in parts:
            yield from section.inlines


def norm(title: str) -> str:
    """How headings compare: surrounding whitespace and letter case do not count."""
    return title.strip().casefold()


def heading_ref(title: str, level: int = 2) -> str:
    """A heading as it is written, quoted as code: `## Scope`."""
    return code_span(f"{'#' * level} {title.strip()}")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def normalize_newlines(text: str) -> str:
    """The text as markdown-it sees it, so that line numbers agree."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")


def parse(text: str) -> Document:
    """Parse *text* once into sections (split at `#` and `##` headings) and their parts."""
    text = normalize_newlines(text)
    tokens = _parser().parse(text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    builder = _Builder(lines)
    for token in tokens:
        builder.feed(token)
    return builder.finish(text)


class _Builder:
    """Walks the token stream once, filling sections; nesting is tracked with counters."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.preamble = Section(level=0, title="", line=1)
        self.sections: list[Section] = []
        self.current = self.preamble
        self.quote_depth = 0
        self.list_stack: list[bool] = []  # ordered? for each open list
        self.item: _ItemDraft | None = None
        self.table: _TableDraft | None = None
        self.awaiting_title = False  # the next inline token is a section heading's text

        # The token types the builder acts on; the many others (paragraph_close, td_open,
        # ...) only matter at the top level. A table lookup, not a chain of comparisons:
        # a 2,000-line spec has some 15,000 tokens.
        self._handlers: dict[str, Callable[[Token], None]] = {
            "blockquote_open": self._quote_open,
            "blockquote_close": self._quote_close,
            "bullet_list_open": self._list_open,
            "ordered_list_open": self._list_open,
            "bullet_list_close": self._list_close,
            "ordered_list_close": self._list_close,
            "list_item_open": self._open_item,
            "list_item_close": self._close_item,
            "table_open": self._open_table,
            "table_close": self._close_table,
            "tbody_open": self._table_body,
            "tr_open": self._row_open,
            "inline": self._inline,
            "fence": self._fence,
        }

    def feed(self, token: Token) -> None:
        if token.level == 0 and token.nesting >= 0:
            self._top_level(token)
        handler = self._handlers.get(token.type)
        if handler is not None:
            handler(token)

    def _quote_open(self, token: Token) -> None:
        self.quote_depth += 1

    def _quote_close(self, token: Token) -> None:
        self.quote_depth -= 1

    def _list_open(self, token: Token) -> None:
        self.list_stack.append(token.type == "ordered_list_open")

    def _list_close(self, token: Token) -> None:
        self.list_stack.pop()

    def _open_table(self, token: Token) -> None:
        self.table = _TableDraft(line=_line(token))

    def _table_body(self, token: Token) -> None:
        if self.table is not None:
            self.table.in_body = True

    def _row_open(self, token: Token) -> None:
        if self.table is not None:
            self.table.row_open(_line(token))

    def _fence(self, token: Token) -> None:
        self.current.fences.append(
            Fence(
                token.info.strip(),
                token.content,
                _line(token),
                _end(token),
                self._closes(token),
                token.markup,
            )
        )

    def _closes(self, fence: Token) -> bool:
        """Whether the fence's last line closes it (markdown-it runs an unclosed fence to the
        end of the text)."""
        start, end = _line(fence), _end(fence)
        if end <= start or end > len(self.lines):
            return False
        last = self.lines[end - 1].strip().lstrip(">").strip()
        char, size = fence.markup[:1], len(fence.markup)
        return len(last) >= size and last == char * len(last)

    def _top_level(self, token: Token) -> None:
        """A block directly under a heading: a new section for `#`/`##`, else a block."""
        kind = token.type
        if kind == "heading_open" and token.tag in ("h1", "h2"):
            self._close_section()
            self.current = Section(level=int(token.tag[1]), title="", line=_line(token))
            self.sections.append(self.current)
            self.awaiting_title = True
            return
        block_kind = _BLOCK_KINDS.get(kind)
        if block_kind == "html" and _COMMENT_BLOCK.fullmatch(token.content):
            block_kind = "comment"
        if block_kind is not None and token.map is not None:
            self.current.blocks.append(Block(block_kind, _line(token), _end(token)))

    def _open_item(self, token: Token) -> None:
        if len(self.list_stack) == 1 and self.quote_depth == 0:
            ordered = self.list_stack[-1]
            self.item = _ItemDraft(line=_line(token), end_line=_end(token), ordered=ordered)

    def _close_item(self, token: Token) -> None:
        if len(self.list_stack) == 1 and self.item is not None:
            draft = self.item
            text = "\n".join(draft.parts)
            self.current.items.append(ListItem(text, draft.line, draft.end_line, draft.ordered))
            self.item = None

    def _close_table(self, token: Token) -> None:
        if self.table is not None and self.quote_depth == 0:
            draft = self.table
            self.current.tables.append(Table(draft.header, draft.rows, draft.line, draft.row_lines))
        self.table = None

    def _inline(self, token: Token) -> None:
        if token.map is None:  # pragma: no cover - block rules always set map on inline tokens
            return
        source = token.content
        self.current.inlines.append(Inline(source, token.map[0] + 1, self.quote_depth > 0))
        if self.awaiting_title:
            self.current.title = source.strip()
            self.awaiting_title = False
            return
        if self.table is not None:
            self.table.cell(source)
        elif self.item is not None and len(self.list_stack) == 1:
            self.item.parts.append(source)

    def _close_section(self) -> None:
        section = self.current
        blocks = section.blocks
        start = section.line if section.level > 0 else 0
        section.end_line = max([start] + [b.end_line for b in blocks])
        body = self.lines[start : section.end_line]
        section.body_text = "\n".join(body).strip("\n")

    def finish(self, text: str) -> Document:
        self._close_section()
        preamble = self.preamble if self.preamble.content_blocks else None
        if preamble is not None:
            preamble.line = preamble.content_blocks[0].line
        return Document(text, self.lines, preamble, self.sections)


@dataclass
class _ItemDraft:
    line: int
    end_line: int
    ordered: bool
    parts: list[str] = field(default_factory=list)


@dataclass
class _TableDraft:
    line: int
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)
    in_body: bool = False

    def row_open(self, line: int) -> None:
        if self.in_body:
            self.rows.append([])
            self.row_lines.append(line)

    def cell(self, source: str) -> None:
        if self.in_body:
            self.rows[-1].append(source.strip())
        else:
            self.header.append(source.strip())


_BLOCK_KINDS = {
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "table_open": "table",
    "fence": "fence",
    "code_block": "code",
    "html_block": "html",
    "blockquote_open": "quote",
    "hr": "hr",
    "heading_open": "heading",
}


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 0


def _end(token: Token) -> int:
    return token.map[1] if token.map else 0


# --- inline source ---------------------------------------------------------------------------


def code_spans(source: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each code span in *source*, backticks included.

    CommonMark: a run of N backticks opens a span that the next run of exactly N backticks
    closes; with no such run the backticks are literal. A backslash escapes an opener's first
    backtick (inside a span backslashes are literal, so closers cannot be escaped).
    """
    if "`" not in source:
        return []
    runs = [(m.start(), m.end()) for m in _BACKTICK_RUN.finditer(source)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(runs):
        start, end = runs[index]
        if _escaped(source, start):
            start += 1
        candidates = by_length.get(end - start, [])
        pos = bisect.bisect_right(candidates, index)
        if start < end and pos < len(candidates):
            closer = candidates[pos]
            spans.append((start, runs[closer][1]))
            index = closer + 1
        else:
            index += 1
    return spans


def _escaped(source: str, offset: int) -> bool:
    slashes = 0
    while offset - slashes - 1 >= 0 and source[offset - slashes - 1] == "\\":
        slashes += 1
    return slashes % 2 == 1


def code_span_contents(source: str) -> list[str]:
    """The text inside each code span of *source*, as CommonMark renders it."""
    return [unquote_code(source[start:end]) for start, end in code_spans(source)]


def unquote_code(text: str) -> str:
    """The content of a code span written as `text` (any backtick count); other text as is."""
    match = re.fullmatch(r"(`+)(.*?)\1", text.strip(), re.S)
    if match is None:
        return text.strip()
    inner = match.group(2).replace("\n", " ")
    if len(inner) >= 2 and inner[0] == inner[-1] == " " and inner.strip():
        inner = inner[1:-1]
    return inner


def code_span(text: str) -> str:
    """*text* as a code span: a backtick run longer than any inside it, padded when needed."""
    longest = max((len(m.group()) for m in _BACKTICK_RUN.finditer(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _blank(match: re.Match[str]) -> str:
    return _NOT_NEWLINE.sub(" ", match.group())


def mask_code(source: str) -> str:
    """*source* with code spans and HTML comments blanked out (same length, same lines)."""
    if "`" in source:
        chars = list(source)
        for start, end in code_spans(source):
            for i in range(start, end):
                if chars[i] != "\n":
                    chars[i] = " "
        source = "".join(chars)
    if "<!--" in source:
        source = _HTML_COMMENT.sub(_blank, source)
    return source


def prose(source: str) -> str:
    """*source* with code spans, HTML comments and "double-quoted" text blanked out."""
    masked = mask_code(source)
    if '"' in masked or "“" in masked:
        masked = _DOUBLE_QUOTED.sub(_blank, masked)
    return masked


def search_prose(
    doc: Document, pattern: re.Pattern[str], needles: Sequence[str] = ()
) -> Iterator[tuple[str, int]]:
    """Each match of *pattern* in the document's own words, with its line.

    Quoted text does not count: code spans, fenced code, blockquotes and "double quotes".
    *needles* are lowercase words of which every match holds one: a text without any of them
    is passed over without running *pattern* (a case-insensitive pattern that starts at a
    word boundary scans slowly: 13 ms over a 256 KB spec, where the words take 3 ms).
    """

    def may_match(text: str) -> bool:
        if needles and not any(char in text for char in _FOLDS_TO_ASCII):
            lowered = text.lower()
            return any(needle in lowered for needle in needles)
        return pattern.search(text) is not None

    # Masking only removes matches, so text without one needs no masking: one scan of the
    # whole text settles the usual case (nothing found), then one per paragraph.
    if not may_match(doc.text):
        return
    for inline in doc.inlines:
        if inline.quoted or not may_match(inline.source) or pattern.search(inline.source) is None:
            continue
        text = prose(inline.source)
        for match in pattern.finditer(text):
            yield match.group(), inline.line_at(match.start())


# --- the outline of headings -----------------------------------------------------------------


@dataclass
class Outline:
    """The expected sections found in a document (first occurrence of each, by key)."""

    found: dict[str, Section]
    violations: list[Violation]


def check_outline(sections: Sequence[Section], expected: Sequence[str]) -> Outline:
    """Compare the document's headings with the *expected* `##` headings, in order.

    Reports each missing, extra, duplicated, out-of-order or wrongly levelled heading once.
    """
    keys = [norm(title) for title in expected]
    index = {key: i for i, key in enumerate(keys)}
    found: dict[str, Section] = {}
    repeats: dict[str, list[Section]] = {}
    violations: list[Violation] = []
    extras: list[Section] = []
    for section in sections:
        key = section.key
        if key not in index:
            extras.append(section)
        elif key in found:
            repeats.setdefault(key, [found[key]]).append(section)
        else:
            found[key] = section
            if section.level != 2:
                violations.append(
                    Violation(
                        f"{section.ref} (line {section.line}) must be a level-2 heading: "
                        f"{heading_ref(expected[index[key]])}",
                        section.line,
                    )
                )
    violations.extend(_extra(section, expected, set(found)) for section in extras)
    violations.extend(_repeated(group) for group in repeats.values())
    violations.extend(_missing(expected, keys, found))
    violations.extend(_out_of_order(expected, keys, found))
    return Outline(found, violations)


def _where(expected: Sequence[str], i: int) -> str:
    return "it must come first" if i == 0 else f"it comes after {heading_ref(expected[i - 1])}"


def _missing(
    expected: Sequence[str], keys: list[str], found: dict[str, Section]
) -> list[Violation]:
    return [
        Violation(f"{heading_ref(expected[i])} is missing; {_where(expected, i)}")
        for i, key in enumerate(keys)
        if key not in found
    ]


def _out_of_order(
    expected: Sequence[str], keys: list[str], found: dict[str, Section]
) -> list[Violation]:
    index = {key: i for i, key in enumerate(keys)}
    present = sorted(found.values(), key=lambda s: s.line)
    in_order = _longest_increasing([index[s.key] for s in present])
    return [
        Violation(
            f"{s.ref} (line {s.line}) is out of order; {_where(expected, index[s.key])}", s.line
        )
        for pos, s in enumerate(present)
        if pos not in in_order
    ]


def _longest_increasing(values: list[int]) -> set[int]:
    """Positions of one longest increasing subsequence of *values* (O(n log n))."""
    tails: list[int] = []  # values
    tail_pos: list[int] = []  # positions of those values
    parent = [-1] * len(values)
    for pos, value in enumerate(values):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_pos.append(pos)
        else:
            tails[k] = value
            tail_pos[k] = pos
        parent[pos] = tail_pos[k - 1] if k > 0 else -1
    keep: set[int] = set()
    pos = tail_pos[-1] if tail_pos else -1
    while pos != -1:
        keep.add(pos)
        pos = parent[pos]
    return keep


def _repeated(group: list[Section]) -> Violation:
    lines = [s.line for s in group]
    times = "twice" if len(lines) == 2 else f"{len(lines)} times"
    listed = ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}"
    return Violation(f"{group[0].ref} appears {times} (lines {listed}); keep one", lines[1])


def _extra(section: Section, expected: Sequence[str], found: set[str]) -> Violation:
    missing = [title for title in expected if norm(title) not in found]
    close = difflib.get_close_matches(section.key, [norm(t) for t in missing], n=1, cutoff=0.6)
    if close:
        title = next(t for t in missing if norm(t) == close[0])
        hint = f"did you mean {heading_ref(title)}?"
    else:
        hint = "the sections are " + ", ".join(heading_ref(t) for t in expected)
    where = f"extra section {section.ref} (line {section.line})"
    return Violation(f"{where}; {hint}", section.line)


def preamble_violation(doc: Document, first: str) -> Violation | None:
    """Text before the first heading, if any; *first* is what the reply must start with."""
    if doc.preamble is None:
        return None
    line = doc.preamble.line
    return Violation(
        f"text before the first heading (line {line}); the reply must start with {first}", line
    )


def empty_violation(section: Section, what: str) -> Violation:
    return Violation(f"{section.ref} is empty (line {section.line}); {what}", section.line)


def ordered(violations: list[Violation]) -> list[Violation]:
    """Violations without a line first (missing parts), then by line."""
    return sorted(violations, key=lambda v: (v.line is not None, v.line or 0))


def rejected(violations: list[Violation]) -> ContractResult[Any]:
    """A failed check: no value, the violations in reading order."""
    return ContractResult(ordered(violations))


def finish(violations: list[Violation], build: Callable[[], T]) -> ContractResult[T]:
    """The contract's result: the violations, or (when there are none) the value, which
    *build* makes when a caller first asks for it."""
    if violations:
        return rejected(violations)
    return ContractResult([], build)
