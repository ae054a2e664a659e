"""One stage at a time per task: an operating-system lock, with its holder written beside it.

The lock is an flock() held through `filelock`, so the kernel releases it when the holder
dies (even by `kill -9`); nothing has to notice a stale lock. The holder's command and process
id go in a small JSON file next to it, only to say who holds the lock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from specflow.errors import StateError
from specflow.store.fsutil import atomic_write_text


class TaskBusy(StateError):
    """Another specflow process is running a stage of this task."""


def holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".holder.json")


def read_holder(lock_path: Path) -> tuple[str, int | None]:
    """The command and pid recorded by the lock's holder ("another specflow command", None
    when the record is missing or unreadable)."""
    try:
        data = json.loads(holder_path(lock_path).read_text(encoding="utf-8"))
        return str(data["command"]), int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return "another specflow command", None


@contextmanager
def held(lock_path: Path, command: str, what: str) -> Iterator[None]:
    """Hold *lock_path* while the block runs; if another process holds it, fail at once
    (TaskBusy, exit 2) naming its command and pid. *what* names the locked thing."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, blocking=False)
    try:
        lock.acquire()
    except Timeout:
        running, pid = read_holder(lock_path)
        who = f"`{running}` (pid {pid})" if pid is not None else f"`{running}`"
        stop = f"; or stop it with `kill {pid}`" if pid is not None else ""
        raise TaskBusy(
            f"{what} is busy: {who} is running. Wait for it to finish and run the command "
            f"again{stop}."
        ) from None
    try:
        atomic_write_text(
            holder_path(lock_path), json.dumps({"command": command, "pid": os.getpid()}) + "\n"
        )
        yield
    finally:
        holder_path(lock_path).unlink(missing_ok=True)
        lock.release()
