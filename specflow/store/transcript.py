"""transcript.jsonl: one record per model exchange, and the per-stage summary of `specflow log`.

No key, token or header is ever part of a record: the texts a record holds (the note, the
contract's violations, which may quote the reply, the re-anchoring reason) pass the one
redaction path (gitx.secrets) before the line is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specflow.gitx.secrets import redact_text
from specflow.store.clock import now
from specflow.store.fsutil import atomic_append_text


class Exchange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ts: str = Field(default_factory=now)
    stage: str
    provider: str
    model: str
    attempt: int = 1
    kind: str = "request"  # request | reply-file (a --reply ingested)
    sent: dict[str, Any] = Field(default_factory=dict)
    withheld: dict[str, str] = Field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    stop_reason: str | None = None
    request_id: str | None = None
    retries: int = 0
    contract_ok: bool | None = None
    violations: list[str] = Field(default_factory=list)
    reanchor: str = "none"  # none | remind | reset
    reanchor_reason: str = ""
    reminder_tokens: int = 0
    estimated: bool = False  # the token counts are estimates (a --reply file: no provider)
    note: str = ""


def append(path: Path, record: Exchange) -> None:
    """Append one line, through a temporary file and a rename: a full disk or a read-only
    folder leaves the old transcript (or none), never an empty or torn one."""
    redacted = record.model_copy(
        update={
            "note": redact_text(record.note),
            "violations": [redact_text(v) for v in record.violations],
            "reanchor_reason": redact_text(record.reanchor_reason),
        }
    )
    atomic_append_text(path, redacted.model_dump_json() + "\n")


def read(path: Path) -> list[Exchange]:
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                records.append(Exchange.model_validate_json(line))
            except ValueError:
                continue  # a line from a newer or older specflow: skip, do not fail the log
    return records


# Records that are no model exchange: what `specflow log` counts them as.
NOT_CALLS = {"skipped": "skipped", "override": "overrides"}
_COUNTERS = (
    "calls",
    "skipped",
    "overrides",
    "retries",
    "transport_retries",
    "contract_failures",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reanchors",
    "resets",
)


def summarize(records: list[Exchange]) -> dict[str, dict[str, Any]]:
    """Per stage: calls, retries, tokens, cache-read share, cost, re-anchors and resets, and
    the reviews skipped and the refusals overridden (which are no model call)."""
    stages: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.kind == "test":
            continue  # a test command run, not a model exchange
        s = stages.setdefault(
            r.stage, {**dict.fromkeys(_COUNTERS, 0), "cost_usd": 0.0, "estimated": False}
        )
        if r.kind in NOT_CALLS:
            s[NOT_CALLS[r.kind]] += 1
            continue
        _add_call(s, r)
    for s in stages.values():
        read_total = s["input_tokens"] + s["cache_read_tokens"] + s["cache_write_tokens"]
        s["cache_read_share"] = round(s["cache_read_tokens"] / read_total, 4) if read_total else 0.0
    return stages


def _add_call(s: dict[str, Any], r: Exchange) -> None:
    s["estimated"] = s["estimated"] or r.estimated
    s["calls"] += 1
    s["retries"] += 1 if r.attempt > 1 else 0
    s["transport_retries"] += r.retries
    s["contract_failures"] += 1 if r.contract_ok is False else 0
    s["input_tokens"] += r.input_tokens
    s["output_tokens"] += r.output_tokens
    s["cache_read_tokens"] += r.cache_read_tokens
    s["cache_write_tokens"] += r.cache_write_tokens
    s["cost_usd"] = round(s["cost_usd"] + r.cost_usd, 6)
    s["reanchors"] += 1 if r.reanchor == "remind" else 0
    s["resets"] += 1 if r.reanchor == "reset" else 0


def dumps(summary: dict[str, dict[str, Any]]) -> str:
    return json.dumps({"stages": summary}, indent=2)
