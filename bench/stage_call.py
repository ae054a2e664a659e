"""Overhead of a whole stage call beside the cost of importing the Anthropic SDK.

    python -m bench.stage_call [--runs N]

Times, as medians of N subprocess runs (default 10) taken in turn in the same run:
`python -c pass`, `python -c "import anthropic"`, `specflow models`, `specflow models --json`,
and a full `specflow scope` against a loopback Anthropic server on 127.0.0.1 that answers at
once with a valid scope reply. Each scope run re-asks the same round of one task (the reply
holds, the transcript grows by one line). Target: the stage call takes at most 0.4 s more
than `import anthropic`.

Whole-process times on a shared machine vary by tenths of a second from run to run, so each
"beyond" figure is the median of the per-lap differences (see _harness.paired_excess), and the
script also times specflow's own part of the scope call from inside the process, after the
SDK is imported (everything the command does, its imports included, but not the SDK import,
interpreter start-up or shut-down).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from pathlib import Path

from bench._harness import (
    PYTHON,
    SPECFLOW_COMMAND,
    bench_env,
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
from tests.support.samples import SCOPE_REPLY

BUDGET_S = 0.4
# Imports the SDK, then runs `specflow scope` in the same process and reports how long it took.
IN_PROCESS = """\
import sys, time
import anthropic
sys.argv = ["specflow", "scope"]
start = time.perf_counter()
from specflow.cli import run
code = run()
print(f"ELAPSED {time.perf_counter() - start:.6f}", file=sys.stderr)
sys.exit(code)
"""


def in_process(runs: int, cwd: Path, env: dict[str, str]) -> float:
    """Median seconds of specflow's own part of a scope call, timed inside the process."""
    times = []
    for _ in range(runs):
        done = subprocess.run(
            [PYTHON, "-c", IN_PROCESS], cwd=cwd, env=env, capture_output=True, text=True
        )
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        if done.returncode or not last.startswith("ELAPSED "):
            raise SystemExit(f"the in-process scope run failed ({done.returncode}):\n{done.stderr}")
        times.append(float(last.split()[1]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    runs_option(parser, 10)
    args = parser.parse_args()
    runs = args.runs
    with scratch() as s, loopback(SCOPE_REPLY) as server:
        env = bench_env(s.home, server)
        specflow(s.repo, env, "init")
        specflow(s.repo, env, "new", "Prometheus exporter for the Oracle job table")
        cli = SPECFLOW_COMMAND
        commands = {
            "python -c pass": [PYTHON, "-c", "pass"],
            'python -c "import anthropic"': [PYTHON, "-c", "import anthropic"],
            "specflow models": [*cli, "models"],
            "specflow models --json": [*cli, "models", "--json"],
            "specflow scope (loopback)": [*cli, "scope"],
        }
        times = interleaved_times(commands, runs, s.repo, env)
        if len(server.requests) != runs + 1:  # the runs and the warm-up, one request each
            raise SystemExit(f"expected {runs + 1} scope requests, got {len(server.requests)}")
        own = in_process(runs, s.repo, env)
    sdk = 'python -c "import anthropic"'
    print(f"median of {runs} runs; {machine()}")
    print_times(times, sdk, "beyond import anthropic", width=30)
    print(f"{'scope, in-process, SDK loaded':<30} {own:>9.3f}")
    overhead = paired_excess(times, "specflow scope (loopback)", sdk)
    print(
        f"target: scope stage call <= import anthropic + {BUDGET_S:.2f} s: "
        f"{overhead:+.3f} s  {target(overhead <= BUDGET_S)}"
    )


if __name__ == "__main__":
    main()
