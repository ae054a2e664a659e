"""The secret scanner's allowlist: `.specflow/secrets-allow.toml`, fingerprints with reasons.

A finding the scanner printed is allowed by its id (`rule:fingerprint`, a hash of rule id and
value, never the value), with the reason a person gave:

    # written by `specflow secrets allow`: findings the secret scanner skips
    [[allow]]
    id = "github-token:3f9a0c1d2b4e5f60"
    reason = "revoked test token in a fixture"
    added = "2026-12-01"

The same value found by the same rule anywhere in the repository is then skipped, by the gate
and by `specflow secrets scan`; a different value, even on the same line, is found again.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from specflow.errors import ConfigError, StateError, UsageError
from specflow.store.fsutil import atomic_write_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ALLOWLIST = Path(".specflow", "secrets-allow.toml")
FINDING_ID = re.compile(r"[a-z0-9-]+:[0-9a-f]{16}\Z")
_HEADER = "# written by `specflow secrets allow`: findings the secret scanner skips\n"


def allowlist_path(root: Path) -> Path:
    return root / ALLOWLIST


def read_allowlist(root: Path) -> list[AllowEntry]:
    """The entries of the allowlist (none when the file does not exist).

    Raises ConfigError naming the file and the entry when it cannot be read.
    """
    path = allowlist_path(root)
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the secret allowlist ({exc}); fix the file or delete it "
            "and allow the findings again with `specflow secrets allow`"
        ) from exc
    try:
        parsed = AllowFile.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{path}: {where}: {first['msg']}; each [[allow]] entry holds id (a finding id, "
            "rule:16 hex digits, from `specflow secrets scan`), reason and added"
        ) from exc
    return parsed.allow


class AllowEntry(BaseModel):
    """One allowed finding: its id, why it is not a secret, and when it was allowed."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9-]+:[0-9a-f]{16}$")  # FINDING_ID
    reason: str = Field(min_length=1)
    added: str  # a TOML date written by hand (`added = 2026-12-01`) is read as its text

    @field_validator("added", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        return value.isoformat() if isinstance(value, datetime.date) else value


class AllowFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allow: list[AllowEntry] = []


def load_allowlist(root: Path) -> frozenset[str]:
    """The finding ids to skip: what redact, redact_diff and the scan take as `allow`."""
    return frozenset(entry.id for entry in read_allowlist(root))


def allow_finding(root: Path, finding_id: str, reason: str, today: datetime.date) -> Path:
    """Add *finding_id* with *reason* to the allowlist (replacing the reason when it is there).

    Raises UsageError for an id that is not one the scanner prints, or an empty reason.
    """
    if not FINDING_ID.match(finding_id):
        raise UsageError(
            f"{finding_id!r} is not a finding id: copy the id (rule:16 hex digits, such as "
            "github-token:3f9a0c1d2b4e5f60) from the output of `specflow secrets scan`"
        )
    if not reason.strip():
        raise UsageError('give the reason this finding is not a secret: --reason "..."')
    entries = [entry for entry in read_allowlist(root) if entry.id != finding_id]
    entries.append(AllowEntry(id=finding_id, reason=reason.strip(), added=today.isoformat()))
    path = allowlist_path(root)
    try:
        atomic_write_text(path, _HEADER + "".join(_render(entry) for entry in entries))
    except OSError as exc:
        raise StateError(
            f"{path}: cannot write the secret allowlist ({exc.strerror or exc}); "
            "make .specflow/ writable and run the command again"
        ) from exc
    return path


def _render(entry: AllowEntry) -> str:
    # A JSON string is a valid TOML basic string: the same escapes, \uXXXX for the rest.
    fields = entry.model_dump()
    return "\n[[allow]]\n" + "".join(
        f"{key} = {json.dumps(fields[key])}\n" for key in ("id", "reason", "added")
    )
