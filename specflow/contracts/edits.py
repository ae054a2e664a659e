"""Edit replies: `## Edit: PATH` with SEARCH/REPLACE blocks, applied to the file on disk.

An implement reply for an existing file may, instead of the whole file, give the changes:

    ## Edit: src/pkg/module.py
    ```python
    <<<<<<< SEARCH
    exact lines from the current file
    =======
    the lines that replace them
    >>>>>>> REPLACE
    ```
    ## Self-Review
    ...

One fence may hold several blocks, or each block may have its own fence; every block sits
inside a fence. The markers are whole lines, exactly `<<<<<<< SEARCH`, `=======` and
`>>>>>>> REPLACE` (seven characters each; trailing spaces allowed).

Blocks apply in order, each to the file as the blocks before it left it. Each SEARCH must
match exactly once. The whitespace tolerance is minimal and fixed:

1. line endings do not count: the reply's lines match LF, CRLF or mixed lines in the file;
2. trailing spaces and tabs do not count, and are tried only when the exact lines match
   nowhere.

Nothing else is forgiven: indentation, blank lines and every other character must be as in
the file. A SEARCH that matches nowhere is a violation naming the block and the nearest lines
that do exist; one that matches several places names the count and the lines. An empty SEARCH
is a violation unless the file is empty (then the REPLACE is the file).

The result keeps the file's line endings: replaced lines take the ending most of the file
uses (CRLF stays CRLF), untouched lines keep theirs, and a file without a final newline keeps
having none.

The edit form is offered for existing files over `EDIT_MIN_LINES` lines (`offers_edits`): below
that a whole file costs little output and cannot miss a match. The contract accepts an edit
reply for any existing file; a whole-file reply stays valid for every file.
"""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple

from specflow.contracts.base import Violation
from specflow.contracts.markdown import Document, Fence, code_span, norm, parse

EDIT_MIN_LINES = 60
SELF_REVIEW = "Self-Review"
SEARCH_MARK = "<<<<<<< SEARCH"
DIVIDER = "======="
REPLACE_MARK = ">>>>>>> REPLACE"
NEAREST_SHOWN = 6  # file lines quoted when a SEARCH matches nowhere
EDIT_LAYOUT = (
    f"an edit reply is `## Edit: <path>`, fenced {code_span(SEARCH_MARK)} / "
    f"{code_span(DIVIDER)} / {code_span(REPLACE_MARK)} blocks, then `## Self-Review`"
)

_EDIT_HEADING = re.compile(r"edit\s*:\s*(?P<path>.*)", re.I | re.S)
_EOL = re.compile(r"(\r\n|\n)")


class EditBlock(NamedTuple):
    """One SEARCH/REPLACE block: the lines to find and the lines that replace them."""

    number: int  # 1-based, in reply order
    search: list[str]
    replace: list[str]
    line: int  # the reply line of its `<<<<<<< SEARCH`


class EditReply(NamedTuple):
    """An edit reply's target path and its blocks, in order."""

    path: str
    blocks: list[EditBlock]
    line: int  # the reply line of `## Edit:`


class Applied(NamedTuple):
    """The file after the blocks, or None with the violations that stopped it."""

    text: str | None
    violations: list[Violation]


def offers_edits(current_text: str | None) -> bool:
    """Whether the implement prompt offers the edit form: the file exists and is long."""
    return current_text is not None and len(_lines(current_text)) > EDIT_MIN_LINES


def is_edit_reply(text: str) -> bool:
    """Whether *text* is in the edit form (has a `## Edit:` heading), for the contract to
    choose between the whole-file and the edit checks."""
    return any(_EDIT_HEADING.fullmatch(s.title) for s in parse(text).sections if s.level == 2)


def parse_edit_reply(text: str) -> EditReply | list[Violation]:
    """The path and blocks of an edit reply, or the violations of its form.

    Only the layout and the `## Edit:` section are checked here; the `## Self-Review` section
    is the implement contract's to check, as for a whole-file reply.
    """
    doc = parse(text)
    violations: list[Violation] = []
    edits = [s for s in doc.sections if s.level == 2 and _EDIT_HEADING.fullmatch(s.title)]
    if not edits:
        return [Violation(f"no `## Edit: <path>` heading; {EDIT_LAYOUT}")]
    if len(edits) > 1:
        violations.append(
            Violation(f"{len(edits)} `## Edit:` sections; one reply edits one file", edits[1].line)
        )
    violations.extend(_layout(doc))
    section = edits[0]
    match = _EDIT_HEADING.fullmatch(section.title)
    path = match["path"].strip().strip("`").strip() if match else ""
    if not path:
        violations.append(
            Violation("`## Edit:` names no file; write `## Edit: <path>`", section.line)
        )
    stray = [b.line for b in section.blocks if b.kind not in ("fence", "comment", "hr")]
    blocks: list[EditBlock] = []
    for fence in section.fences:
        blocks.extend(_fence_blocks(fence, len(blocks), violations))
    if stray:
        lines = ("lines " if len(stray) > 1 else "line ") + ", ".join(str(n) for n in stray)
        violations.append(
            Violation(
                f"text outside a ``` fence in {section.ref} ({lines}); every "
                f"SEARCH/REPLACE block sits inside a fence; {EDIT_LAYOUT}",
                stray[0],
            )
        )
    if not blocks and not violations:
        violations.append(
            Violation(f"{section.ref} holds no SEARCH/REPLACE block; {EDIT_LAYOUT}", section.line)
        )
    return violations if violations else EditReply(path, blocks, section.line)


def _layout(doc: Document) -> list[Violation]:
    """Nothing before the edit, and no sections besides it and the self-review."""
    out: list[Violation] = []
    if doc.preamble is not None and not doc.preamble.is_empty:
        out.append(Violation(f"text before `## Edit:`; {EDIT_LAYOUT}", doc.preamble.line or 1))
    for section in doc.sections:
        if _EDIT_HEADING.fullmatch(section.title) or section.key == norm(SELF_REVIEW):
            continue
        out.append(
            Violation(
                f"{section.ref} does not belong in an edit reply; {EDIT_LAYOUT}", section.line
            )
        )
    return out


def _fence_blocks(fence: Fence, before: int, out: list[Violation]) -> list[EditBlock]:
    """The blocks in one fence; stray text and unclosed blocks become violations."""
    blocks: list[EditBlock] = []
    state = "outside"
    search: list[str] = []
    replace: list[str] = []
    start = 0
    for offset, raw in enumerate(fence.content.split("\n")):
        line_no = fence.line + 1 + offset
        line = raw.rstrip()
        number = before + len(blocks) + 1
        if state == "outside":
            if line == SEARCH_MARK:
                state, search, replace, start = "search", [], [], line_no
            elif line:
                out.append(
                    Violation(
                        f"`{_short(raw)}` is outside a SEARCH/REPLACE block; a block starts "
                        f"with {code_span(SEARCH_MARK)}",
                        line_no,
                    )
                )
        elif state == "search":
            if line == DIVIDER:
                state = "replace"
            elif line in (SEARCH_MARK, REPLACE_MARK):
                out.append(
                    _unfinished(number, f"{code_span(line)} before {code_span(DIVIDER)}", line_no)
                )
                state = "outside"
            else:
                search.append(raw)
        elif line == REPLACE_MARK:
            blocks.append(EditBlock(number, search, replace, start))
            state = "outside"
        elif line in (SEARCH_MARK, DIVIDER):
            out.append(_unfinished(number, f"a second {code_span(line)}", line_no))
            state = "outside"
        else:
            replace.append(raw)
    if state != "outside":
        number = before + len(blocks) + 1
        out.append(_unfinished(number, f"the fence ends before {code_span(REPLACE_MARK)}", start))
    return blocks


def _unfinished(number: int, what: str, line: int) -> Violation:
    return Violation(
        f"edit block {number}: {what}; a block is {code_span(SEARCH_MARK)}, the lines to find, "
        f"{code_span(DIVIDER)}, the new lines, {code_span(REPLACE_MARK)}",
        line,
    )


# -- applying ----------------------------------------------------------------------------------


class _Line(NamedTuple):
    text: str
    eol: str  # "\n", "\r\n", or "" for a last line without a newline


def _lines(text: str) -> list[_Line]:
    parts = _EOL.split(text)
    lines = [_Line(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
    if parts[-1]:
        lines.append(_Line(parts[-1], ""))
    return lines


def _usual_eol(lines: list[_Line]) -> str:
    crlf = sum(1 for line in lines if line.eol == "\r\n")
    lf = sum(1 for line in lines if line.eol == "\n")
    return "\r\n" if crlf > lf else "\n"


def apply_edits(current: str, blocks: list[EditBlock], path: str = "the file") -> Applied:
    """Apply *blocks* in order to *current*; the new text, or the violations of every block
    that did not match once (the other blocks still apply, so all problems are named)."""
    lines = _lines(current)
    eol = _usual_eol(lines)
    violations: list[Violation] = []
    for block in blocks:
        result = _apply_one(lines, block, eol, path, applied=block.number - 1 - len(violations))
        if isinstance(result, Violation):
            violations.append(result)
        else:
            lines = result
    if violations:
        return Applied(None, violations)
    return Applied("".join(line.text + line.eol for line in lines), [])


def _apply_one(
    lines: list[_Line], block: EditBlock, eol: str, path: str, applied: int
) -> list[_Line] | Violation:
    name = f"edit block {block.number}"
    where = f" (after {applied} earlier block{'s' if applied != 1 else ''})" if applied else ""
    if not any(s.strip() for s in block.search):
        if any(line.text.strip() for line in lines):
            return Violation(
                f"{name}: SEARCH is empty, but `{path}` is not; copy the lines next to the "
                "change into SEARCH and repeat them in REPLACE with the change",
                block.line,
            )
        return [_Line(text, eol) for text in block.replace]
    starts = _matches(lines, block.search, exact=True) or _matches(lines, block.search, exact=False)
    if len(starts) > 1:
        shown = ", ".join(str(s + 1) for s in starts[:5]) + (", ..." if len(starts) > 5 else "")
        return Violation(
            f"{name}: SEARCH matches {len(starts)} places in `{path}`{where} (lines {shown}); "
            "add neighbouring lines until it matches exactly one",
            block.line,
        )
    if not starts:
        return Violation(
            f"{name}: SEARCH matches nothing in `{path}`{where}. {_nearest(lines, block.search)} "
            "Copy SEARCH exactly from the current file (indentation and blank lines count), "
            "or send the whole file",
            block.line,
        )
    return _splice(lines, starts[0], len(block.search), block.replace, eol)


def _matches(lines: list[_Line], search: list[str], *, exact: bool) -> list[int]:
    def same(a: str, b: str) -> bool:
        return a == b if exact else a.rstrip() == b.rstrip()

    n = len(search)
    return [
        i
        for i in range(len(lines) - n + 1)
        if all(same(lines[i + k].text, search[k]) for k in range(n))
    ]


def _splice(
    lines: list[_Line], start: int, count: int, replace: list[str], eol: str
) -> list[_Line]:
    end = start + count
    new = [_Line(text, eol) for text in replace]
    at_end = end == len(lines) and lines[-1].eol == ""
    if at_end and new:
        new[-1] = _Line(new[-1].text, "")  # the file had no final newline: keep it so
    head = lines[:start]
    if at_end and not new and head:
        head[-1] = _Line(head[-1].text, "")
    return head + new + lines[end:]


def _nearest(lines: list[_Line], search: list[str]) -> str:
    """The file lines closest to *search*, numbered, and the first SEARCH line that differs."""
    texts = [line.text for line in lines]
    if not texts:
        return "The file is empty."
    matcher = difflib.SequenceMatcher(None, texts, search, autojunk=False)
    longest = matcher.find_longest_match(0, len(texts), 0, len(search))
    if longest.size:
        start = max(0, longest.a - longest.b)
    else:
        first = next(s for s in search if s.strip())
        close = difflib.get_close_matches(first, texts, n=1, cutoff=0.5)
        if not close:
            return "No line of SEARCH is close to a line of the file."
        start = texts.index(close[0])
    window = texts[start : start + min(len(search), NEAREST_SHOWN)]
    quoted = "\n".join(f"    {start + k + 1}: {text}" for k, text in enumerate(window))
    differs = next(
        (
            k
            for k, text in enumerate(window)
            if k < len(search) and text.rstrip() != search[k].rstrip()
        ),
        None,
    )
    detail = ""
    if differs is not None:
        detail = (
            f" SEARCH line {differs + 1} `{_short(search[differs])}` differs from file line "
            f"{start + differs + 1} `{_short(window[differs])}`."
        )
    last = start + len(window)
    return f"The nearest lines are {start + 1}–{last}:\n{quoted}\n{detail.strip()}".rstrip()


def _short(text: str, width: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def check_edit(text: str, path: str | None, current: str | None) -> Applied:
    """The implement contract's edit check: parse the reply, check its path against *path*,
    and apply it to *current* (None when the file does not exist)."""
    parsed = parse_edit_reply(text)
    if isinstance(parsed, list):
        return Applied(None, parsed)
    if path is not None and _norm_path(parsed.path) != _norm_path(path):
        return Applied(
            None,
            [
                Violation(
                    f"`## Edit: {parsed.path}` names another file; this request is for `{path}`",
                    parsed.line,
                )
            ],
        )
    shown = path or parsed.path
    if current is None:
        return Applied(
            None,
            [
                Violation(
                    f"`{shown}` does not exist yet, so there is nothing to edit; send the whole "
                    "file in one fenced code block instead of `## Edit:`",
                    parsed.line,
                )
            ],
        )
    return apply_edits(current, parsed.blocks, shown)


def _norm_path(path: str) -> str:
    return path.strip().strip("`").replace("\\", "/").removeprefix("./")


__all__ = [
    "EDIT_MIN_LINES",
    "Applied",
    "EditBlock",
    "EditReply",
    "apply_edits",
    "check_edit",
    "is_edit_reply",
    "offers_edits",
    "parse_edit_reply",
]
