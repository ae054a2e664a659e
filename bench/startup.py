"""Start-up cost of `specflow --help` and `specflow status`, beside a bare interpreter.

    python bench/startup.py [--runs N]

Prints the median wall time of each over N runs (default 20) in the same run, and the
difference from `python -c pass`. Target: `specflow --help` within 0.10 s of the bare
interpreter.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import clean_env, median_wall  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    env = clean_env()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "init", "-q", tmp], check=True)
        for n in range(5):
            subprocess.run(
                [sys.executable, "-m", "specflow", "new", f"Benchmark task {n}"],
                cwd=tmp,
                env=env,
                check=True,
                capture_output=True,
            )
        base = median_wall([sys.executable, "-c", "pass"], args.runs, tmp, env)
        rows = [("python -c pass", base)]
        for label, argv in (
            ("specflow --help", ["--help"]),
            ("specflow --version", ["--version"]),
            ("specflow status (5 tasks)", ["status"]),
        ):
            rows.append(
                (label, median_wall([sys.executable, "-m", "specflow", *argv], args.runs, tmp, env))
            )
    print(f"median of {args.runs} runs, Python {sys.version.split()[0]}")
    print(f"{'command':<28} {'median s':>9} {'minus bare':>11}")
    for label, seconds in rows:
        print(f"{label:<28} {seconds:>9.3f} {seconds - base:>+11.3f}")


if __name__ == "__main__":
    main()
