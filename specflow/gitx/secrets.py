"""Find secrets in a diff (or any text) and replace them before the text leaves the machine.

The review gate sends diffs to a model provider; a key pasted into a config file must not
go with them. `redact` replaces each secret with a placeholder naming its kind, such as
`[REDACTED:github-token]`, and reports where it was. A finding never holds the secret: only
its kind, path, line and a preview of its first few characters.

In a diff every line is redacted, since context and removed lines leave the machine too;
`findings` lists the secrets on the lines the change adds (what a commit would introduce),
and `hidden` those only redacted from context and removed lines (removing a leaked key
must not read as adding one). Line counts never change, so a redacted diff still parses
and its line numbers stay true.

Detection is pattern-based: token formats with a known prefix (AWS, GitHub, Anthropic,
OpenAI, Slack, Stripe, Google, JWT), private-key blocks (across lines), GCP service-account
JSON, assignments whose name says secret (`password = "..."`, `api_key: ...`) with a literal
value that is not a placeholder, and high-entropy values in .env files. Each pattern is
compiled once and scans the whole text in one call, so a 5,000-line diff takes milliseconds.
"""

from __future__ import annotations

import bisect
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from specflow.gitx.diffs import FileDiff, parse_diff

PREVIEW_CHARS = 4
ENTROPY_MIN_LENGTH = 20
# How far below a random string's expected entropy (bits per character) a value may fall
# and still count as random: 0.5 passes about 99% of random keys of 20+ characters and
# stops most identifiers and paths, which fall 0.5-1.3 bits short.
ENTROPY_MARGIN_BITS = 0.5


@dataclass(frozen=True)
class SecretFinding:
    """Where a secret was, never what it was.

    `line` is the new file's line number (the old file's for a removed line in
    Redaction.hidden), or the 1-based line of plain text.
    """

    kind: str
    path: str | None
    line: int
    preview: str  # the first few characters and "…"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.path else f"line {self.line}"
        return f"{where}: {self.kind} ({self.preview})"


@dataclass(frozen=True)
class Redaction:
    """The text with every secret replaced, and what was replaced.

    `findings`: secrets on lines the change adds (every line of plain text).
    `hidden`: secrets on a diff's context and removed lines, replaced all the same.
    """

    text: str
    findings: list[SecretFinding]
    hidden: list[SecretFinding] = field(default_factory=list)


def placeholder(kind: str) -> str:
    """What a secret of *kind* is replaced with."""
    return f"[REDACTED:{kind}]"


def redact(text: str, path: str | None = None, *, diff: bool | None = None) -> Redaction:
    """Replace the secrets in *text*: one file's diff, or plain text.

    *diff* says how to read the text; None decides from its content (a `diff --git` or `@@`
    line). *path* names the file in findings and turns on the .env entropy check. For a
    diff of several files use redact_diff, which names each finding's file.
    """
    if diff is None:
        diff = _looks_like_diff(text)
    lines = text.split("\n")
    starts = _line_starts(lines)
    roles = _diff_roles(lines) if diff else [_Role("+", n) for n in range(1, len(lines) + 1)]
    scan = _Scan(text, path, starts, roles, body_offset=1 if diff else 0)
    for detector in _DETECTORS:
        scan.run(detector)
    scan.run_private_keys()
    scan.run_assignments()
    if path is not None and _is_env_file(path):
        scan.run_env_entropy(lines)
    return scan.result()


def redact_diff(files: Sequence[FileDiff]) -> tuple[list[FileDiff], list[SecretFinding]]:
    """Redact each file's diff; return the files (re-parsed when changed) and the findings.

    The findings are the secrets the change adds (Redaction.findings of each file); secrets
    on context and removed lines are replaced too but not reported.
    """
    out: list[FileDiff] = []
    findings: list[SecretFinding] = []
    for file in files:
        result = redact(file.text, file.path, diff=True)
        findings.extend(result.findings)
        if result.text == file.text:
            out.append(file)
        else:
            (parsed,) = parse_diff(result.text)
            # The header is never redacted, so path and status stay as parsed before.
            out.append(replace(parsed, path=file.path, old_path=file.old_path))
    return out, findings


# --------------------------------------------------------------------------------------------
# Detectors

_WORD = frozenset(string.ascii_letters + string.digits + "_")
_WORD_DASH = _WORD | {"-"}
_UPPER_DIGITS = frozenset(string.ascii_uppercase + string.digits)
_KEY_CHARS = _WORD_DASH | {"."}


@dataclass(frozen=True)
class _Detector:
    """A token format with a known prefix.

    Each regex starts with a literal so it scans at C speed; that no word character comes
    right before is checked in Python, since a leading look-behind would make the regex
    engine try every position of the text.
    """

    kind: str
    regex: re.Pattern[str]
    not_after: frozenset[str] = _WORD
    group: str | int = 0  # the group holding the secret
    keep: Callable[[str], bool] = lambda value: True  # False: a stand-in, not a secret


def _not_filler(value: str) -> bool:
    """A real token has variety; `ghp_xxxxxxxx...` or `AKIA0000...` is a stand-in."""
    body = value.split("_", 1)[-1] if "_" in value[:12] else value
    return len(set(body)) > 4


_DETECTORS: tuple[_Detector, ...] = (
    _Detector(
        "gcp-service-account-key",
        re.compile(r'"private_key"[ \t]*:[ \t]*"(?P<s>(?:[^"\\\n]|\\.){20,})"'),
        group="s",
    ),
    _Detector("anthropic-key", re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}"), keep=_not_filler),
    _Detector(
        "openai-key",
        re.compile(r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        keep=lambda value: _not_filler(value) and any(c.isdigit() for c in value),
    ),
    _Detector(
        "github-token",
        re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![\w])"),
        keep=_not_filler,
    ),
    _Detector("slack-token", re.compile(r"xox[abpr]-[A-Za-z0-9-]{10,}"), keep=_not_filler),
    _Detector("stripe-key", re.compile(r"[sr]k_live_[A-Za-z0-9]{16,}(?![\w])"), keep=_not_filler),
    _Detector(
        "google-api-key",
        re.compile(r"AIza[0-9A-Za-z_-]{35}(?![\w-])"),
        not_after=_WORD_DASH,
        keep=_not_filler,
    ),
    _Detector(
        "aws-access-key-id",
        re.compile(r"A(?:KIA|SIA)[A-Z0-9]{16}(?![A-Z0-9])"),
        not_after=_UPPER_DIGITS,
        keep=_not_filler,
    ),
    _Detector(
        "jwt",
        re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+"),
        not_after=_WORD_DASH,
    ),
)

_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_KEY_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_KEY_MATERIAL = re.compile(r"[A-Za-z0-9+/]{40,}")

# Assignments: found from the secret word, then read forwards from the start of the name.
_SECRET_STEMS = ("pass", "pwd", "secret", "key", "token", "credential")  # lowercase
# Matched against the name in snake case (`apiKey` and `API-KEY` both read `api_key`).
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:passwd|password|passphrase|pwd|secret|api_?key|access_key|auth_key|token"
    r"|credentials?|private_key)(?:_|$)"
)
_NAME_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_ASSIGNMENT = re.compile(
    r"""(?P<key>[A-Za-z0-9_.-]+)["']?[ \t]*(?::=|=>|[:=])(?!=)[ \t]*"""
    r"""(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s'"`,;(){}\[\]<>]+))"""
)
_AWS_SECRET_NAME = re.compile(r"(?:^|_)(?:aws_)?secret_(?:access_)?key$|(?:^|_)aws_secret$")
_AWS_SECRET_VALUE = re.compile(r"[A-Za-z0-9/+]{40}\Z")
# Last words of names that hold secret-related settings rather than secrets.
_HARMLESS_NAME_ENDINGS = frozenset(
    (
        "url",
        "uri",
        "endpoint",
        "path",
        "file",
        "dir",
        "name",
        "type",
        "header",
        "field",
        "env",
        "var",
        "length",
        "len",
        "count",
        "id",
        "prefix",
        "suffix",
        "format",
        "ttl",
        "expiry",
        "expires",
        "timeout",
        "policy",
        "mode",
        "hint",
        "label",
        "version",
        "method",
        "scope",
        "scopes",
        "kind",
        "provider",
        "ref",
        "limit",
        "size",
        "regex",
        "pattern",
        "enabled",
    )
)
_PLACEHOLDER_WORDS = (
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "dummy",
    "sample",
    "your_",
    "your-",
    "yourkey",
    "xxxx",
    "****",
    "....",
    "redacted",
    "notasecret",
    "not-a-secret",
    "fake",
    "todo",
    "fixme",
    "replace",
)
_PLACEHOLDER_VALUES = {
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
    "bearer",
    "basic",
    "required",
    "optional",
    "default",
    "test",
    "testing",
}
_REFERENCE = re.compile(
    r"""^(?:\$|%\(|\{\{|<|\[|https?://|/|\./|~/)"""  # ${VAR} $VAR %(x)s {{ x }} <x> URLs, paths
    r"|\$\{|\{\{|%\(|os\.environ|getenv|process\.env"
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_CONSTANT = re.compile(r"[A-Z_][A-Z0-9_]*\Z")


def _snake_name(key: str) -> str:
    return "_".join(word.lower() for word in _NAME_WORDS.findall(key))


def _assignment_kind(name: str) -> str:
    for word, kind in (
        ("pass", "password"),
        ("pwd", "password"),
        ("token", "token"),
        ("secret", "secret"),
        ("key", "api-key"),
    ):
        if word in name:
            return kind
    return "credential"


def _assigned_secret(match: re.Match[str]) -> tuple[str, str] | None:
    """(kind, group) of an assignment whose value looks like a literal secret, else None."""
    name = _snake_name(match["key"])
    if not _SECRET_NAME.search(name) or name.rsplit("_", 1)[-1] in _HARMLESS_NAME_ENDINGS:
        return None
    group = "dq" if match["dq"] is not None else "sq" if match["sq"] is not None else "bare"
    value = match[group]
    if _AWS_SECRET_NAME.search(name) and _AWS_SECRET_VALUE.match(value):
        return ("aws-secret-access-key", group) if _not_filler(value) else None
    # A bare word without digits is a name (`token = token_from_env`), not a secret.
    if group == "bare" and _IDENTIFIER.match(value) and not _DIGIT.search(value):
        return None
    return (_assignment_kind(name), group) if _is_literal_secret(value) else None


def _is_literal_secret(value: str) -> bool:
    """False for short or numeric values, placeholders, references and human text."""
    if len(value) < 6 or value.isdigit() or _WHITESPACE.search(value):
        return False
    if value.lower() in _PLACEHOLDER_VALUES or _PLACEHOLDER.search(value):
        return False
    if _REFERENCE.search(value) or _CONSTANT.match(value):
        return False
    return len(set(value)) > 2


_WHITESPACE = re.compile(r"\s")
_PLACEHOLDER = re.compile("|".join(re.escape(word) for word in _PLACEHOLDER_WORDS), re.IGNORECASE)
_DIGIT = re.compile(r"[0-9]")


_ENV_LINE = re.compile(r"[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.-]*[ \t]*[=:][ \t]*(.*)")
_ENV_TOKEN = re.compile(rf"[A-Za-z0-9+/=_-]{{{ENTROPY_MIN_LENGTH},}}")
_HEX = frozenset("0123456789abcdefABCDEF")


# --------------------------------------------------------------------------------------------
# Scanning


@dataclass(frozen=True)
class _Role:
    """What a line is: "+" added, "-" removed, " " context, "" not content (headers)."""

    kind: str
    number: int = 0


class _Scan:
    """The spans found so far in one text, without overlaps, earliest detector first."""

    def __init__(
        self, text: str, path: str | None, starts: list[int], roles: list[_Role], body_offset: int
    ) -> None:
        self.text = text
        self.path = path
        self.starts = starts
        self.roles = roles
        self.body_offset = body_offset  # 1 in a diff: never touch the +/-/space column
        self.spans: list[tuple[int, int, str]] = []  # (start, end, replacement), sorted
        self.findings: list[tuple[int, bool, SecretFinding]] = []  # (offset, added?, finding)

    def run(self, detector: _Detector) -> None:
        for match in detector.regex.finditer(self.text):
            start, end = match.span(detector.group)
            if match.start() > 0 and self.text[match.start() - 1] in detector.not_after:
                continue
            value = match[detector.group]
            if start < end and detector.keep(value):
                self._add(start, end, detector.kind, value)

    def run_assignments(self) -> None:
        """`name = value` where the name says secret and the value is a literal one."""
        lowered = self.text.lower()
        seen: set[int] = set()
        for stem in _SECRET_STEMS:
            at = lowered.find(stem)
            while at >= 0:
                name_start = at
                while name_start > 0 and self.text[name_start - 1] in _KEY_CHARS:
                    name_start -= 1
                if name_start not in seen:
                    seen.add(name_start)
                    self._assignment_at(name_start)
                at = lowered.find(stem, at + len(stem))

    def _assignment_at(self, name_start: int) -> None:
        match = _ASSIGNMENT.match(self.text, name_start)
        if match is None:
            return
        found = _assigned_secret(match)
        if found is not None:
            kind, group = found
            start, end = match.span(group)
            self._add(start, end, kind, match[group])

    def run_private_keys(self) -> None:
        """Private-key blocks, which span lines: every line of one is emptied but the first."""
        for begin in _PRIVATE_KEY_BEGIN.finditer(self.text):
            limit = self.text.find("\ndiff --git ", begin.end())
            limit = len(self.text) if limit < 0 else limit
            # Code that only names the marker (a parser, a test) has no key material after it.
            if not _KEY_MATERIAL.search(self.text, begin.end(), min(limit, begin.end() + 400)):
                continue
            end_match = _PRIVATE_KEY_END.search(self.text, begin.end(), limit)
            end = end_match.end() if end_match else limit
            self._add_block(begin.start(), end)

    def run_env_entropy(self, lines: list[str]) -> None:
        for index, line in enumerate(lines):
            if not self.roles[index].kind:
                continue
            body = line[self.body_offset :]
            assignment = _ENV_LINE.match(body)
            if assignment is None:
                continue
            base = self.starts[index] + self.body_offset + assignment.start(1)
            for token in _ENV_TOKEN.finditer(assignment[1]):
                if _looks_random(token[0]):
                    self._add(
                        base + token.start(), base + token.end(), "high-entropy-string", token[0]
                    )

    def _add(self, start: int, end: int, kind: str, value: str) -> bool:
        line = bisect.bisect_right(self.starts, start) - 1
        role = self.roles[line]
        if not role.kind or start < self.starts[line] + self.body_offset:
            return False
        if self._overlaps(start, end):
            return False
        bisect.insort(self.spans, (start, end, placeholder(kind)))
        finding = SecretFinding(kind, self.path, role.number, _preview(value))
        self.findings.append((start, role.kind == "+", finding))
        return True

    def _add_block(self, start: int, end: int) -> None:
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, max(start, end - 1)) - 1
        if not self._add(
            start, min(end, self._line_end(first)), "private-key", self.text[start:end]
        ):
            return
        for line in range(first + 1, last + 1):
            if not self.roles[line].kind:
                continue
            piece_start = self.starts[line] + self.body_offset
            piece_end = min(end, self._line_end(line))
            if piece_start < piece_end and not self._overlaps(piece_start, piece_end):
                bisect.insort(self.spans, (piece_start, piece_end, ""))

    def _line_end(self, line: int) -> int:
        if line + 1 < len(self.starts):
            return self.starts[line + 1] - 1
        return len(self.text)

    def _overlaps(self, start: int, end: int) -> bool:
        at = bisect.bisect_left(self.spans, (start,))
        if at < len(self.spans) and self.spans[at][0] < end:
            return True
        return at > 0 and self.spans[at - 1][1] > start

    def result(self) -> Redaction:
        pieces: list[str] = []
        cursor = 0
        for start, end, replacement in self.spans:
            pieces.append(self.text[cursor:start])
            pieces.append(replacement)
            cursor = end
        pieces.append(self.text[cursor:])
        ordered = sorted(self.findings, key=lambda item: item[0])
        added = [finding for _, is_added, finding in ordered if is_added]
        hidden = [finding for _, is_added, finding in ordered if not is_added]
        return Redaction("".join(pieces), added, hidden)


def _line_starts(lines: list[str]) -> list[int]:
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return starts


def _diff_roles(lines: list[str]) -> list[_Role]:
    """Each line's role and line number in a unified diff; headers get an empty role."""
    roles: list[_Role] = []
    header = _Role("")
    in_hunk = False
    old = new = 0
    for line in lines:
        first = line[:1]
        if in_hunk and first == "+":
            roles.append(_Role("+", new))
            new += 1
        elif in_hunk and first == "-":
            roles.append(_Role("-", old))
            old += 1
        elif in_hunk and first in (" ", ""):
            roles.append(_Role(" ", new))
            old += 1
            new += 1
        elif line.startswith("@@ "):
            in_hunk = True
            old, new = _hunk_starts(line)
            roles.append(header)
        else:  # a file header, or "\ No newline at end of file"
            in_hunk = in_hunk and not line.startswith("diff --git ")
            roles.append(header)
    return roles


_HUNK_STARTS = re.compile(r"@@ -(\d+)(?:,\d+)? \+(\d+)")


def _hunk_starts(line: str) -> tuple[int, int]:
    match = _HUNK_STARTS.match(line)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def _looks_like_diff(text: str) -> bool:
    return text.startswith(("diff --git ", "@@ ")) or "\ndiff --git " in text or "\n@@ -" in text


def _is_env_file(path: str) -> bool:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name in (".env", ".envrc") or name.startswith(".env.") or name.endswith(".env")


def _looks_random(token: str) -> bool:
    """Letters and digits, with about the entropy of a random string of its length and alphabet.

    A random string of n characters from an alphabet of k shows about
    k * (1 - (1 - 1/k) ** n) distinct characters, hence about log2 of that many bits each.
    """
    if not (any(c.isdigit() for c in token) and any(c.isalpha() for c in token)):
        return False
    alphabet = 16 if set(token) <= _HEX else 64
    distinct = alphabet * (1 - (1 - 1 / alphabet) ** len(token))
    return shannon_entropy(token) >= math.log2(distinct) - ENTROPY_MARGIN_BITS


def shannon_entropy(text: str) -> float:
    """Bits per character of *text*'s own character distribution."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


def _preview(secret: str) -> str:
    """The first characters of a secret: four at most, and no more than a quarter of it."""
    shown = min(PREVIEW_CHARS, len(secret) // 4)
    return secret[:shown] + "…"
