"""Finding the repository without importing git or pydantic (a hot path for `check`)."""

from __future__ import annotations

import os

from specflow.errors import UsageError

SPECFLOW_DIR = ".specflow"


def find_root(start: str | os.PathLike[str]) -> str:
    """The top of the git work tree holding *start*, found without importing git (or
    pathlib: `specflow check` runs on this)."""
    here = os.path.realpath(start)
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            raise UsageError("specflow works inside a git repository; run `git init` first")
        here = parent
