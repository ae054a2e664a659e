"""Cost of the review gate: a cached re-run, and specflow's own work on a large uncached diff.

    python -m bench.review [--runs N]

(a) In a scratch repository with a small staged change, `specflow review --staged` runs once
    against a loopback Anthropic server on 127.0.0.1 (filling the verdict cache and the review
    memo); then the re-run is timed beside `python -c pass`: answered by the memo, as a user's
    re-run is, and with the memo off (SPECFLOW_REVIEW_MEMO=0), answered by the verdict cache
    after loading the config, the task store and the prompts. Target: the re-run under 0.25 s
    beyond the bare interpreter.
(b) A staged 5,000-line change across 50 files (30 new files, 20 changed ones) is reviewed
    with `specflow review --staged --no-cache` against a loopback server that answers every
    chunk at once with a PASS verdict, timed beside `python -c "import anthropic"`. Target:
    under 1 s beyond the SDK import. The cached re-run of that change, and the in-process
    time of parse_diff + redact_diff + split_for_budget on its diff, are shown too.

(c) Without credentials: a verdict recorded with `specflow review --staged --reply FILE` (the
    handoff gate), enforced by the re-run a commit makes — answered by the memo, and with the
    memo off, by the recorded verdict after loading the config. Same target as (a); the SDK is
    never imported (a command fails if it is).

Medians of N runs (default 10) taken in turn in the same run; each "beyond" figure is the
median of the per-lap differences (see _harness.paired_excess).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from bench._harness import (
    PYTHON,
    SPECFLOW_COMMAND,
    Scratch,
    bench_env,
    git,
    interleaved_times,
    loopback,
    machine,
    paired_excess,
    print_times,
    runs_option,
    scratch,
    specflow,
    target,
)
from tests.support.samples import review_reply

CACHED_BUDGET_S = 0.25
UNCACHED_BUDGET_S = 1.0
NEW_FILES = 30
CHANGED_FILES = 20
FILE_LINES = 100  # each new file; each changed file has 50 lines replaced (100 changed)
CHANGED_LINES = (NEW_FILES + CHANGED_FILES) * FILE_LINES
REVIEW = [*SPECFLOW_COMMAND, "review", "--staged"]


def function(name: str, n: int, flavour: str) -> list[str]:
    """Eleven lines of ordinary Python: a comment and a small function with a loop, a branch
    and logging. Every line names *flavour*, so git pairs no line of one flavour with another."""
    return [
        f"# -- {name}: {flavour} step {n} --",
        f"def {name}_{flavour}_{n}(items_{flavour}: list[dict[str, int]], limit: int) -> int:",
        f'    """Count the {flavour} items under *limit* (step {n})."""',
        f"    total_{flavour} = 0",
        f"    for item_{flavour} in items_{flavour}:",
        f'        value_{flavour} = item_{flavour}.get("{flavour}_{n}", 0)',
        f"        if value_{flavour} > limit:",
        f'            log.debug("{name}: {flavour} %s over %s", value_{flavour}, limit)',
        f"            continue  # over the {flavour} limit",
        f"        total_{flavour} += value_{flavour}",
        f"    return total_{flavour}",
    ]


def source(name: str, lines: int, flavour: str) -> list[str]:
    """A Python module of exactly *lines* lines."""
    text = [f'"""The {name} module."""', "", "import logging", "", "log = logging.getLogger()"]
    n = 0
    while len(text) < lines:
        text += function(name, n, flavour)
        n += 1
    return text[:lines]


def stage_large_change(s: Scratch, env: dict[str, str]) -> int:
    """Stage 30 new files and 20 changed ones: 5,000 changed lines. Returns that count."""
    changed_paths = [f"src/app/changed_{n:02d}.py" for n in range(CHANGED_FILES)]
    for path in changed_paths:
        _write(s.repo / path, source(Path(path).stem, FILE_LINES + 20, "old"))
    git(s.repo, env, "add", ".")
    git(s.repo, env, "commit", "-qm", "the files the change edits")
    for path in changed_paths:
        lines = source(Path(path).stem, FILE_LINES + 20, "old")
        lines[35:85] = source(Path(path).stem, 55, "new")[5:]  # 50 lines replaced
        _write(s.repo / path, lines)
    for n in range(NEW_FILES):
        _write(s.repo / f"src/app/new_{n:02d}.py", source(f"new_{n:02d}", FILE_LINES, "fresh"))
    git(s.repo, env, "add", "src")
    numstat = git(s.repo, env, "diff", "--cached", "--numstat").splitlines()
    changed = sum(int(a) + int(r) for a, r, _ in (row.split("\t") for row in numstat))
    if len(numstat) != NEW_FILES + CHANGED_FILES or changed != CHANGED_LINES:
        raise SystemExit(f"expected {CHANGED_LINES} changed lines in 50 files: {numstat}")
    return changed


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def in_process(root: Path, runs: int) -> tuple[float, int, int]:
    """Median seconds of parse_diff + redact_diff + split_for_budget on the staged diff,
    with the diff's line count and the number of chunks."""
    from specflow.config import ReviewConfig
    from specflow.gitx import gitops
    from specflow.gitx.chunks import split_for_budget
    from specflow.gitx.diffs import parse_diff
    from specflow.gitx.secrets import redact_diff

    text = gitops.staged_diff(root)
    budget = ReviewConfig().chunk_tokens
    chunks = split_for_budget(redact_diff(parse_diff(text))[0], budget)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        redacted, found = redact_diff(parse_diff(text))
        split_for_budget(redacted, budget)
        times.append(time.perf_counter() - start)
    if found:
        raise SystemExit(f"the generated change has secret-like lines: {found}")
    return statistics.median(times), text.count("\n"), len(chunks)


def cached_review(runs: int) -> dict[str, list[float]]:
    """(a): the cached re-run of a small staged change, beside a bare interpreter."""
    with scratch() as s, loopback(review_reply()) as server:
        env = bench_env(s.home, server)
        _write(s.repo / "src/app/settings.py", source("settings", 40, "cfg"))
        git(s.repo, env, "add", "src")
        first = specflow(s.repo, env, "review", "--staged")
        if "specflow review: PASS\n" not in first.stdout or len(server.requests) != 1:
            raise SystemExit(f"the first review did not ask the model:\n{first.stdout}")
        no_memo = {**env, "SPECFLOW_REVIEW_MEMO": "0"}
        for run_env in (env, no_memo):
            again = subprocess.run(REVIEW, cwd=s.repo, env=run_env, capture_output=True, text=True)
            if "(cached)" not in again.stdout:
                raise SystemExit(f"the re-run was not served from the cache:\n{again.stdout}")
        times = interleaved_times(
            {
                "python -c pass": [PYTHON, "-c", "pass"],
                "review --staged (memo)": REVIEW,
                "review --staged (verdict cache)": REVIEW,
            },
            runs,
            s.repo,
            env,
            envs={"review --staged (verdict cache)": no_memo},
        )
        if len(server.requests) != 1:
            raise SystemExit(f"a cached review asked the model ({len(server.requests)} requests)")
    return times


def recorded_verdict(runs: int) -> dict[str, list[float]]:
    """(c): a verdict recorded with --reply, enforced by the re-run, beside a bare interpreter."""
    with scratch() as s:
        env = bench_env(s.home)  # no credentials: the handoff provider
        _write(s.repo / "src/app/settings.py", source("settings", 40, "cfg"))
        git(s.repo, env, "add", "src")
        first = specflow(s.repo, env, "review", "--staged")
        if "NOT REVIEWED" not in first.stdout:
            raise SystemExit(f"the first review was not NOT REVIEWED:\n{first.stdout}")
        reply = s.repo / "verdict.md"
        reply.write_text(review_reply(), encoding="utf-8")
        specflow(s.repo, env, "review", "--staged", "--reply", str(reply))
        # `-X importtime`-free check that no SDK is imported: make importing one fail.
        guard = s.home / "guard"
        guard.mkdir()
        for sdk in ("anthropic", "openai"):
            (guard / f"{sdk}.py").write_text("raise ImportError('no SDK on this path')\n")
        guarded = {**env, "PYTHONPATH": str(guard)}
        no_memo = {**guarded, "SPECFLOW_REVIEW_MEMO": "0"}
        for run_env in (guarded, no_memo):
            again = subprocess.run(REVIEW, cwd=s.repo, env=run_env, capture_output=True, text=True)
            if "specflow review: PASS (cached)" not in again.stdout:
                raise SystemExit(f"the recorded verdict was not enforced:\n{again.stdout}")
        return interleaved_times(
            {
                "python -c pass": [PYTHON, "-c", "pass"],
                "recorded verdict (memo)": REVIEW,
                "recorded verdict (no memo)": REVIEW,
            },
            runs,
            s.repo,
            guarded,
            envs={"recorded verdict (no memo)": no_memo},
        )


def large_review(runs: int) -> tuple[dict[str, list[float]], int, float, int, int, int]:
    """(b): the 5,000-line change, uncached and cached, beside the SDK import."""
    with scratch() as s, loopback(review_reply()) as server:
        env = bench_env(s.home, server)
        changed = stage_large_change(s, env)
        first = specflow(s.repo, env, "review", "--staged", "--no-cache")
        per_run = len(server.requests)
        if "specflow review: PASS\n" not in first.stdout or not per_run:
            raise SystemExit(f"the review did not pass through the model:\n{first.stdout}")
        alone, diff_lines, chunks = in_process(s.repo, runs)
        times = interleaved_times(
            {
                'python -c "import anthropic"': [PYTHON, "-c", "import anthropic"],
                "review --staged --no-cache": [*REVIEW, "--no-cache"],
                "review --staged (cached)": REVIEW,
            },
            runs,
            s.repo,
            env,
        )
        expected = per_run * (runs + 2)  # the first review, the warm-up, then the runs
        if len(server.requests) != expected:
            raise SystemExit(f"expected {expected} requests, the server got {len(server.requests)}")
    return times, changed, alone, diff_lines, chunks, per_run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    runs_option(parser, 10)
    args = parser.parse_args()
    small = cached_review(args.runs)
    large, changed, alone, diff_lines, chunks, requests = large_review(args.runs)
    recorded = recorded_verdict(args.runs)
    print(f"median of {args.runs} runs; {machine()}")
    print("(a) small staged change (one 40-line file), verdict cached by a first review")
    bare = "python -c pass"
    print_times(small, bare, "beyond bare")
    print(
        f"(b) {changed:,} changed lines in {NEW_FILES + CHANGED_FILES} files ({diff_lines:,} diff "
        f"lines); {chunks} chunk(s), {requests} request(s) per uncached review"
    )
    sdk = 'python -c "import anthropic"'
    print_times(large, sdk, "beyond import anthropic")
    print(f"{'parse + redact + split, in-process':<36} {alone:>9.3f}")
    cached = paired_excess(small, "review --staged (memo)", bare)
    print(
        f"target: cached review < {CACHED_BUDGET_S:.2f} s beyond python -c pass: "
        f"{cached:+.3f} s  {target(cached < CACHED_BUDGET_S)}"
    )
    print("(c) the same small change, without credentials: a verdict recorded with --reply")
    print_times(recorded, bare, "beyond bare")
    enforced = paired_excess(recorded, "recorded verdict (memo)", bare)
    print(
        f"target: recorded verdict enforced < {CACHED_BUDGET_S:.2f} s beyond python -c pass, "
        f"no SDK import: {enforced:+.3f} s  {target(enforced < CACHED_BUDGET_S)}"
    )
    work = paired_excess(large, "review --staged --no-cache", sdk)
    print(
        f"target: uncached {changed:,}-line review < {UNCACHED_BUDGET_S:.1f} s beyond import "
        f"anthropic: {work:+.3f} s  {target(work < UNCACHED_BUDGET_S)}"
    )


if __name__ == "__main__":
    main()
