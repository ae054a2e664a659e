"""specflow's clock: the one way a time is written, in records and in file names."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> str:
    """The time for records (task.json, transcripts): ISO 8601, UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def stamp() -> str:
    """The time for file names (backups, attempts, spec rounds): 20260101T120000Z."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def today() -> str:
    """The date for folder names (archived tasks): 2026-01-01, UTC."""
    return datetime.now(timezone.utc).date().isoformat()
