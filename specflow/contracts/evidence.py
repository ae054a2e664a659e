"""What a review finding must point at: a line of the change, and code that is there.

A finding's `path:line` must fall inside a hunk of that file, counted on the new file's
lines, or at most SLACK lines beyond one (a finding about what a hunk's edge is missing
points just past it); a line inside a hunk's old-side range also counts, for a finding about
a removed line. Its Evidence, with whitespace runs collapsed, must occur in the file's new
content or in the lines the change removed. A finding may name a file the spec's plan lists
but the change lacks, with line 0, 1 or none and no evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from specflow.contracts.base import Violation
from specflow.contracts.rules import violation

SLACK = 3
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_SPACE = re.compile(r"\s+")


class ChangedFile(NamedTuple):
    """One file of the change: its hunks' new-side and old-side line ranges (first, last),
    its new content (the whole file, or the hunks' new-side lines) and its removed lines."""

    new_ranges: tuple[tuple[int, int], ...]
    old_ranges: tuple[tuple[int, int], ...]
    new_text: str
    removed_text: str = ""


class Located(NamedTuple):
    """What check_review needs of a finding to judge its location and evidence."""

    path: str
    line: int | None
    evidence: str
    item_line: int  # the reply line of the finding


def changed_files(
    diff_text: str, contents: Mapping[str, str] | None = None
) -> dict[str, ChangedFile]:
    """The files of a unified diff; *contents* gives a file's whole new content when known
    (else the hunks' new-side lines stand for it)."""
    from specflow.gitx.diffs import parse_diff

    files: dict[str, ChangedFile] = {}
    for file in parse_diff(diff_text):
        new_ranges, old_ranges, new_lines, removed = [], [], [], []
        for hunk in file.hunks:
            new_ranges.append((hunk.new_start, hunk.new_start + max(hunk.new_count, 1) - 1))
            old_ranges.append((hunk.old_start, hunk.old_start + max(hunk.old_count, 1) - 1))
            new_lines += [line[1:] for line in hunk.lines if line[:1] in (" ", "+")]
            removed += [line[1:] for line in hunk.lines if line[:1] == "-"]
        text = (contents or {}).get(file.path, "\n".join(new_lines))
        files[file.path] = ChangedFile(
            tuple(new_ranges), tuple(old_ranges), text, "\n".join(removed)
        )
    return files


def squeeze(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def evidence_violations(
    findings: Sequence[Located],
    changes: Mapping[str, ChangedFile],
    planned: Sequence[str] = (),
) -> list[Violation]:
    """A finding outside the change, or quoting code the change does not hold."""
    out: list[Violation] = []
    planned_set = {_clean(p) for p in planned}
    for finding in findings:
        path = _clean(finding.path)
        where = f"the finding on line {finding.item_line} (`{finding.path}"
        where += f":{finding.line}`)" if finding.line is not None else "`)"
        change = changes.get(path)
        if change is None:
            if path in planned_set and finding.line in (None, 0, 1):
                continue  # a planned file missing from the change
            continue  # not in the diff: the form check names it
        if finding.line is not None and not _near(finding.line, change):
            out.append(
                violation(
                    "review.location",
                    f"{where} points outside the change: the hunks of `{path}` cover lines "
                    f"{_ranges(change.new_ranges)}",
                    finding.item_line,
                )
            )
        quoted = squeeze(finding.evidence)
        if (
            quoted
            and quoted not in squeeze(change.new_text)
            and quoted not in squeeze(change.removed_text)
        ):
            out.append(
                violation(
                    "review.evidence",
                    f"{where} quotes `{_shorten(finding.evidence)}`, which is not in the change "
                    f"to `{path}`",
                    finding.item_line,
                )
            )
    return out


def _near(line: int, change: ChangedFile) -> bool:
    return any(a - SLACK <= line <= b + SLACK for a, b in change.new_ranges) or any(
        a <= line <= b for a, b in change.old_ranges
    )


def _ranges(ranges: Sequence[tuple[int, int]]) -> str:
    return ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in ranges) or "(none)"


def _shorten(text: str, width: int = 50) -> str:
    text = squeeze(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def _clean(path: str) -> str:
    path = path.replace("\\", "/")
    return path[2:] if path.startswith("./") else path


def number_hunk_lines(diff_text: str) -> str:
    """*diff_text* with the new file's line number beside each kept or added hunk line
    (removed lines get a blank column), so no reader counts from the `@@` headers. A hunk
    ends when its header's line counts are used up."""
    out: list[str] = []
    number = old_left = new_left = 0
    for line in diff_text.split("\n"):
        hunk = _HUNK.match(line)
        if hunk is not None:
            number = int(hunk.group(3))
            old_left = int(hunk.group(2) or 1)
            new_left = int(hunk.group(4) or 1)
            out.append(line)
        elif new_left and line[:1] in (" ", "+"):
            out.append(f"{number:>5} {line}")
            number += 1
            new_left -= 1
            old_left -= 1 if line[:1] == " " else 0
        elif old_left and line[:1] == "-":
            out.append(f"{'':>5} {line}")
            old_left -= 1
        else:
            out.append(line)  # headers, `\ No newline at end of file`
    return "\n".join(out)
