"""The environment benchmarked commands run in: no credentials, specflow byte-compiled."""

from __future__ import annotations

import os


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
