"""Atomic file writes: a reader sees the old file or the new one, never half of either.

A write that the operating system refuses (disk full, read-only file system, no permission)
becomes a StoreWriteError that names the path and the reason: exit 2, no traceback, and the
temporary file is removed, so nothing empty or half-written is left behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from specflow.errors import StateError


class StoreWriteError(StateError, OSError):
    """A file could not be written. Also an OSError, so callers that skip an optional write
    on OSError (the review memo) keep doing so."""

    def __init__(self, path: Path, reason: str, code: int | None = None) -> None:
        super().__init__(
            f"cannot write {path}: {reason}; free some disk space or make the folder writable, "
            "then run the command again (nothing was half-written)"
        )
        self.path = path
        self.reason = reason
        # As an OSError: what failed and why, for callers that decide by errno (the gate).
        self.errno = code
        self.strerror = reason
        self.filename = str(path)

    def __str__(self) -> str:
        return str(self.args[0])  # the message, not OSError's "[Errno N] ..." form


@contextmanager
def refused_write(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing *path* into a StoreWriteError."""
    try:
        yield
    except StoreWriteError:
        raise
    except OSError as exc:
        raise StoreWriteError(path, exc.strerror or str(exc), exc.errno) from None


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write *data* to *path* through a temporary file in the same folder and os.replace."""
    with refused_write(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if mode is not None:
                os.chmod(tmp, mode)
            elif path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            else:
                os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def atomic_write_text(path: Path, text: str, mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def atomic_append_text(path: Path, text: str) -> None:
    """Append *text* by rewriting the file atomically: a failed append leaves the old file
    (or none at all), never an empty or torn one."""
    with refused_write(path):
        old = path.read_bytes() if path.is_file() else b""
    atomic_write_bytes(path, old + text.encode("utf-8"))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def ensure_git_ignored(folder: Path, why: str) -> None:
    """Give *folder* a `.gitignore` that ignores everything in it (with *why* as its comment),
    unless it has one: what specflow keeps there never reaches git, and the user's own
    .gitignore is not touched. Called whenever specflow writes into such a folder, so a
    folder created by an older specflow gets its file too."""
    ignore = folder / ".gitignore"
    if not ignore.exists():
        atomic_write_text(ignore, f"# written by specflow: {why}\n*\n")
