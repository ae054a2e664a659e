"""Input tokens of a 10-file implement session, with prompt caching on and off.

    python -m bench.implement_session [--runs N]

In a scratch repository, a task is specced (through --reply files) with a spec whose file plan
lists `src/pkg/mod0.py` ... `src/pkg/mod9.py` and no open UNKNOWNs. Then
`specflow implement --file src/pkg/modN.py` runs for N = 0..9 against a loopback Anthropic
server on 127.0.0.1 in usage_mode "auto" (usage computed as the API does for a repeated
prefix); it answers each request with the file named in its last user message, about 60
lines of code. The session runs twice: `[anthropic] prompt_caching = true`, then `false`;
[anchoring] keeps its defaults.

From each transcript.jsonl: billed input tokens = uncached + 1.25 x cache writes + 0.1 x cache
reads, summed over the session; reminder tokens as a share of all input tokens (uncached +
cache read + cache write); the reminds and resets.

Targets: billed input with caching <= 35 % of without; reminders <= 5 % of input tokens.
Token counts are deterministic: with N runs (default 1) of both sessions, a note says if they
differ (the first run is shown).
"""

from __future__ import annotations

import argparse
import itertools
import re
from dataclasses import dataclass
from typing import Any

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
from tests.support.fakes import RecordedRequest, estimate_tokens
from tests.support.samples import SCOPE_REPLY, implement_reply

SLUG = "job-pipeline"
FILES = [f"src/pkg/mod{n}.py" for n in range(10)]
CACHED_SHARE_TARGET = 0.35
REMINDER_SHARE_TARGET = 0.05
ROLES = [
    ("config", "Settings", "load settings from the environment"),
    ("models", "Job", "the job record and its states"),
    ("db", "JobRepository", "read job rows from the database"),
    ("cache", "ResultCache", "keep the last query result for the scrape interval"),
    ("metrics", "StateGauge", "turn state counts into gauges"),
    ("collector", "JobCollector", "run the query and build the metrics"),
    ("server", "MetricsServer", "serve /metrics over HTTP"),
    ("health", "HealthCheck", "report liveness and database reachability"),
    ("logging_setup", "LogConfig", "configure structured logging"),
    ("main", "Application", "wire the parts together and handle shutdown"),
]
PLAN = "\n".join(
    f"- `{path}` (create) — {role[0]}: {role[2]}." for path, role in zip(FILES, ROLES, strict=True)
)
SPEC = f"""\
## Intent

Expose the job table's state counts as Prometheus metrics so on-call sees stuck jobs within
one scrape interval, without adding load to the database beyond one query per interval.

## Scope

- One gauge per job state, labelled by state only.
- A /metrics endpoint and a /healthz endpoint on one port.
- Settings from the environment.

## Architecture & File Plan

The collector reads the database through the repository, caches the result for the scrape
interval, and the server renders it; `main` wires them and owns shutdown.

{PLAN}

## Implementation Directives

1. Use `prometheus_client` with a custom collector registered on a private `CollectorRegistry`.
2. Read rows with one aggregate query: `SELECT state, COUNT(*) FROM jobs GROUP BY state`.
3. Cache the query result for `SCRAPE_INTERVAL_S` seconds (default 15) in `ResultCache`.
4. Serve HTTP with `http.server.ThreadingHTTPServer`; no web framework.
5. Log with the standard `logging` module, one logger per module, JSON lines on stderr.
6. On SIGTERM, stop accepting requests, finish the current scrape, close the pool, exit 0.
7. Every public function in `src/pkg/` has type hints that pass `mypy --strict` and a one-line
   docstring.

## Error Handling Matrix

| Failure | Detection | Logging | Recovery |
| --- | --- | --- | --- |
| Database down | connect raises `DatabaseError` | error with the DSN host | serve last values |
| Query timeout | over `QUERY_TIMEOUT_S` | warning with the elapsed time | serve last values |
| Unknown state value | a state outside the enum | warning once per value | count it under `other` |
| Port in use | bind raises `OSError` | error with the port | exit 1 |

## Concurrency Decisions

One `threading.Lock` guards the cached result; the query runs outside the lock and the
result is swapped in under it. The HTTP server owns its threads; shutdown joins them.

## Configuration & Secrets

- `JOBS_DSN` from the environment; required; never logged in full.
- `SCRAPE_INTERVAL_S`, default 15; `QUERY_TIMEOUT_S`, default 5; `PORT`, default 9105.

## Testing Strategy

Unit tests with a fake repository for each matrix row; an HTTP test against the real server
on an ephemeral port. Run `pytest -q`.

## Out of Scope

- No per-job metrics.
- No schema changes.
- No authentication on /metrics.

## Open Items

N/A — every scoping question was answered.
"""
_FILE_TO_WRITE = re.compile(r"## File to write: `([^`]+)`")
LOOKBACK_BLOCKS = 20  # how far before a breakpoint the Messages API looks for a cached prefix


def module_code(path: str) -> str:
    """About 60 lines of plausible Python for the planned file at *path*."""
    n = FILES.index(path)
    name, cls, purpose = ROLES[n]
    dep_name, dep_cls, _ = ROLES[(n + 9) % 10]
    return f'''\
"""{purpose.capitalize()}."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from pkg.{dep_name} import {dep_cls}

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = {5 + n}.0


@dataclass
class {cls}:
    """{purpose.capitalize()}; safe to share between threads."""

    source: {dep_cls}
    timeout_s: float = DEFAULT_TIMEOUT_S
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _values: dict[str, float] = field(default_factory=dict, repr=False)
    _updated: float = 0.0

    def refresh(self) -> dict[str, float]:
        """Read fresh values from the source and keep them; returns the new values."""
        started = time.monotonic()
        try:
            values = self.source.read(timeout_s=self.timeout_s)
        except TimeoutError:
            log.warning("{name}: read timed out after %.1f s", time.monotonic() - started)
            return self.snapshot()
        except OSError as exc:
            log.error("{name}: read failed: %s", exc)
            return self.snapshot()
        with self._lock:
            self._values = dict(values)
            self._updated = time.monotonic()
        log.debug("{name}: %d values in %.3f s", len(values), time.monotonic() - started)
        return values

    def snapshot(self) -> dict[str, float]:
        """The last values read, without touching the source."""
        with self._lock:
            return dict(self._values)

    def age_s(self) -> float:
        """Seconds since the last successful refresh (infinite before the first)."""
        with self._lock:
            return time.monotonic() - self._updated if self._updated else float("inf")

    def is_stale(self, interval_s: float) -> bool:
        """Whether the values are older than one interval."""
        return self.age_s() > interval_s


def build_{name}(source: {dep_cls}, timeout_s: float = DEFAULT_TIMEOUT_S) -> {cls}:
    """A {cls} reading from *source*, refreshed once before it is returned."""
    item = {cls}(source=source, timeout_s=timeout_s)
    item.refresh()
    return item
'''


def answer(request: RecordedRequest) -> str:
    """The implement reply for the file the request's last user message asks for."""
    body: dict[str, Any] = request.body if isinstance(request.body, dict) else {}
    found = _FILE_TO_WRITE.search(message_text(body["messages"][-1]))
    if found is None:
        return "The last user message names no file to write."
    return implement_reply(found.group(1), module_code(found.group(1)))


def _blocks(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """(text, has a breakpoint) of each block in prompt order, with the role markers the
    loopback server counts before each message, so the sizes match its usage."""
    blocks: list[tuple[str, bool]] = []
    system = body.get("system") or []
    for block in [{"text": system}] if isinstance(system, str) else system:
        blocks.append((str(block.get("text", "")), "cache_control" in block))
    for message in body["messages"]:
        blocks.append((f"\n\n{message['role']}: ", False))
        content = message["content"]
        for block in [{"text": content}] if isinstance(content, str) else content:
            blocks.append((str(block.get("text", "")), "cache_control" in block))
    return blocks


def lookback_usage(bodies: list[dict[str, Any]]) -> list[dict[str, int]]:
    """Each request's usage as the Messages API reports it, including its lookback: a
    breakpoint also reads a prefix cached at any of the 20 block boundaries before it.

    The loopback server matches a cached prefix only at the request's own breakpoints; this
    applies the same 4-characters-a-token sizes to the recorded requests with the lookback.
    """
    written: set[str] = set()  # prefixes cached at an earlier request's breakpoints
    usages = []
    for body in bodies:
        blocks = _blocks(body)
        prefixes = list(itertools.accumulate(text for text, _ in blocks))
        marks = [i for i, (_, marked) in enumerate(blocks) if marked]
        total = estimate_tokens(prefixes[-1]) if prefixes else 0
        read = 0
        for mark in marks:
            for i in range(mark, max(-1, mark - LOOKBACK_BLOCKS - 1), -1):
                if prefixes[i] in written:
                    read = max(read, estimate_tokens(prefixes[i]))
                    break
        cached = estimate_tokens(prefixes[marks[-1]]) if marks else 0
        written.update(prefixes[i] for i in marks)
        usages.append(
            {
                "input_tokens": total - cached,
                "cache_read_tokens": read,
                "cache_write_tokens": cached - read,
            }
        )
    return usages


def billed(usage: dict[str, Any]) -> float:
    """Input tokens weighted as billed: cache writes 1.25x, cache reads 0.1x."""
    uncached, writes, reads = (
        int(usage[k]) for k in ("input_tokens", "cache_write_tokens", "cache_read_tokens")
    )
    return uncached + 1.25 * writes + 0.1 * reads


@dataclass(frozen=True)
class Session:
    """The token figures of one implement session, from its transcript."""

    caching: bool
    rows: list[dict[str, Any]]
    bodies: list[dict[str, Any]]  # the requests as the server received them

    @property
    def uncached(self) -> int:
        return sum(r["input_tokens"] for r in self.rows)

    @property
    def reads(self) -> int:
        return sum(r["cache_read_tokens"] for r in self.rows)

    @property
    def writes(self) -> int:
        return sum(r["cache_write_tokens"] for r in self.rows)

    @property
    def total(self) -> int:
        """Every input token the model read."""
        return self.uncached + self.reads + self.writes

    @property
    def billed(self) -> float:
        return sum(billed(r) for r in self.rows)

    @property
    def billed_with_lookback(self) -> float:
        return sum(billed(u) for u in lookback_usage(self.bodies))

    @property
    def reminder_tokens(self) -> int:
        return sum(r["reminder_tokens"] for r in self.rows)

    def tokens(self) -> list[tuple[int, ...]]:
        """Each request's token figures, to compare runs (timestamps and latency differ)."""
        keys = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "reminder_tokens")
        return [tuple(r[k] for k in keys) for r in self.rows]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r["reanchor"] == action)


def run_session(
    caching: bool,
    remind_after: int | None = None,
    standards: str = "",
    history: str = "",
) -> Session:
    """The 10-file session through `specflow implement`, against the loopback server; every
    reply must pass its contract (the transcript's contract_ok) or the bench stops."""
    with scratch() as s, loopback(answer, usage_mode="auto") as server:
        env = bench_env(s.home, server)
        specflow(s.repo, env, "init")
        set_config(s.repo, "anthropic", "prompt_caching", "true" if caching else "false")
        if standards:
            set_config(s.repo, "stages.implement", "standards", f'"{standards}"')
        if history:
            set_config(s.repo, "stages.implement", "history", f'"{history}"')
        if remind_after is not None:
            set_config(s.repo, "anchoring", "remind_after_tokens", str(remind_after))
        specflow(s.repo, env, "new", "Prometheus exporter for the job table", "--name", SLUG)
        (s.base / "scope.md").write_text(SCOPE_REPLY, encoding="utf-8")
        (s.base / "spec.md").write_text(SPEC, encoding="utf-8")
        specflow(s.repo, env, "scope", "--reply", str(s.base / "scope.md"))
        for n in range(1, 6):
            specflow(s.repo, env, "answer", str(n), f"Answer {n}: as the description says.")
        specflow(s.repo, env, "spec", "--reply", str(s.base / "spec.md"))
        for path in FILES:
            specflow(s.repo, env, "implement", "--file", path)
            if not (s.repo / path).is_file():
                raise SystemExit(f"specflow implement --file {path} wrote nothing")
        records = read_transcript(s.repo / ".specflow" / "tasks" / SLUG / "transcript.jsonl")
        bodies = [r.body for r in server.requests]
        if len(bodies) != len(FILES):
            raise SystemExit(f"expected {len(FILES)} requests, got {len(bodies)}")
    rows = [r for r in records if r["stage"] == "implement" and r["provider"] == "anthropic"]
    if [r["contract_ok"] for r in rows] != [True] * len(FILES):
        raise SystemExit("an implement reply broke its contract; see the transcript")
    return Session(caching, rows, bodies)


def _print_requests(on: Session, off: Session) -> None:
    print(
        f"{'file':<16} {'input tok':>10} {'cache read':>11} {'cache write':>12} "
        f"{'billed on':>10} {'billed off':>11} {'reminder':>9}  re-anchor"
    )
    for path, a, b in zip(FILES, on.rows, off.rows, strict=True):
        total = a["input_tokens"] + a["cache_read_tokens"] + a["cache_write_tokens"]
        print(
            f"{path:<16} {total:>10,} {a['cache_read_tokens']:>11,} "
            f"{a['cache_write_tokens']:>12,} {billed(a):>10,.0f} {b['input_tokens']:>11,} "
            f"{a['reminder_tokens']:>9,}  {a['reanchor']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    runs_option(parser, 1)
    parser.add_argument(
        "--remind-after",
        type=int,
        metavar="TOKENS",
        help="set [anchoring] remind_after_tokens (default: the config default), so that "
        "reminders fire within ten files and their cost shows",
    )
    args = parser.parse_args()
    results = [
        (run_session(True, args.remind_after), run_session(False, args.remind_after))
        for _ in range(args.runs)
    ]
    on, off = results[0]
    if any(
        r != (on.tokens(), off.tokens()) for r in ((a.tokens(), b.tokens()) for a, b in results)
    ):
        print("note: the token counts differed between runs; showing the first run")
    print(f"{len(results)} run(s); {machine()}")
    anchoring = (
        f"[anchoring] remind_after_tokens = {args.remind_after}"
        if args.remind_after is not None
        else "default [anchoring]"
    )
    print(f"10-file implement session, {anchoring}; per request with caching on:")
    _print_requests(on, off)
    print()
    print(f"{'':<22} {'caching on':>12} {'caching off':>12}")
    for label, a, b in (
        ("input tokens (all)", on.total, off.total),
        ("  uncached", on.uncached, off.uncached),
        ("  cache writes", on.writes, off.writes),
        ("  cache reads", on.reads, off.reads),
        ("billed input tokens", on.billed, off.billed),
        ("reminder tokens", on.reminder_tokens, off.reminder_tokens),
        ("reminds", on.count("remind"), off.count("remind")),
        ("resets", on.count("reset"), off.count("reset")),
    ):
        print(f"{label:<22} {a:>12,.0f} {b:>12,.0f}")
    ratio = on.billed / off.billed
    print(
        f"target: billed input with caching <= {CACHED_SHARE_TARGET:.0%} of without: "
        f"{ratio:.1%}  {target(ratio <= CACHED_SHARE_TARGET)}"
    )
    modelled = on.billed_with_lookback / off.billed_with_lookback
    print(
        f"  (same requests with the API's {LOOKBACK_BLOCKS}-block cache lookback, which the "
        f"loopback server does not model: {on.billed_with_lookback:,.0f} billed, {modelled:.1%})"
    )
    for s in (on, off):
        share = s.reminder_tokens / s.total
        print(
            f"target: reminder tokens <= {REMINDER_SHARE_TARGET:.0%} of input tokens "
            f"(caching {'on' if s.caching else 'off'}): {share:.1%}  "
            f"{target(share <= REMINDER_SHARE_TARGET)}"
        )


if __name__ == "__main__":
    main()
