"""The Markdown reader every contract shares: one parse, then sections, lists, tables, fences.

Block structure comes from pulldown-cmark, a CommonMark parser, through pyromark's event
stream (so a `#` inside a code fence is never a heading). Inline text is kept as its Markdown
source, cut from the text by each block's byte range, with code spans located by the
CommonMark backtick rule. Lines are 1-based throughout, like an editor shows them.

Two CommonMark constructs read differently here, on purpose: a line of `===` or `---` under
text does not make it a heading (the contracts speak of `#` headings; `---` under text is a
rule), and a link reference definition is text, not something that vanishes.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from itertools import accumulate
from typing import Any, NamedTuple, TypeVar

from specflow.contracts.base import ContractResult, Violation

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
# An ATX heading line: its `#`s, then the title up to an optional closing run of `#`s.
_ATX = re.compile(r"[ \t]*(#{1,6})(?:[ \t]+(.*?))??(?:[ \t]+#+)?[ \t]*", re.S)
_FENCE_OPEN = re.compile(r"[ \t>]*(`{3,}|~{3,})(.*)")
_SETEXT_RULE = re.compile(r"[ \t]*-{3,}[ \t]*")  # `-` or `--` under text stays text
_LIST_MARKER = re.compile(r"[ \t]*(?:[-+*]|[0-9]{1,9}[.)])(?=[ \t\n]|$)")


@cache
def _events() -> Callable[[str], Iterable[tuple[Any, Any]]]:
    # Imported here: `specflow --help` never needs a parser. Tables are the one extension the
    # contracts use (the spec's error matrix); pulldown-cmark parses inline text too, which
    # the reader skips (it takes each block's source instead).
    import pyromark

    return pyromark.Markdown(options=pyromark.Options.ENABLE_TABLES).events_with_range


# The records below are NamedTuples and slotted classes rather than dataclasses: `specflow
# check` runs in hooks and agent loops, and importing dataclasses (which imports inspect)
# costs more than the whole check of a short file.


class Block(NamedTuple):
    """A top-level block of a section: paragraph, list, table, fence, code, html, comment,
    quote, hr or heading (levels 3–6)."""

    kind: str
    line: int
    end_line: int


class Inline(NamedTuple):
    """A run of inline Markdown source (a paragraph, heading or table cell) and where it is."""

    source: str
    line: int
    quoted: bool  # inside a blockquote

    def line_at(self, offset: int) -> int:
        """The document line of the character at *offset* in `source`."""
        return self.line + self.source.count("\n", 0, offset)


class ListItem(NamedTuple):
    """A top-level list item: its own paragraphs as source (nested lists left out)."""

    text: str
    line: int
    end_line: int
    ordered: bool

    @property
    def one_line(self) -> str:
        """The text with its line breaks folded into spaces."""
        return " ".join(self.text.split("\n")).strip()


class Table(NamedTuple):
    """A pipe table: header cells and body rows as inline source, with each row's line."""

    header: list[str]
    rows: list[list[str]]
    line: int
    row_lines: list[int]


class Fence(NamedTuple):
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


class Section:
    """A level-1 or level-2 heading and everything up to the next one (level 0: the text
    before the first heading)."""

    __slots__ = (
        "level", "title", "line", "end_line", "body_text",
        "blocks", "items", "tables", "fences", "inlines",
    )  # fmt: skip

    def __init__(self, level: int, title: str, line: int) -> None:
        self.level = level
        self.title = title
        self.line = line
        self.end_line = 0  # set when the next section starts
        self.body_text = ""
        self.blocks: list[Block] = []
        self.items: list[ListItem] = []
        self.tables: list[Table] = []
        self.fences: list[Fence] = []
        self.inlines: list[Inline] = []

    def __repr__(self) -> str:
        return f"Section({self.ref}, lines {self.line}-{self.end_line})"

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


class Document(NamedTuple):
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
    """The text with one kind of line break, no NUL characters and no lone surrogates (which
    a JSON reply may carry, and no UTF-8 parser takes), as the parser reads it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def parse(text: str) -> Document:
    """Parse *text* once into sections (split at `#` and `##` headings) and their parts."""
    text = normalize_newlines(text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    builder = _Builder(text, lines)
    builder.run(_events()(text))
    return builder.finish(text)


def headed_fences(text: str, level: int = 3) -> list[tuple[str, str]]:
    """Each fenced code block that follows a heading of *level* (with no other heading
    between), as (the heading's title as written, the block's content)."""
    text = normalize_newlines(text)
    data = text.encode("utf-8")
    pairs: list[tuple[str, str]] = []
    title: str | None = None
    content: list[str] | None = None
    depth = 0
    for event, span in _events()(text):
        if event.__class__ is str:
            continue
        tag = event.get("Start")
        if tag is not None:
            depth += 1
            if depth == 1 and tag.__class__ is dict and "Heading" in tag:
                source = data[span["start"] : span["end"]].decode("utf-8").rstrip("\n")
                atx = _ATX.fullmatch(source)
                title = (atx.group(2) or "").strip() if atx and len(atx.group(1)) == level else ""
                title = title or None  # an empty heading names nothing
            elif depth == 1 and tag.__class__ is dict and "CodeBlock" in tag:
                fenced = tag["CodeBlock"] != "Indented"
                content = [] if fenced and title is not None else None
        elif "End" in event:
            depth -= 1
            if depth == 0 and content is not None and title is not None:
                pairs.append((title, "".join(content)))
                title = content = None
        elif content is not None:
            content.append(event.get("Text", ""))
    return pairs


class _Builder:
    """Walks the event stream once, filling sections.

    Every Start event pushes a kind onto a stack and every End pops one, so the stack's depth
    tells what is at the top level. Block ranges are UTF-8 byte offsets into the text.
    """

    def __init__(self, text: str, lines: list[str]) -> None:
        self.lines = lines
        self.ascii = text.isascii()
        self.text = text
        self.data = b"" if self.ascii else text.encode("utf-8")
        sizes = map(len, lines if self.ascii else self.data.split(b"\n"))
        self.line_starts = list(accumulate((size + 1 for size in sizes), initial=0))
        self.preamble = Section(level=0, title="", line=1)
        self.sections: list[Section] = []
        self.current = self.preamble
        self.stack: list[str] = []
        self.quote_depth = 0
        self.list_stack: list[bool] = []  # ordered? for each open list
        self.item: _ItemDraft | None = None
        self.table: _TableDraft | None = None
        self.code: list[str] | None = None  # the open code block's text
        self.fence: tuple[str, str, int] | None = None  # its markup, info and line
        self.item_text_from = -1  # where an open list item's own text may start
        self.top_end = 0  # where the last top-level block ends
        self.row_line = 0  # the open table row's line

    # --- positions ----------------------------------------------------------------------

    def source(self, start: int, end: int) -> str:
        if self.ascii:
            return self.text[start:end]
        return self.data[start:end].decode("utf-8", "replace")

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def lines_of(self, start: int, end: int) -> tuple[int, int]:
        """The first line of the range [start, end) and its last line that is not blank."""
        first = bisect.bisect_right(self.line_starts, start)
        last = bisect.bisect_right(self.line_starts, end - 1) if end > start else first
        while last > first and not self.lines[last - 1].strip(" \t>"):
            last -= 1
        return first, last

    def inline_source(self, start: int, end: int) -> str:
        """A run of inline source with each continuation line's container prefix (quote
        markers, indentation) removed, as CommonMark reads it."""
        source = self.source(start, end)
        if "\n" in source:
            source = _continuation(self.quote_depth).sub("\n", source)
        return source.strip()

    # --- the walk -----------------------------------------------------------------------

    def run(self, events: Iterable[tuple[Any, Any]]) -> None:
        stack = self.stack
        starts, ends = _STARTS, _ENDS
        for event, span in events:
            if event.__class__ is str:  # SoftBreak, HardBreak, Rule
                if event == "Rule":
                    if not stack:
                        self._top(span["start"], span["end"], "hr")
                    elif self.item_text_from >= 0:  # a rule inside a list item
                        self._item_text(span["start"])
                        self.item_text_from = span["end"]
                continue
            tag = event.get("Start")
            if tag is not None:
                handler = starts.get(tag if tag.__class__ is str else next(iter(tag)))
                if handler is None:  # an inline tag: emphasis, link, image, ...
                    stack.append("inline")
                    continue
                if self.item_text_from >= 0:  # a block inside a list item ends its text
                    self._item_text(span["start"])
                stack.append(handler(self, tag, span["start"], span["end"]))
                continue
            if "End" in event:
                kind = stack.pop()
                if kind == "inline":
                    continue
                end = ends.get(kind)
                if end is not None:
                    end(self, span["end"])
                if stack and stack[-1] == "item":
                    self.item_text_from = span["end"]  # the item's text may go on after it
                continue
            # A leaf: Text, Code, Html, InlineHtml, ...; only a code block's text is kept.
            if self.code is not None:
                self.code.append(event.get("Text", ""))

    def _item_text(self, end: int) -> None:
        """The text of a list item that no block holds (a tight list has no paragraphs),
        from `item_text_from` to *end*: the item's own paragraph, without its marker."""
        start, self.item_text_from = self.item_text_from, -1
        source = self.source(start, end)
        marker = _LIST_MARKER.match(source)
        rest = source[marker.end() if marker is not None else 0 :]
        if self.quote_depth:  # after a child block, a line starts with its quote markers
            rest = _unquote(rest, self.quote_depth)
        if "\n" in rest:
            rest = _continuation(self.quote_depth).sub("\n", rest)
        text = rest.strip()
        if text:
            line = self.line_of(start) + rest.count("\n", 0, len(rest) - len(rest.lstrip()))
            self._add_inline(text, line)

    def _top(self, start: int, end: int, kind: str) -> None:
        """A block directly under a heading."""
        self._gap(start)
        self.current.blocks.append(Block(kind, *self.lines_of(start, end)))
        self.top_end = max(self.top_end, end)

    def _gap(self, start: int) -> None:
        """Text the parser left out before *start* (a link reference definition) counts as a
        paragraph."""
        if start > self.top_end and self.source(self.top_end, start).strip():
            self._dropped(self.top_end, start)

    def _dropped(self, start: int, end: int) -> None:
        source = self.source(start, end)
        text = source.strip()
        skipped = source[: len(source) - len(source.lstrip())]
        start += self._size(skipped)
        stop = start + self._size(text)  # not *end*: the next block's indentation is not text
        self.current.blocks.append(Block("paragraph", *self.lines_of(start, stop)))
        self.current.inlines.append(Inline(text, self.line_of(start), False))

    def _size(self, text: str) -> int:
        """The length of *text* in the offsets the parser gives (UTF-8 bytes)."""
        return len(text) if self.ascii else len(text.encode("utf-8"))

    def _inline(self, source: str, start: int) -> None:
        """A paragraph's (or a tight list item's) inline source, starting at byte *start*."""
        self._add_inline(source, self.line_of(start))

    def _add_inline(self, source: str, line: int) -> None:
        self.current.inlines.append(Inline(source, line, self.quote_depth > 0))
        if self.item is not None and len(self.list_stack) == 1:
            self.item.parts.append(source)

    # --- Start events: each returns the kind its End will pop ---------------------------

    def _paragraph(self, tag: Any, start: int, end: int) -> str:
        if not self.stack:
            self._top(start, end, "paragraph")
        self._inline(self.inline_source(start, end), start)
        return "paragraph"

    def _item(self, tag: Any, start: int, end: int) -> str:
        self.item_text_from = start
        if len(self.list_stack) == 1 and self.quote_depth == 0:
            ordered = self.list_stack[-1]
            self.item = _ItemDraft(*self.lines_of(start, end), ordered)
        return "item"

    def _list(self, tag: Any, start: int, end: int) -> str:
        if not self.stack:
            self._top(start, end, "list")
        self.list_stack.append(tag["List"] is not None)
        return "list"

    def _quote(self, tag: Any, start: int, end: int) -> str:
        if not self.stack:
            self._top(start, end, "quote")
        self.quote_depth += 1
        return "quote"

    def _heading(self, tag: Any, start: int, end: int) -> str:
        source = self.source(start, end).rstrip("\n")
        atx = _ATX.fullmatch(source)
        if atx is None:
            self._setext(source, start, end)
            return "heading"
        title = (atx.group(2) or "").strip()
        level = len(atx.group(1))
        line = self.line_of(start)
        if not self.stack and level <= 2:
            self._gap(start)
            self._close_section()
            self.current = Section(level=level, title=title, line=line)
            self.sections.append(self.current)
            self.top_end = max(self.top_end, end)
        elif not self.stack:
            self._top(start, end, "heading")
        self._inline(title, start)
        return "heading"

    def _setext(self, source: str, start: int, end: int) -> None:
        """Text underlined with `===` or `---`, which the contracts do not take as a heading:
        a paragraph, and a `---` underline is a rule after it."""
        text, _, underline = source.rpartition("\n")
        underline = _unquote(underline, self.quote_depth)
        rule = _SETEXT_RULE.fullmatch(underline) is not None
        if rule:
            text_end = start + self._size(text)
            if not self.stack:
                self._top(start, text_end, "paragraph")
                self._top(text_end + 1, end, "hr")
            self._inline(self.inline_source(start, text_end), start)
        else:
            if not self.stack:
                self._top(start, end, "paragraph")
            self._inline(self.inline_source(start, end), start)

    def _code(self, tag: Any, start: int, end: int) -> str:
        fenced = tag["CodeBlock"] != "Indented"
        if not self.stack:
            self._top(start, end, "fence" if fenced else "code")
        self.code = []
        self.fence = None
        if fenced:
            first = self.source(start, end).split("\n", 1)[0]
            opening = _FENCE_OPEN.match(first)
            markup, info = (opening.group(1), opening.group(2)) if opening else ("```", "")
            self.fence = (markup, info.strip(), self.line_of(start))
        return "code"

    def _table(self, tag: Any, start: int, end: int) -> str:
        if not self.stack:
            self._top(start, end, "table")
        self.table = _TableDraft(line=self.line_of(start))
        return "table"

    def _head(self, tag: Any, start: int, end: int) -> str:
        self.row_line = self.line_of(start)
        return "head"

    def _row(self, tag: Any, start: int, end: int) -> str:
        self.row_line = self.line_of(start)
        if self.table is not None:
            self.table.row_open(self.row_line)
        return "row"

    def _cell(self, tag: Any, start: int, end: int) -> str:
        # GFM: `\|` is a pipe inside a cell, code spans included.
        source = self.source(start, end).strip().replace("\\|", "|")
        # A missing cell (a short row) has an empty range at the row's end: use the row's line.
        self.current.inlines.append(Inline(source, self.row_line, self.quote_depth > 0))
        table = self.table
        if table is not None:
            if table.in_body:
                if table.rows:
                    table.rows[-1].append(source)
            else:
                table.header.append(source)
        return "cell"

    def _html(self, tag: Any, start: int, end: int) -> str:
        if not self.stack:
            comment = _COMMENT_BLOCK.fullmatch(self.source(start, end)) is not None
            self._top(start, end, "comment" if comment else "html")
        return "html"

    # --- End events ---------------------------------------------------------------------

    def _end_item(self, end: int) -> None:
        if self.item_text_from >= 0:
            self._item_text(end)
        if len(self.list_stack) == 1 and self.item is not None:
            draft = self.item
            text = "\n".join(draft.parts)
            self.current.items.append(ListItem(text, draft.line, draft.end_line, draft.ordered))
            self.item = None

    def _end_list(self, end: int) -> None:
        self.list_stack.pop()

    def _end_quote(self, end: int) -> None:
        self.quote_depth -= 1

    def _end_code(self, end: int) -> None:
        content = "".join(self.code or [])
        self.code = None
        if self.fence is None:
            return
        markup, info, line = self.fence
        end_line = max(line, self.lines_of(self.line_starts[line - 1], end)[1])
        # A closing fence is the one line of the block that is neither the opening fence nor
        # content (a fence left open runs to the end of the text, all of it content).
        content_lines = content.count("\n") + (not content.endswith("\n") and content != "")
        closed = end_line - line == content_lines + 1
        self.current.fences.append(Fence(info, content, line, end_line, closed, markup))

    def _end_table(self, end: int) -> None:
        if self.table is not None and self.quote_depth == 0:
            draft = self.table
            self.current.tables.append(Table(draft.header, draft.rows, draft.line, draft.row_lines))
        self.table = None

    def _end_head(self, end: int) -> None:
        if self.table is not None:
            self.table.in_body = True

    def _close_section(self) -> None:
        section = self.current
        blocks = section.blocks
        start = section.line if section.level > 0 else 0
        section.end_line = max([start] + [b.end_line for b in blocks])
        body = self.lines[start : section.end_line]
        section.body_text = "\n".join(body).strip("\n")

    def finish(self, text: str) -> Document:
        self._gap(len(text) if self.ascii else len(self.data))
        self._close_section()
        preamble = self.preamble if self.preamble.content_blocks else None
        if preamble is not None:
            preamble.line = preamble.content_blocks[0].line
        return Document(text, self.lines, preamble, self.sections)


# The builder's handlers by event: a table lookup, not a chain of comparisons (a 2,000-line
# spec has some 18,000 events). Start tags with a payload come as {name: payload}; each Start
# handler returns the kind its End will pop. Plain functions, so a builder holds no cycle.
_STARTS: dict[str, Callable[[_Builder, Any, int, int], str]] = {
    "Paragraph": _Builder._paragraph,
    "Item": _Builder._item,
    "List": _Builder._list,
    "BlockQuote": _Builder._quote,
    "Heading": _Builder._heading,
    "CodeBlock": _Builder._code,
    "Table": _Builder._table,
    "TableHead": _Builder._head,
    "TableRow": _Builder._row,
    "TableCell": _Builder._cell,
    "HtmlBlock": _Builder._html,
}
_ENDS: dict[str, Callable[[_Builder, int], None]] = {
    "item": _Builder._end_item,
    "list": _Builder._end_list,
    "quote": _Builder._end_quote,
    "code": _Builder._end_code,
    "table": _Builder._end_table,
    "head": _Builder._end_head,
}


def _unquote(line: str, quote_depth: int) -> str:
    """*line* without up to *quote_depth* leading `>` markers (and the indentation around
    them): what a line inside that many block quotes holds."""
    prefix = _quote_prefix(quote_depth).match(line)
    return line[prefix.end() :] if prefix else line


@cache
def _quote_prefix(quote_depth: int) -> re.Pattern[str]:
    return re.compile(rf"(?:[ \t]*>){{0,{quote_depth}}}[ \t]?")


@cache
def _continuation(quote_depth: int) -> re.Pattern[str]:
    """A line break and the container prefix after it: up to *quote_depth* `>` markers and
    the indentation around them."""
    if quote_depth == 0:
        return re.compile(r"\n[ \t]+")
    return re.compile(rf"\n(?:[ \t]*>){{0,{quote_depth}}}[ \t]*")


class _ItemDraft:
    __slots__ = ("line", "end_line", "ordered", "parts")

    def __init__(self, line: int, end_line: int, ordered: bool) -> None:
        self.line = line
        self.end_line = end_line
        self.ordered = ordered
        self.parts: list[str] = []


class _TableDraft:
    __slots__ = ("line", "header", "rows", "row_lines", "in_body")

    def __init__(self, line: int) -> None:
        self.line = line
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.row_lines: list[int] = []
        self.in_body = False

    def row_open(self, line: int) -> None:
        if self.in_body:
            self.rows.append([])
            self.row_lines.append(line)


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


class Outline(NamedTuple):
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
    import difflib  # only for a heading that is not in the template

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


def outside_list(section: Section, noun: str) -> list[Violation]:
    """A violation for each block of *section* that is not its list: every *noun* (question,
    directive) must be a list item."""
    return [
        Violation(
            f"text outside the list in {section.ref} (line {block.line}); "
            f"every {noun} must be a list item",
            block.line,
        )
        for block in section.content_blocks
        if block.kind != "list"
    ]


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
