"""Find secrets in a diff or any text and replace them before the text leaves the machine.

This is specflow's one redaction path: diffs for the review gate, and every text a stage
sends to a model or writes under `.specflow/` (context files, the file being implemented,
handoff prompts, transcripts, attempts) go through `redact` or `redact_text`. A secret becomes
a stable placeholder naming its rule and a short fingerprint, `«secret:github-token:3f9a»`,
never its value; a finding holds where it was, the variable's name and the value's first
characters, never the value either.

In a diff every line is redacted, since context and removed lines leave the machine too;
`findings` lists the secrets on the lines the change adds (what a commit would introduce),
and `hidden` those only redacted from context and removed lines (removing a leaked key
must not read as adding one). Line counts never change, so a redacted diff still parses
and its line numbers stay true. The diff is walked by diffs.LineRoles, the parser's own walk.

Detection (what counts as a secret: token rules from specflow/data/secrets.toml, assignments,
private-key blocks, .env entropy) lives in secret_rules.py; this module walks the text with
it, keeps the spans from overlapping and builds the redacted text and the findings. A rule's
regex runs only on the lines holding one of its keywords, found with str.find, so a
5,000-line diff takes milliseconds.

A known false positive is skipped by a pragma on its line (`specflow: allow-secret`,
`pragma: allowlist secret`, `gitleaks:allow`) or by its finding id in the allowlist
(allowlist.py), a fingerprint of rule id and value.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate

from specflow.gitx.diffs import FileDiff, LineRole, LineRoles, parse_diff
from specflow.gitx.secret_rules import (
    KEY_CHARS,
    SECRET_STEMS,
    Rule,
    assignment_at,
    env_secrets,
    is_code_path,
    is_env_file,
    name_before,
    private_key_blocks,
    rules,
)

PREVIEW_CHARS = 4
FINGERPRINT_CHARS = 16  # hex digits of a finding id's fingerprint; a placeholder shows 4
# A line holding one of these is skipped: specflow's own, detect-secrets' and gitleaks'.
PRAGMAS = ("specflow: allow-secret", "pragma: allowlist secret", "gitleaks:allow")
PLACEHOLDER = re.compile(r"«secret:([a-z0-9-]+):([0-9a-f]{4})»")


@dataclass(frozen=True)
class SecretFinding:
    """Where a secret was, never what it was.

    `line` is the new file's line number (the old file's for a removed line in
    Redaction.hidden), or the 1-based line of plain text. `name` is the variable or key the
    value was assigned to, when the line shows one. `fingerprint` identifies the value
    (a hash of rule id and value) for the allowlist.
    """

    kind: str  # the rule id
    path: str | None
    line: int
    preview: str  # the first few characters and "…"
    name: str | None = None
    fingerprint: str = ""

    @property
    def id(self) -> str:
        """The finding id `specflow secrets allow` takes: rule id and fingerprint."""
        return f"{self.kind}:{self.fingerprint}"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.path else f"line {self.line}"
        named = f" {self.name} =" if self.name else ""
        return f"{where}: {self.kind}{named} ({self.preview})"


@dataclass(frozen=True)
class Redaction:
    """The text with every secret replaced, and what was replaced.

    `findings`: secrets on lines the change adds (every line of plain text).
    `hidden`: secrets on a diff's context and removed lines, replaced all the same.
    """

    text: str
    findings: list[SecretFinding]
    hidden: list[SecretFinding] = field(default_factory=list)


def fingerprint(rule: str, value: str) -> str:
    """The hash of rule id and value that names a secret without holding it."""
    digest = hashlib.sha256(f"{rule}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:FINGERPRINT_CHARS]


def placeholder(rule: str, value: str) -> str:
    """What a secret found by *rule* is replaced with: stable for the same value."""
    return f"«secret:{rule}:{fingerprint(rule, value)[:4]}»"


def redact(
    text: str,
    path: str | None = None,
    *,
    diff: bool | None = None,
    allow: Iterable[str] = (),
) -> Redaction:
    """Replace the secrets in *text*: one file's diff, or plain text.

    *diff* says how to read the text; None reads it as a diff when it starts like one
    (`diff --git` or `@@`). *path* names the file in findings and turns on the .env entropy
    check. *allow* holds finding ids (`rule:fingerprint`) to leave alone. For a diff of
    several files use redact_diff, which names each finding's file.
    """
    if diff is None:
        diff = _looks_like_diff(text)
    return _redact(text, path, LineRoles.of_text(text) if diff else None, frozenset(allow))


def _redact(
    text: str, path: str | None, roles: LineRoles | None, allow: frozenset[str]
) -> Redaction:
    """Scan *text*: a diff whose lines have *roles*, or plain text (None)."""
    scan = _Scan(text, path, roles, allow)
    for rule in rules():
        scan.run(rule)
    scan.run_private_keys()
    scan.run_assignments()
    if path is not None and is_env_file(path):
        scan.run_env_entropy()
    return scan.result()


def redact_text(text: str, path: str | None = None, allow: Iterable[str] = ()) -> str:
    """*text* with every secret replaced: for anything a stage sends or writes under .specflow/
    (a context file, the file being implemented, a prompt, a transcript line, an attempt)."""
    return redact(text, path, diff=False, allow=allow).text


def redact_diff(
    files: Sequence[FileDiff], allow: Iterable[str] = ()
) -> tuple[list[FileDiff], list[SecretFinding]]:
    """Redact each file's diff; return the files (re-parsed when changed) and the findings.

    The findings are the secrets the change adds (Redaction.findings of each file); secrets
    on context and removed lines are replaced too but not reported.
    """
    allowed = frozenset(allow)
    out: list[FileDiff] = []
    findings: list[SecretFinding] = []
    for file in files:
        # specflow's own records are scanned too: they are written redacted, so they pass,
        # but answers.md or a spec may be edited by hand.
        result = _redact(file.text, file.path, LineRoles.of_file(file), allowed)
        findings.extend(result.findings)
        if result.text == file.text:
            out.append(file)
        else:
            (parsed,) = parse_diff(result.text)
            # The header is never redacted, so path and status stay as parsed before.
            out.append(replace(parsed, path=file.path, old_path=file.old_path))
    return out, findings


def placeholders_over_secrets(original: str, new: str, path: str | None = None) -> list[int]:
    """Lines of *new* (1-based) holding a placeholder that stands for a real value in *original*.

    A model sees only the redacted file; a reply that keeps `«secret:…»` where the file on
    disk has the real value would destroy that value if written back. The caller refuses to
    write and names these lines.
    """
    if "«secret:" not in new:
        return []
    stands_for = set(PLACEHOLDER.findall(redact(original, path, diff=False).text))
    return [
        number
        for number, line in enumerate(new.split("\n"), start=1)
        if any(found in stands_for for found in PLACEHOLDER.findall(line))
    ]


def is_specflow_record(path: str) -> bool:
    """True for what specflow writes already redacted (.specflow/tasks, archive and cache)
    and for its allowlist, which holds fingerprints only. *path* is relative to the
    repository. .specflow/config.toml and ejected templates are the user's and are scanned.
    """
    parts = path.replace("\\", "/").lower().split("/")
    while parts and parts[0] in (".", ""):
        parts.pop(0)
    if len(parts) < 2 or parts[0] != ".specflow":
        return False
    return parts[1] in ("tasks", "archive", "cache") or parts[1:] == ["secrets-allow.toml"]


# --------------------------------------------------------------------------------------------
# Scanning


class _Scan:
    """The spans found so far in one text, without overlaps, earliest detector first."""

    def __init__(
        self,
        text: str,
        path: str | None,
        roles: LineRoles | None,
        allow: frozenset[str],
    ) -> None:
        self.text = text
        self.lowered = _lower(text)
        self.path = path
        self.starts = _line_starts(text)
        self.roles = roles  # None: plain text, where every line is content
        self.body_offset = 0 if roles is None else 1  # never touch a diff's +/-/space column
        self._keyword_lines: dict[str, list[int]] = {}
        self.allow = allow
        self.in_code = is_code_path(path)
        self.skipped = self._pragma_lines()
        self.spans: list[tuple[int, int, str]] = []  # (start, end, replacement), sorted
        self.findings: list[tuple[int, bool, SecretFinding]] = []  # (offset, added?, finding)

    def _kind(self, line: int) -> str:
        return "+" if self.roles is None else self.roles.kind(line)

    def _role(self, line: int) -> LineRole:
        return ("+", line + 1) if self.roles is None else self.roles.role(line)

    def _pragma_lines(self) -> set[int]:
        """Lines holding a pragma: one search for their shared word, then the exact text."""
        return {
            line
            for line in self._lines_holding("allow")
            if any(pragma in self._lowered_line(line) for pragma in PRAGMAS)
        }

    def _lowered_line(self, line: int) -> str:
        return self.lowered[self.starts[line] : self._line_end(line)]

    def _lines_holding(self, keyword: str) -> list[int]:
        """Indexes of the lines whose lowercased text holds *keyword*, in order, each once.

        Rules share keywords (`sk` serves four), so each is searched once per text.
        """
        if keyword not in self._keyword_lines:
            self._keyword_lines[keyword] = self._search(keyword)
        return self._keyword_lines[keyword]

    def _content_lines_holding(self, keyword: str) -> list[int]:
        """The lines holding *keyword* that are content and carry no pragma."""
        key = "\0" + keyword
        if key not in self._keyword_lines:
            self._keyword_lines[key] = [
                line
                for line in self._lines_holding(keyword)
                if line not in self.skipped and self._kind(line)
            ]
        return self._keyword_lines[key]

    def _search(self, keyword: str) -> list[int]:
        found: list[int] = []
        at = self.lowered.find(keyword)
        while at >= 0:
            line = bisect.bisect_right(self.starts, at) - 1
            found.append(line)
            # Skip to the next line: one hit per line is enough.
            nxt = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
            at = self.lowered.find(keyword, max(nxt, at + 1))
        return found

    def run(self, rule: Rule) -> None:
        if not rule.keywords:
            for match in rule.regex.finditer(self.text):
                if match.start() == 0 or self.text[match.start() - 1] not in rule.not_after:
                    self._match(rule, match)
            return
        if len(rule.keywords) == 1:
            lines = self._content_lines_holding(rule.keywords[0])
        else:
            lines = sorted({n for kw in rule.keywords for n in self._content_lines_holding(kw)})
        for line in lines:
            begin, end = self.starts[line] + self.body_offset, self._line_end(line)
            for match in rule.regex.finditer(self.text, begin, end):
                self._match(rule, match)

    def _match(self, rule: Rule, match: re.Match[str]) -> None:
        start, stop = rule.span(match)
        if start >= stop or self._overlaps(start, stop):
            return
        if rule.keeps(match):
            self._add(start, stop, rule.id, rule.value(match), self._name(match))
        else:  # a stand-in: no later detector may call it a secret either
            bisect.insort(self.spans, (start, stop, self.text[start:stop]))

    def _name(self, match: re.Match[str]) -> str | None:
        line = bisect.bisect_right(self.starts, match.start()) - 1
        return name_before(self.text[self.starts[line] + self.body_offset : match.start()])

    def run_assignments(self) -> None:
        """`name = value` where the name says secret and the value is a literal one."""
        seen: set[int] = set()
        for stem in SECRET_STEMS:
            at = self.lowered.find(stem)
            while at >= 0:
                name_start = at
                while name_start > 0 and self.text[name_start - 1] in KEY_CHARS:
                    name_start -= 1
                # `«secret:...»` is a placeholder already, not an assignment to a secret.
                if name_start not in seen and self.text[name_start - 1 : name_start] != "«":
                    seen.add(name_start)
                    self._assignment_at(name_start)
                at = self.lowered.find(stem, at + len(stem))

    def _assignment_at(self, name_start: int) -> None:
        found = assignment_at(self.text, name_start, self.in_code)
        if found is not None:
            self._add(found.start, found.end, found.kind, found.value, found.name)

    def run_private_keys(self) -> None:
        """Private-key blocks, which span lines: every line of one is emptied but the first."""
        for start, end in private_key_blocks(self.text):
            self._add_block(start, end)

    def run_env_entropy(self) -> None:
        for index, line in enumerate(self.text.split("\n")):
            if not self._kind(index):
                continue
            base = self.starts[index] + self.body_offset
            for start, end, value in env_secrets(line[self.body_offset :]):
                self._add(base + start, base + end, "high-entropy-string", value)

    def _add(self, start: int, end: int, kind: str, value: str, name: str | None = None) -> bool:
        line = bisect.bisect_right(self.starts, start) - 1
        role, number = self._role(line)
        if not role or start < self.starts[line] + self.body_offset or line in self.skipped:
            return False
        if self._overlaps(start, end):
            return False
        print_id = fingerprint(kind, value)
        if f"{kind}:{print_id}" in self.allow:  # kept, and no later detector may take it
            bisect.insort(self.spans, (start, end, self.text[start:end]))
            return False
        bisect.insort(self.spans, (start, end, f"«secret:{kind}:{print_id[:4]}»"))
        finding = SecretFinding(kind, self.path, number, _preview(value), name, print_id)
        self.findings.append((start, role == "+", finding))
        return True

    def _add_block(self, start: int, end: int) -> None:
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, max(start, end - 1)) - 1
        block = self.text[start:end]
        if not self._add(start, min(end, self._line_end(first)), "private-key", block):
            return
        for line in range(first + 1, last + 1):
            if not self._kind(line):
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


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _lower(text: str) -> str:
    """*text* lowercased with every offset kept (str.lower lengthens a few characters)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _line_starts(text: str) -> list[int]:
    """The offset where each line of *text* (split on "\\n") starts."""
    return list(accumulate(map(_PLUS_ONE, map(len, text.split("\n"))), initial=0))[:-1]


_PLUS_ONE = (1).__add__


def _looks_like_diff(text: str) -> bool:
    """A diff starts with its first file or hunk. Text that only holds one further down (a
    note quoting a diff) is plain text, so every line of it is redacted."""
    return text.startswith(("diff --git ", "@@ "))


def _preview(secret: str) -> str:
    """The first characters of a secret: four at most, and no more than a quarter of it."""
    shown = min(PREVIEW_CHARS, len(secret) // 4)
    return secret[:shown] + "…"
