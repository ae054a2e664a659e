"""A whole reply wrapped in one outer fence (```` ```markdown ```` … ```` ``` ````), as chat
interfaces produce, is read without the fence.

The two fence lines are blanked, not removed, so every line number of a violation is still
the reply's own. A reply that opens such a fence and cannot be unwrapped (never closed, or
text after the closing line) gets one hint instead of a violation per missing heading.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from specflow.contracts.base import Violation
from specflow.contracts.rules import violation

_OPENER = re.compile(r"[ ]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[A-Za-z]*)[ \t]*")
_MARKDOWN_INFO = frozenset({"markdown", "md", "gfm", "commonmark"})


class Unwrapped(NamedTuple):
    text: str
    note: str | None  # said when the reply was unwrapped
    hint: Violation | None  # the one violation when it could not be


def unwrap_outer_fence(text: str) -> Unwrapped:
    """*text* without an outer Markdown fence around the whole reply (see the module)."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return Unwrapped(text, None, None)
    opener = _OPENER.fullmatch(lines[first].rstrip("\r"))
    if opener is None or not _wraps_markdown(opener.group("info"), lines[first + 1 :]):
        return Unwrapped(text, None, None)
    fence = opener.group("fence")
    last = max(i for i, line in enumerate(lines) if line.strip())
    closer = lines[last].strip()
    line = first + 1
    if last == first or not _closes(closer, fence):
        if any(_closes(other.strip(), fence) for other in lines[first + 1 : last + 1]):
            return Unwrapped(text, None, None)  # a fence of its own, closed: not a wrapper
        message = (
            f"the reply is wrapped in a code fence opened on line {line} ({fence}"
            f"{opener.group('info')}) that does not close on its last line"
        )
        return Unwrapped(text, None, violation("reply.outer-fence", message, line))
    inner = lines[:]
    inner[first] = ""
    inner[last] = ""
    note = (
        f"the reply was wrapped in a code fence (lines {line} and {last + 1}); "
        "it was read without it"
    )
    return Unwrapped("\n".join(inner), note, None)


def _wraps_markdown(info: str, rest: list[str]) -> bool:
    """A `markdown` fence, or a bare one whose first line is a heading."""
    if info.lower() in _MARKDOWN_INFO:
        return True
    if info:
        return False
    following = next((line for line in rest if line.strip()), "")
    return following.lstrip().startswith("#")


def _closes(line: str, fence: str) -> bool:
    return line[:1] == fence[0] and set(line) == {fence[0]} and len(line) >= len(fence)
