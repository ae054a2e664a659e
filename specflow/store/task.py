"""A task's record (task.json) and its state machine: the states a task moves through, the
transitions between them, and the slug that names it. Pure data: where a task lives under
.specflow/ is store/workspace.py's to know."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specflow.errors import StateError
from specflow.store.clock import now

SLUG_MAX = 40
SLUG_PATTERN = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{SLUG_MAX - 1}}}")

State = Literal["described", "scoped", "answered", "specced", "implementing", "blocked", "done"]

# state -> the states it may be entered from, and the command that gets a task there.
TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "scoped": ({"described", "scoped", "answered", "blocked"}, "specflow new"),
    "blocked": ({"described", "scoped", "answered", "blocked"}, "specflow new"),
    "answered": ({"scoped", "answered"}, "specflow scope"),
    "specced": ({"scoped", "answered", "specced", "implementing"}, "specflow scope"),
    "implementing": ({"specced", "implementing"}, "specflow spec"),
    "done": ({"specced", "implementing"}, "specflow spec"),
}


class WrittenFile(BaseModel):
    """A file the implement stage wrote: what it wrote, so later edits by the user show."""

    model_config = ConfigDict(extra="forbid")
    path: str
    sha256: str
    written: str
    reviewed_sha256: str = ""  # the content a PASS review covered ("" until one did)


class UnknownItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    what: str
    verify: str
    blocks: str
    status: Literal["open", "resolved"] = "open"
    resolution: str = ""


class Task(BaseModel):
    """task.json: a task's state and what specflow needs to remember about it."""

    model_config = ConfigDict(extra="forbid")
    slug: str
    title: str
    state: State = "described"
    created: str = Field(default_factory=now)
    updated: str = Field(default_factory=now)
    context: list[str] = Field(default_factory=list)
    scope_round: int = 0
    scoped_inputs: str = ""  # hash of describe.md + answers.md at the last scope run
    quick_declined: bool = False  # `specflow scope --full` declined the quick path for good
    unknowns: list[UnknownItem] = Field(default_factory=list)
    files: list[WrittenFile] = Field(default_factory=list)
    # Set by `specflow resolve`, cleared when `specflow spec` writes a revision: implement
    # refuses a spec that does not carry the user's resolutions yet.
    spec_stale: bool = False

    def mark_reviewed(self, hashes: dict[str, str]) -> list[str]:
        """Record that a PASS review covered these files (path -> sha256 of the content it
        saw); a file whose content differs from what specflow wrote is not marked. Returns
        the paths marked."""
        marked = []
        for record in self.files:
            if hashes.get(record.path) == record.sha256:
                record.reviewed_sha256 = record.sha256
                marked.append(record.path)
        return marked

    def move_to(self, state: State) -> None:
        """Move to *state*, refusing a transition out of order with the command to run first."""
        allowed, first = TRANSITIONS[state]
        if self.state not in allowed:
            raise StateError(
                f"task `{self.slug}` is {self.state}; it cannot become {state} from there. "
                f"Run `{_command_for(self.state, state, first)}` first."
            )
        self.state = state
        self.updated = now()


def _command_for(current: str, target: str, default: str) -> str:
    if target in ("specced",) and current == "described":
        return "specflow scope"
    if target in ("implementing", "done") and current in (
        "described",
        "scoped",
        "answered",
        "blocked",
    ):
        return "specflow spec" if current in ("scoped", "answered") else "specflow scope"
    return default


_TRANSLIT = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "þ": "th",
        "Þ": "th",
        "ð": "d",
        "Ð": "d",
        "ı": "i",
    }
)


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by '-', at most SLUG_MAX characters, cut at a word."""
    # NFKD splits accents off (é -> e); these letters have no decomposition.
    text = text.translate(_TRANSLIT)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:SLUG_MAX]
    return slug or "task"
