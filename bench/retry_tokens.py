"""What a contract re-ask costs in input tokens, and that it does not grow with each retry.

    python -m bench.retry_tokens [--runs N]

In a scratch repository with `[stages.scope] max_retries = 3`, runs `specflow scope` against
a loopback Anthropic server on 127.0.0.1 (usage computed as the API does, prompt caching
included) scripted to answer with two replies that break the scope contract (four questions;
then five, one of them not a question) and then a valid one. From the task's
transcript.jsonl it reads each request's input tokens (uncached + cache read + cache write).

Target: retry k costs no more than the first request plus one failed reply and its
violations, i.e. request k <= request 1 + the failed reply + the re-ask message it carries
(sized the way the server counts them, from the recorded request bodies), so the cost does
not grow with k. The table also shows what stacking every failed attempt would cost.

Token counts are deterministic: with N runs (default 1), each in a fresh repository, a note
says if they differ and the medians are shown.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass

from bench._harness import (
    bench_env,
    loopback,
    machine,
    message_text,
    read_transcript,
    runs_option,
    scratch,
    set_config,
    specflow,
    target,
)
from tests.support.fakes import Text, estimate_tokens

SLUG = "job-exporter"
SCHEMA = """\
CREATE TABLE jobs (
    id          NUMBER PRIMARY KEY,
    name        VARCHAR2(200) NOT NULL,
    state       VARCHAR2(20) NOT NULL,  -- QUEUED, RUNNING, DONE, FAILED, STUCK
    queued_at   TIMESTAMP NOT NULL,
    started_at  TIMESTAMP,
    finished_at TIMESTAMP,
    worker      VARCHAR2(100)
);
CREATE INDEX jobs_state_idx ON jobs (state, queued_at);
"""

QUESTIONS = [
    "Which Oracle version and driver (python-oracledb thin or thick mode) will the exporter use?",
    "How many rows does the jobs table hold, and how many change per minute at peak?",
    "Which job states must become metrics, and which labels may they carry?",
    "What scrape interval and timeout does Prometheus use for this target?",
    "Where do the database credentials come from in production, and how are they rotated?",
]
RISKS = """\
## Current Risks / Ambiguities

- Label cardinality: a `worker` or job-id label would multiply the series count.
- Query cost: a full scan of `jobs` at every scrape competes with the batch workload.
- STUCK is a state in the schema comment; whether anything sets it is unverified.

## Proposed Simplification

Expose one gauge of counts per state from a single aggregate query over the indexed
`(state, queued_at)` columns, cached for the scrape interval; add per-worker metrics later.
"""


def scope_reply(questions: list[str]) -> str:
    listed = "\n".join(f"{n}. {q}" for n, q in enumerate(questions, 1))
    return f"## Scoping Questions\n\n{listed}\n\n{RISKS}"


# Two realistic failures: one question short; then five items, one an instruction.
FOUR_QUESTIONS = scope_reply(QUESTIONS[:4])
NOT_A_QUESTION = scope_reply(
    [*QUESTIONS[:4], "Tell me where the database credentials come from in production."]
)
VALID = scope_reply(QUESTIONS)


@dataclass(frozen=True)
class Measure:
    """The tokens of each request, and the parts that bound each retry."""

    requests: list[int]  # input + cache read + cache write, per attempt
    cache_reads: list[int]
    failed: list[int]  # tokens of failed reply k as sent back in request k + 1
    reasks: list[int]  # tokens of the re-ask message (the violations) in request k + 1
    messages: list[int]  # how many messages each request carried

    def bound(self, k: int) -> int:
        """Request k's ceiling: the first request, one failed reply and its re-ask."""
        return self.requests[0] + self.failed[k - 2] + self.reasks[k - 2]

    def stacked(self, k: int) -> int:
        """What request k would cost if every failed attempt stayed in the conversation."""
        return self.requests[0] + sum(self.failed[: k - 1]) + sum(self.reasks[: k - 1])


def measure_once() -> Measure:
    with scratch() as s, loopback() as server:
        env = bench_env(s.home, server)
        specflow(s.repo, env, "init")
        set_config(s.repo, "stages.scope", "max_retries", "3")
        (s.repo / "schema.sql").write_text(SCHEMA, encoding="utf-8")
        specflow(
            s.repo,
            env,
            "new",
            "Prometheus exporter for the Oracle job table: counts per state, stuck jobs",
            "--name",
            SLUG,
            "--context",
            "schema.sql",
        )
        server.script(Text(FOUR_QUESTIONS), Text(NOT_A_QUESTION), Text(VALID))
        specflow(s.repo, env, "scope")
        records = read_transcript(s.repo / ".specflow" / "tasks" / SLUG / "transcript.jsonl")
        bodies = [r.body for r in server.requests]
    scope = [r for r in records if r["stage"] == "scope"]
    if [r["contract_ok"] for r in scope] != [False, False, True]:
        raise SystemExit(f"expected two failed attempts then a valid one, got {scope}")
    failed, reasks = [], []
    for body in bodies[1:]:
        assistant, reask = body["messages"][-2], body["messages"][-1]
        # Sized as the server counts them: the role marker it puts before each message too.
        failed.append(estimate_tokens(f"\n\nassistant: {message_text(assistant)}"))
        reasks.append(estimate_tokens(f"\n\nuser: {message_text(reask)}"))
    return Measure(
        requests=[
            r["input_tokens"] + r["cache_read_tokens"] + r["cache_write_tokens"] for r in scope
        ],
        cache_reads=[r["cache_read_tokens"] for r in scope],
        failed=failed,
        reasks=reasks,
        messages=[len(b["messages"]) for b in bodies],
    )


FIELDS = ("requests", "cache_reads", "failed", "reasks", "messages")


def _medians(series: list[list[int]]) -> list[int]:
    """Element-wise medians of equally long lists."""
    return [int(statistics.median(values)) for values in zip(*series, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    runs_option(parser, 1)
    args = parser.parse_args()
    runs = [measure_once() for _ in range(args.runs)]
    m = runs[0]
    if any(r != m for r in runs[1:]):
        print("note: the token counts differed between runs; showing medians")
        m = Measure(*(_medians([getattr(r, name) for r in runs]) for name in FIELDS))
    print(f"{len(runs)} run(s); {machine()}")
    print("specflow scope, max_retries = 3: 4 questions, then a non-question, then a valid reply")
    header = (
        f"{'request':<8} {'messages':>8} {'input tokens':>13} {'cache read':>11} "
        f"{'bound':>7} {'if stacked':>11} {'vs request 1':>13}"
    )
    print(header)
    ok = True
    for k, tokens in enumerate(m.requests, 1):
        bound = m.bound(k) if k > 1 else tokens
        stacked = m.stacked(k) if k > 1 else tokens
        ok = ok and tokens <= bound
        print(
            f"{k:<8} {m.messages[k - 1]:>8} {tokens:>13,} {m.cache_reads[k - 1]:>11,} "
            f"{bound:>7,} {stacked:>11,} {tokens - m.requests[0]:>+13,}"
        )
    for k in range(2, len(m.requests) + 1):
        print(
            f"retry {k - 1} (request {k}) carries failed reply {k - 1} ({m.failed[k - 2]:,} "
            f"tokens) and its re-ask ({m.reasks[k - 2]:,} tokens)"
        )
    growth = m.requests[2] - m.requests[1]
    one_more = m.failed[1] + m.reasks[1] - m.failed[0] - m.reasks[0]
    print(
        f"request 3 - request 2: {growth:+,} tokens (the second failure's size minus the "
        f"first's: {one_more:+,}); stacking would add {m.failed[0] + m.reasks[0]:,}"
    )
    print(
        "target: request k <= request 1 + one failed reply + its re-ask, for k = 2, 3: "
        f"{target(ok)}"
    )
    not_growing = growth <= one_more
    print(f"target: no growth with k beyond the failed reply's own size: {target(not_growing)}")


if __name__ == "__main__":
    main()
