"""Finding the repository without importing git or pydantic (a hot path for `check`)."""

from __future__ import annotations

from pathlib import Path

from specflow.errors import UsageError

SPECFLOW_DIR = ".specflow"


def find_root(start: Path) -> Path:
    """The top of the git work tree holding *start*, found without importing git."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    raise UsageError("specflow works inside a git repository; run `git init` first")
