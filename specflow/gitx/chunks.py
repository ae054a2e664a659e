"""Split a diff to a token budget: chunks that each fit one review call.

A large change is reviewed in several calls instead of one that overflows the model's
context. Files stay whole when they fit; a file over the budget is cut between hunks, a hunk
between lines (with recomputed `@@` headers), and a line that alone overflows a chunk is cut
short with CUT_MARKER saying how much was not sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from specflow.gitx.diffs import Chunk, DiffPart, FileDiff, Hunk, join_lines
from specflow.tokens import CHARS_PER_TOKEN, estimate_tokens


def split_for_budget(files: Sequence[FileDiff], budget_tokens: int) -> list[Chunk]:
    """Pack file diffs into chunks of at most *budget_tokens* estimated tokens each.

    Files stay whole and in order, packed greedily; a file over the budget is cut between
    hunks (each piece repeating the file's header), and a hunk over the budget is cut
    between lines (each piece with a recomputed `@@` header). Every hunk line lands in
    exactly one chunk.
    """
    if budget_tokens < 1:
        raise ValueError(f"budget_tokens must be at least 1, got {budget_tokens}")
    parts: list[DiffPart] = []
    for file in files:
        parts.extend(_file_parts(_cut_long_lines(file, budget_tokens), budget_tokens))
    return _pack(parts, budget_tokens)


# Ends a diff line cut short because alone it would overflow a chunk (a minified bundle, a
# data blob on one line): the reviewer is told that part of the line was not sent.
CUT_MARKER = " …[specflow: {count:,} more characters of this line not sent]"
_CUT_RE = re.compile(r" …\[specflow: [\d,]+ more characters of this line not sent\]$")
_MIN_KEPT = 80  # a cut line keeps at least this much, whatever the budget


def _cut_long_lines(file: FileDiff, budget: int) -> FileDiff:
    """*file* with every hunk line that cannot fit in a chunk on its own cut short, marked.

    A line fits when it, the file's header and a hunk header fit in *budget* tokens; a file
    without such a line is returned as it is.
    """
    marker = len(CUT_MARKER.format(count=10**12))
    room = budget * CHARS_PER_TOKEN - len(file.header_text) - _widest_header(file) - marker - 2
    keep = max(_MIN_KEPT, room)
    if all(len(line) <= keep + marker for hunk in file.hunks for line in hunk.lines):
        return file
    hunks = tuple(
        replace(hunk, lines=tuple(_cut(line, keep, marker) for line in hunk.lines))
        for hunk in file.hunks
    )
    text = file.header_text + "".join(hunk.text for hunk in hunks)
    return replace(file, hunks=hunks, text=text)


def _cut(line: str, keep: int, marker: int) -> str:
    if len(line) <= keep + marker:
        return line
    return line[:keep] + CUT_MARKER.format(count=len(line) - keep)


def _widest_header(file: FileDiff) -> int:
    """The longest `@@` header a slice of one of the file's hunks can get."""
    return max(
        (
            len(
                f"@@ -{h.old_start + h.old_count},{h.old_count} "
                f"+{h.new_start + h.new_count},{h.new_count} @@{h.section}"
            )
            for h in file.hunks
        ),
        default=0,
    )


def _cut_lines(text: str) -> int:
    """How many lines of *text* were cut short (they end with the marker)."""
    if "…[specflow: " not in text:
        return 0
    return sum(1 for line in text.split("\n") if _CUT_RE.search(line))


def _pack(parts: list[DiffPart], budget: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    current: list[DiffPart] = []
    used = 0
    for part in parts:
        if current and used + part.tokens > budget:
            chunks.append(_chunk(current))
            current, used = [], 0
        current.append(part)
        used += part.tokens
    if current:
        chunks.append(_chunk(current))
    return chunks


def _chunk(parts: list[DiffPart]) -> Chunk:
    text = "".join(part.text for part in parts)
    return Chunk(parts=tuple(parts), text=text, tokens=estimate_tokens(text))


def _file_parts(file: FileDiff, budget: int) -> list[DiffPart]:
    """The file whole when it fits, else pieces of whole hunks, cutting big hunks by lines."""
    tokens = estimate_tokens(file.text)
    if tokens <= budget or not file.hunks:
        return [DiffPart(file, file.text, tokens, truncated=_cut_lines(file.text))]
    header = file.header_text
    room = max(1, budget - estimate_tokens(header))
    groups: list[list[str]] = []  # each: hunk texts that fit together under one header
    size = 0
    for hunk in file.hunks:
        for text in _hunk_pieces(hunk, room):
            if groups and size + len(text) <= room * CHARS_PER_TOKEN:
                groups[-1].append(text)
                size += len(text)
            else:
                groups.append([text])
                size = len(text)
    texts = [header + "".join(group) for group in groups]
    return [
        DiffPart(file, text, estimate_tokens(text), index, len(texts), _cut_lines(text))
        for index, text in enumerate(texts, start=1)
    ]


def _hunk_pieces(hunk: Hunk, room: int) -> list[str]:
    """The hunk's text, or consecutive slices of its lines that each fit in *room* tokens."""
    text = hunk.text
    if estimate_tokens(text) <= room:
        return [text]
    # The longest header a slice can get: starts and counts no larger than the hunk's own.
    widest = (
        f"@@ -{hunk.old_start + hunk.old_count},{hunk.old_count} "
        f"+{hunk.new_start + hunk.new_count},{hunk.new_count} @@{hunk.section}"
    )
    limit = room * CHARS_PER_TOKEN - len(widest) - 1
    slices: list[tuple[int, int]] = []
    begin, size = 0, 0
    for i, line in enumerate(hunk.lines):
        # A "\ No newline" marker belongs to the line before it: never cut in front of one.
        if i > begin and size + len(line) + 1 > limit and not line.startswith("\\"):
            slices.append((begin, i))
            begin, size = i, 0
        size += len(line) + 1
    slices.append((begin, len(hunk.lines)))
    return _renumbered(hunk, slices)


def _renumbered(hunk: Hunk, slices: list[tuple[int, int]]) -> list[str]:
    """Give each slice of a hunk its own `@@` header with true starts and counts."""
    old_next = hunk.old_start if hunk.old_count else hunk.old_start + 1
    new_next = hunk.new_start if hunk.new_count else hunk.new_start + 1
    pieces = []
    for begin, end in slices:
        body = hunk.lines[begin:end]
        old_n = sum(1 for line in body if line[:1] in (" ", "", "-"))
        new_n = sum(1 for line in body if line[:1] in (" ", "", "+"))
        old_at = old_next if old_n else old_next - 1
        new_at = new_next if new_n else new_next - 1
        head = f"@@ -{old_at},{old_n} +{new_at},{new_n} @@{hunk.section}"
        pieces.append(join_lines((head, *body)))
        old_next += old_n
        new_next += new_n
    return pieces
