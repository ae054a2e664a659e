"""Which files of a diff the review leaves out: binary files and exclude patterns.

Exclude patterns follow .gitignore rules (see filter_files); each is compiled once into a
regular expression. Every skipped file keeps its reason, so nothing vanishes silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from specflow.gitx.diffs import FileDiff, SkippedFile


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
