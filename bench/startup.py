"""Start-up cost of `specflow --help`, `--version` and `status`, beside a bare interpreter.

    python -m bench.startup [--runs N]

In a scratch repository with five tasks, times each command and `python -c pass` in turn,
N laps (default 20) after a warm-up, and prints each median and its median per-lap excess
over the bare interpreter. Target: `specflow --help` within 0.10 s of the bare interpreter.
"""

from __future__ import annotations

import argparse

from bench._harness import (
    PYTHON,
    SPECFLOW_COMMAND,
    bench_env,
    interleaved_times,
    machine,
    paired_excess,
    print_times,
    runs_option,
    scratch,
    specflow,
    target,
)

BUDGET_S = 0.10


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    runs_option(parser, 20)
    args = parser.parse_args()
    with scratch() as s:
        env = bench_env(s.home)
        for n in range(5):
            specflow(s.repo, env, "new", f"Benchmark task {n}")
        times = interleaved_times(
            {
                "python -c pass": [PYTHON, "-c", "pass"],
                "specflow --help": [*SPECFLOW_COMMAND, "--help"],
                "specflow --version": [*SPECFLOW_COMMAND, "--version"],
                "specflow status (5 tasks)": [*SPECFLOW_COMMAND, "status"],
            },
            args.runs,
            s.repo,
            env,
        )
    print(f"median of {args.runs} runs; {machine()}")
    print_times(times, "python -c pass", "beyond bare", width=28)
    excess = paired_excess(times, "specflow --help", "python -c pass")
    print(
        f"target: specflow --help < {BUDGET_S:.2f} s beyond python -c pass: {excess:+.3f} s  "
        f"{target(excess < BUDGET_S)}"
    )


if __name__ == "__main__":
    main()
