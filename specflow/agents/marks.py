"""Marker lines and marked sections: how specflow knows a file (or a block) is its own and
that nobody edited it since.

A generated file carries one marker line with the SHA-256 of the file as written (computed
with the digest itself zeroed). A shared file such as AGENTS.md gets a block between a begin
and an end line; the begin line carries the digest of the block's body, and `new-file` when
specflow created the file (so `remove` deletes a file it emptied, and only such a file).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

from specflow.agents.catalog import Comment

ZERO = "0" * 64
MARKER_RE = re.compile(r"specflow:generated agent=([a-z]+) sha256=([0-9a-f]{64})")

FileState = Literal["missing", "ours", "edited", "foreign"]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def marker_line(agent: str, comment: Comment) -> str:
    """The marker line with a zero digest; stamp() fills it in."""
    text = (
        f"specflow:generated agent={agent} sha256={ZERO} · written by `specflow agents "
        f"install {agent}`; once you edit this file, specflow leaves it alone"
    )
    return f"# {text}" if comment == "hash" else f"<!-- {text} -->"


def stamp(text: str) -> str:
    """*text* (rendered with a zero-digest marker) with the digest of itself in the marker."""
    match = MARKER_RE.search(text)
    if match is None or match.group(2) != ZERO:
        raise ValueError("the rendered file has no marker line to stamp")
    return text[: match.start(2)] + digest(text) + text[match.end(2) :]


def file_state(text: str | None) -> FileState:
    """Whether a file is missing, specflow's and untouched, specflow's but edited, or not
    specflow's at all (no marker line)."""
    if text is None:
        return "missing"
    match = MARKER_RE.search(text)
    if match is None:
        return "foreign"
    zeroed = text[: match.start(2)] + ZERO + text[match.end(2) :]
    return "ours" if digest(zeroed) == match.group(2) else "edited"


# -- sections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    start: int
    end: int
    body: str
    created: bool  # specflow created the file that holds it
    intact: bool  # the body is what specflow wrote


def _block_re(agent: str) -> re.Pattern[str]:
    return re.compile(
        rf"^<!-- specflow:begin agent={agent} sha256=([0-9a-f]{{64}})( new-file)?[^\n]*-->\n"
        rf"(.*?)^<!-- specflow:end agent={agent} -->\n?",
        re.MULTILINE | re.DOTALL,
    )


def find_block(text: str, agent: str) -> Block | None:
    match = _block_re(agent).search(text)
    if match is None:
        return None
    body = match.group(3)
    return Block(
        match.start(), match.end(), body, bool(match.group(2)), digest(body) == match.group(1)
    )


def render_block(agent: str, body: str, created: bool) -> str:
    if not body.endswith("\n"):
        body += "\n"
    flag = " new-file" if created else ""
    return (
        f"<!-- specflow:begin agent={agent} sha256={digest(body)}{flag} · managed by "
        f"`specflow agents install {agent}` and `specflow agents remove {agent}`; "
        "write your own text outside this block -->\n"
        f"{body}<!-- specflow:end agent={agent} -->\n"
    )


def with_block(text: str | None, agent: str, body: str) -> str:
    """*text* with the agent's block added at the end, or replaced where it stands."""
    if text is None:
        return render_block(agent, body, created=True)
    found = find_block(text, agent)
    if found is not None:
        block = render_block(agent, body, found.created)
        return text[: found.start] + block + text[found.end :]
    if text and not text.endswith("\n"):
        text += "\n"
    return text + ("\n" if text else "") + render_block(agent, body, created=False)


def without_block(text: str, found: Block) -> str | None:
    """*text* without the block (and the blank line install put before it); None when
    nothing is left of a file specflow created."""
    before, after = text[: found.start], text[found.end :]
    if before.endswith("\n\n"):
        before = before[:-1]
    rest = before + after
    if found.created and not rest.strip():
        return None
    return rest
