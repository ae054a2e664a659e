"""Finding the repository without importing git or pydantic (a hot path for `check`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from specflow.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

SPECFLOW_DIR = ".specflow"


def find_root(start: Path) -> Path:
    """The top of the git work tree holding *start*, found without importing git."""
    from pathlib import Path

    return Path(find_root_folder(os.fspath(start)))


def find_root_folder(start: str) -> str:
    """find_root() on plain strings, for `specflow check`, which never imports pathlib."""
    here = os.path.realpath(start)
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            raise UsageError("specflow works inside a git repository; run `git init` first")
        here = parent
