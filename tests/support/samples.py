"""Replies that meet (or break) each stage's contract, for the end-to-end tests."""

from __future__ import annotations

SCOPE_REPLY = """\
## Scoping Questions

1. Which Oracle version and driver does the exporter connect with?
2. How many rows does the job table hold, and how fast does it grow?
3. Which job states must become metrics, and with which labels?
4. What scrape interval does Prometheus use for this target?
5. Where do the database credentials come from in production?

## Current Risks / Ambiguities

- Label cardinality: a job-id label would explode the series count.
- Query cost on a large table at every scrape.

## Proposed Simplification

Expose counts per state from one aggregate query, cached for the scrape interval.
"""

SCOPE_FOUR_QUESTIONS = SCOPE_REPLY.replace(
    "5. Where do the database credentials come from in production?\n", ""
)

BLOCKER_REPLY = """\
## Blocker

The exporter reads an Oracle table, and no credentials or sample rows are available.

## What I Need From You

- Read-only credentials for a test instance.
- Ten sample rows of the job table.

## Phase 0 Discovery Plan

Connect with the credentials, run `DESCRIBE jobs`, and capture the sample rows.
"""

SPEC_REPLY = """\
## Intent

Expose the Oracle job table's state counts as Prometheus metrics so on-call sees stuck jobs.

## Scope

- One gauge per job state, refreshed at most once per scrape interval.

## Architecture & File Plan

- `src/exporter/collector.py` (create) — runs the aggregate query and builds the gauges.
- `src/exporter/server.py` (create) — serves /metrics.

## Implementation Directives

1. Use `prometheus_client` with a custom collector.
2. Cache the query result for 15 seconds.

## Error Handling Matrix

| Failure | Detection | Logging | Recovery |
| --- | --- | --- | --- |
| Database down | connect raises | error with DSN host | serve last values, mark stale |

## Concurrency Decisions

One lock guards the cached result; no I/O under the lock.

## Configuration & Secrets

- `ORACLE_DSN` from the environment; required.

## Testing Strategy

Unit tests with a fake cursor; run `pytest -q`.

## Out of Scope

- No per-job metrics.
- No schema changes.

## Open Items

- UNKNOWN: the scrape interval in production — verify: read prometheus.yml — blocks: \
the cache lifetime in `src/exporter/collector.py`
"""

SPEC_REPLY_NO_UNKNOWNS = SPEC_REPLY.replace(
    "- UNKNOWN: the scrape interval in production — verify: read prometheus.yml — blocks: "
    "the cache lifetime in `src/exporter/collector.py`\n",
    "N/A — every question was answered.\n",
).replace("## Open Items\n\nN/A", "## Open Items\n\nN/A")

CHECKLIST = [
    "Logging",
    "Error propagation",
    "Retries",
    "Concurrency",
    "Resource cleanup",
    "Secrets",
    "Input validation",
    "Tests",
    "Scope",
]


def implement_reply(path: str, code: str, lang: str = "python", status: str = "PASS") -> str:
    review = "\n".join(f"- {name}: {status} — checked against the spec" for name in CHECKLIST)
    return f"## File: {path}\n\n```{lang}\n{code}```\n\n## Self-Review\n\n{review}\n"


def review_reply(findings: list[str] | None = None) -> str:
    if not findings:
        return "## Verdict\n\nPASS\n\n## Findings\n\nNone.\n"
    blocking = any(f.startswith(("- [BLOCKER]", "- [MAJOR]")) for f in findings)
    verdict = "FAIL" if blocking else "PASS"
    return f"## Verdict\n\n{verdict}\n\n## Findings\n\n" + "\n".join(findings) + "\n"
