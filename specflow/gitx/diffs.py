"""Unified diffs as data: parse git's output into files, hunks and line roles.

Pure Python and no git: gitops.py produces the text, this module reads it. The review gate
parses the diff once, filters it (excludes.py), redacts it (secrets.py), then splits it into
chunks that each fit the model's budget (chunks.py); the data classes they all pass around
(FileDiff, Hunk, SkippedFile, DiffPart, Chunk) live here. LineRoles, the walk that says what
each diff line is, serves the parser and the secret scanner alike.

Lines are split on "\\n" only (never str.splitlines, which also breaks on form feeds and
Unicode separators that are ordinary characters inside a diff line), and a carriage return
stays part of its line, so a file's text is rebuilt byte for byte.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from specflow.errors import SpecflowError

FileStatus = Literal["added", "modified", "deleted", "renamed", "copied"]
# A diff line's role: ("+", n) added as line n of the new file, ("-", n) removed from line n of
# the old file, (" ", n) context at line n of the new file, ("", 0) not content (file and hunk
# headers, "\\ No newline" markers). Plain tuples: a role is made for every line of a diff.
LineRole = tuple[str, int]
NOT_CONTENT: LineRole = ("", 0)

_HUNK_RE = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)\Z")
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


class DiffParseError(SpecflowError):
    """The text is not a git diff this parser understands."""


@dataclass(frozen=True)
class Hunk:
    """One `@@` section: its header line, where it starts on each side, and its body lines."""

    header: str
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str  # what git printed after the second "@@" (often the enclosing function)
    lines: tuple[str, ...]  # body lines without their "\n": " ctx", "-old", "+new", "\\ No..."
    added: int = 0  # "+" lines in the body
    removed: int = 0  # "-" lines in the body

    @property
    def text(self) -> str:
        """The hunk as diff text, header included, each line ending in a newline."""
        return join_lines((self.header, *self.lines))

    def roles(self) -> list[LineRole]:
        """Each body line's role and number: the new file's for added and context lines, the
        old file's for removed ones; a "\\ No newline" marker is not content."""
        roles: list[LineRole] = []
        old, new = self.old_start, self.new_start
        for line in self.lines:
            first = line[:1]
            if first == "+":
                roles.append(("+", new))
                new += 1
            elif first == "-":
                roles.append(("-", old))
                old += 1
            elif first == "\\":
                roles.append(NOT_CONTENT)
            else:  # " " or "" (a blank context line)
                roles.append((" ", new))
                old += 1
                new += 1
        return roles


@dataclass(frozen=True)
class FileDiff:
    """One file's part of a diff.

    `path` is where the file is after the change, or where it was for a deleted file, so
    every file has one path to show and to match exclude patterns against. `old_path` is
    set only when the change moved the file (renamed, copied).
    """

    path: str
    old_path: str | None
    status: FileStatus
    binary: bool
    header: tuple[str, ...]  # from "diff --git" up to the first hunk
    hunks: tuple[Hunk, ...]
    added: int
    removed: int
    text: str  # the file's whole diff text, as git printed it
    old_mode: str | None = None
    new_mode: str | None = None

    @property
    def header_text(self) -> str:
        return join_lines(self.header)


@dataclass(frozen=True)
class SkippedFile:
    """A file the review leaves out, and why (shown to the user so nothing vanishes silently)."""

    path: str
    reason: str


@dataclass(frozen=True)
class DiffPart:
    """A whole file's diff, or one piece of a file too large for one chunk.

    Each piece repeats the file's diff header, so the reviewer always knows which file it
    reads; a hunk cut by lines gets a recomputed `@@` header so its line numbers stay true.
    """

    file: FileDiff
    text: str
    tokens: int
    index: int = 1  # 1-based piece number
    count: int = 1  # how many pieces the file was cut into (1: whole)
    truncated: int = 0  # lines of this piece cut short because alone they overflow a chunk

    @property
    def path(self) -> str:
        return self.file.path


@dataclass(frozen=True)
class Chunk:
    """The diff text one review call reads, and the estimated tokens it costs.

    A diff line that alone would overflow a chunk is cut, with a marker saying how much was
    left out (see `truncated`), so `tokens` stays within the budget.
    """

    parts: tuple[DiffPart, ...]
    text: str
    tokens: int

    @property
    def paths(self) -> list[str]:
        """The paths this chunk covers, in order, each once."""
        return list(dict.fromkeys(part.path for part in self.parts))

    @property
    def truncated(self) -> dict[str, int]:
        """Path -> how many of its lines in this chunk were cut short to fit the budget."""
        cut: dict[str, int] = {}
        for part in self.parts:
            if part.truncated:
                cut[part.path] = cut.get(part.path, 0) + part.truncated
        return cut


# --------------------------------------------------------------------------------------------
# Parsing


def parse_diff(text: str) -> list[FileDiff]:
    """Parse `git diff` output (the format gitops produces) into one FileDiff per file.

    Handles added, deleted, renamed and copied files (with or without content changes), mode
    changes, binary files, "\\ No newline at end of file" markers and quoted paths. Raises
    DiffParseError, naming the line, on text that is not a git diff.
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    files: list[FileDiff] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("* Unmerged path "):
            raise DiffParseError(
                f"{lines[i][len('* Unmerged path ') :]} has unresolved merge conflicts; resolve "
                "them and `git add` the file, then review again"
            )
        if not lines[i].startswith("diff --git "):
            raise DiffParseError(
                f"diff line {i + 1}: expected a `diff --git` file header, found "
                f"{_clip(lines[i])!r}; give specflow the output of `git diff`"
            )
        file, i = _parse_file(lines, i)
        files.append(file)
    return files


def _parse_file(lines: list[str], start: int) -> tuple[FileDiff, int]:
    """Read one file's header and hunks from lines[start]; return it and the next index."""
    i = start + 1
    while i < len(lines) and not lines[i].startswith(("@@ ", "diff --git ")):
        i += 1
    header = lines[start:i]
    hunks: list[Hunk] = []
    added = removed = 0
    while i < len(lines) and lines[i].startswith("@@ "):
        hunk, i = _parse_hunk(lines, i)
        hunks.append(hunk)
        added += hunk.added
        removed += hunk.removed
    meta = _read_header(header)
    file = FileDiff(
        path=meta.path,
        old_path=meta.old_path,
        status=meta.status,
        binary=meta.binary,
        header=tuple(header),
        hunks=tuple(hunks),
        added=added,
        removed=removed,
        text=join_lines(lines[start:i]),
        old_mode=meta.old_mode,
        new_mode=meta.new_mode,
    )
    return file, i


def _parse_hunk(lines: list[str], start: int) -> tuple[Hunk, int]:
    """Read one hunk, using its counts to know where it ends (a body line may be "--- x")."""
    header = lines[start]
    match = _HUNK_RE.match(header)
    if match is None:
        raise DiffParseError(
            f"diff line {start + 1}: malformed hunk header {_clip(header)!r}; "
            "expected `@@ -a,b +c,d @@`"
        )
    old_start, old_count, new_start, new_count = (
        int(match[1]),
        _count(match[2]),
        int(match[3]),
        _count(match[4]),
    )
    old_left, new_left = old_count, new_count
    added = removed = 0
    i = start + 1
    while i < len(lines) and (old_left > 0 or new_left > 0):
        first = lines[i][:1]
        if first == " " or first == "":  # "" is a blank context line (diff.suppressBlankEmpty)
            old_left -= 1
            new_left -= 1
        elif first == "-":
            old_left -= 1
            removed += 1
        elif first == "+":
            new_left -= 1
            added += 1
        elif first != "\\":
            break  # a truncated hunk: let the caller see the next header
        i += 1
    while i < len(lines) and lines[i].startswith("\\"):
        i += 1
    hunk = Hunk(
        header=header,
        old_start=old_start,
        old_count=old_count,
        new_start=new_start,
        new_count=new_count,
        section=match[5],
        lines=tuple(lines[start + 1 : i]),
        added=added,
        removed=removed,
    )
    return hunk, i


class LineRoles:
    """The role of each line of a diff text split on "\\n", worked out on demand.

    Built from the parser's own hunks (one walk for parse_diff and the secret scanner):
    `kind` costs a bisect, `role` walks only the hunk that holds the line. Lines outside
    every hunk body (file and hunk headers, stray lines) are NOT_CONTENT.
    """

    def __init__(self, hunks: Sequence[tuple[int, Hunk]]) -> None:
        self._firsts = [first for first, _ in hunks]  # index of each hunk's first body line
        self._hunks = [hunk for _, hunk in hunks]
        self._roles: dict[int, list[LineRole]] = {}

    @classmethod
    def of_text(cls, text: str) -> LineRoles:
        """Roles for a git diff of one or more files, or for bare hunks (`@@` first)."""
        lines = text.split("\n")
        hunks: list[tuple[int, Hunk]] = []
        i = 0
        while i < len(lines):
            if lines[i].startswith("@@ ") and _HUNK_RE.match(lines[i]):
                hunk, after = _parse_hunk(lines, i)
                hunks.append((i + 1, hunk))
                i = after
            else:
                i += 1
        return cls(hunks)

    @classmethod
    def of_file(cls, file: FileDiff) -> LineRoles:
        """Roles for the lines of *file*.text, from the hunks parse_diff already read."""
        hunks: list[tuple[int, Hunk]] = []
        at = len(file.header)
        for hunk in file.hunks:
            hunks.append((at + 1, hunk))
            at += 1 + len(hunk.lines)
        return cls(hunks)

    def _find(self, index: int) -> tuple[int, int]:
        """(hunk number, offset in its body) of line *index*, or (-1, 0) outside hunks."""
        at = bisect.bisect_right(self._firsts, index) - 1
        if at < 0 or index - self._firsts[at] >= len(self._hunks[at].lines):
            return -1, 0
        return at, index - self._firsts[at]

    def kind(self, index: int) -> str:
        """The kind of line *index*: "+", "-" or " " in a hunk body, "" elsewhere."""
        at, offset = self._find(index)
        if at < 0:
            return ""
        first = self._hunks[at].lines[offset][:1]
        return _KINDS.get(first, " ")

    def role(self, index: int) -> LineRole:
        at, offset = self._find(index)
        if at < 0:
            return NOT_CONTENT
        if at not in self._roles:
            self._roles[at] = self._hunks[at].roles()
        return self._roles[at][offset]


_KINDS = {"+": "+", "-": "-", "\\": ""}


def _count(group: str | None) -> int:
    return 1 if group is None else int(group)


@dataclass
class _HeaderMeta:
    path: str
    old_path: str | None
    status: FileStatus
    binary: bool
    old_mode: str | None
    new_mode: str | None


def _read_header(header: list[str]) -> _HeaderMeta:
    """Paths, status, binary flag and modes from a file's extended header lines."""
    fields: dict[str, str] = {}
    binary = False
    for line in header[1:]:
        if line.startswith(("Binary files ", "GIT binary patch")):
            binary = True
            continue
        for key in _HEADER_KEYS:
            if line.startswith(key):
                fields[key] = line[len(key) :]
                break
    status: FileStatus = "modified"
    if "new file mode " in fields:
        status = "added"
    elif "deleted file mode " in fields:
        status = "deleted"
    elif "rename from " in fields:
        status = "renamed"
    elif "copy from " in fields:
        status = "copied"
    git_old, git_new = _git_line_paths(header[0])
    old = _first(fields, ("rename from ", "copy from "), ("--- ",), git_old)
    new = _first(fields, ("rename to ", "copy to "), ("+++ ",), git_new)
    moved = status in ("renamed", "copied")
    return _HeaderMeta(
        path=old if status == "deleted" else new,
        old_path=old if moved else None,
        status=status,
        binary=binary,
        old_mode=fields.get("old mode ") or fields.get("deleted file mode "),
        new_mode=fields.get("new mode ") or fields.get("new file mode "),
    )


_HEADER_KEYS = (
    "--- ",
    "+++ ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
    "new file mode ",
    "deleted file mode ",
    "old mode ",
    "new mode ",
)


def _first(
    fields: dict[str, str], plain: tuple[str, ...], prefixed: tuple[str, ...], fallback: str
) -> str:
    """The best-informed path: rename/copy lines, then ---/+++ lines, then `diff --git`."""
    for key in plain:
        if key in fields:
            return unquote_path(fields[key])
    for key in prefixed:
        if key in fields:
            # git appends a tab to ---/+++ names that contain a space.
            name = unquote_path(fields[key].rstrip("\t"))
            if name != "/dev/null":
                return _strip_prefix(name)
    return fallback


def _git_line_paths(line: str) -> tuple[str, str]:
    """The two paths of `diff --git a/X b/Y`; unquoted X == Y is the only ambiguous case."""
    rest = line[len("diff --git ") :]
    if rest.startswith('"'):
        end = _closing_quote(rest)
        first, second = rest[: end + 1], rest[end + 2 :]
    elif rest.endswith('"') and ' "' in rest:
        cut = rest.index(' "')
        first, second = rest[:cut], rest[cut + 1 :]
    else:
        # Unquoted names may hold spaces; without a rename both halves are the same name.
        half = (len(rest) - 1) // 2
        first, second = rest[:half], rest[half + 1 :]
    return _strip_prefix(unquote_path(first)), _strip_prefix(unquote_path(second))


def _closing_quote(text: str) -> int:
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return len(text) - 1


def _strip_prefix(name: str) -> str:
    return name[2:] if name.startswith(("a/", "b/")) else name


def unquote_path(name: str) -> str:
    """Undo git's C-style quoting of a path ("a\\tb", octal bytes for non-ASCII)."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    out = bytearray()
    i, end = 1, len(name) - 1
    while i < end:
        char = name[i]
        if char != "\\" or i + 1 >= end:
            out += char.encode("utf-8")
            i += 1
        elif name[i + 1] in "01234567":
            out.append(int(name[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(_C_ESCAPES.get(name[i + 1], ord(name[i + 1]) & 0xFF))
            i += 2
    return out.decode("utf-8", errors="replace")


def join_lines(lines: Iterable[str]) -> str:
    """The lines as diff text, each ending in a newline."""
    return "".join(line + "\n" for line in lines)


def _clip(line: str, width: int = 80) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"
