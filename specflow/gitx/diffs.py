"""Unified diffs as data: parse git's output, drop what review skips, split to a token budget.

Pure Python and no git: gitops.py produces the text, this module reads it. The review gate
parses the diff once, filters it, redacts it (secrets.py), then splits it into chunks that each
fit the model's budget, so a large change is reviewed in several calls instead of one that
overflows the context.

Lines are split on "\\n" only (never str.splitlines, which also breaks on form feeds and
Unicode separators that are ordinary characters inside a diff line), and a carriage return
stays part of its line, so a file's text is rebuilt byte for byte.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from specflow.errors import SpecflowError
from specflow.tokens import CHARS_PER_TOKEN, estimate_tokens

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
        return _join((self.header, *self.lines))

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
        return _join(self.header)


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
        text=_join(lines[start:i]),
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


# --------------------------------------------------------------------------------------------
# Filtering


def filter_files(
    files: Sequence[FileDiff], exclude_globs: Sequence[str]
) -> tuple[list[FileDiff], list[SkippedFile]]:
    """Split files into those to review and those skipped, each skip with its reason.

    Binary files are skipped (there is nothing a reviewer can read). Exclude patterns follow
    .gitignore rules, matched against the path relative to the repository root:

    - a pattern without a slash (a trailing one aside) matches at any depth: `*.lock`
      matches `Cargo.lock` and `web/yarn.lock`;
    - a pattern with a slash is anchored at the root: `vendor/**` matches `vendor/a/b.go`
      but not `src/vendor/x.go`; write `**/vendor/**` to match a vendor folder anywhere;
    - `*` and `?` stay within one folder, `**` crosses folders, `[abc]` is a character class;
    - a pattern matching a folder excludes everything under it (`dist` = `dist/**`);
    - a leading `!` re-includes what an earlier pattern excluded; the last match wins.
    """
    rules = compile_excludes(exclude_globs)
    kept: list[FileDiff] = []
    skipped: list[SkippedFile] = []
    for file in files:
        if file.binary:
            skipped.append(SkippedFile(file.path, "binary file"))
            continue
        pattern = excluded_by(file.path, rules)
        if pattern is None:
            kept.append(file)
        else:
            skipped.append(SkippedFile(file.path, f"matches exclude pattern `{pattern}`"))
    return kept, skipped


@dataclass(frozen=True)
class ExcludeRule:
    pattern: str  # as written, for messages
    regex: re.Pattern[str]
    negated: bool


def compile_excludes(globs: Iterable[str]) -> list[ExcludeRule]:
    """Compile exclude patterns once (see filter_files for their meaning)."""
    rules = []
    for glob in globs:
        negated = glob.startswith("!")
        body = glob[1:] if negated else glob
        if body.strip():
            rules.append(ExcludeRule(glob, _glob_regex(body), negated))
    return rules


def excluded_by(path: str, rules: Sequence[ExcludeRule]) -> str | None:
    """The pattern that excludes *path*, or None when the path is reviewed."""
    verdict: str | None = None
    for rule in rules:
        if rule.regex.match(path):
            verdict = None if rule.negated else rule.pattern
    return verdict


def _glob_regex(pattern: str) -> re.Pattern[str]:
    anchored = "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out: list[str] = [] if anchored else ["(?:.*/)?"]
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[" and "]" in body[i + 2 :]:
            end = body.index("]", i + 2)
            chars = body[i + 1 : end]
            negate = chars[:1] in ("!", "^")
            chars = chars[1:] if negate else chars
            out.append("[" + ("^" if negate else "") + chars.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    # A folder's match covers everything inside it, as in .gitignore.
    return re.compile("".join(out) + r"(?:/.*)?\Z", re.DOTALL)


# --------------------------------------------------------------------------------------------
# Budgeting


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
        pieces.append(_join((head, *body)))
        old_next += old_n
        new_next += new_n
    return pieces


def _join(lines: Iterable[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _clip(line: str, width: int = 80) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"
