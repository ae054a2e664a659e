"""Shared timing helpers for the benchmark scripts: medians of whole-process wall times."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence


def median_wall(
    cmd: Sequence[str], runs: int, cwd: str | None = None, env: dict[str, str] | None = None
) -> float:
    """Median wall time in seconds of running *cmd* to completion *runs* times (after a warm-up)."""
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()}")
    return statistics.median(times)


def clean_env() -> dict[str, str]:
    """The environment of a user's machine: no credentials (no run can reach a real API), and
    specflow byte-compiled as `pip install` leaves it, so no run pays for compiling sources."""
    byte_compile_specflow()
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "OPENAI_")) and k != "PYTHONDONTWRITEBYTECODE"
    }


_COMPILED = False


def byte_compile_specflow() -> None:
    """Write specflow's .pyc files once per run. An installed wheel has them (pip compiles on
    install); a source checkout run with PYTHONDONTWRITEBYTECODE=1 would compile every module
    on every start, which is not what a user's `specflow` costs."""
    global _COMPILED
    if not _COMPILED:
        import compileall
        from pathlib import Path

        package = Path(__file__).resolve().parent.parent / "specflow"
        compileall.compile_dir(str(package), quiet=1)
        _COMPILED = True
