"""Shared set-up for the benchmark scripts: scratch repositories, a safe environment, the
loopback Anthropic server from tests/support/fakes, and the PASS/MISS line of a target.

Nothing here reaches the network or the user's home: each run works in a temporary folder
that holds both the repository and the HOME its subprocesses see, and is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench._timing import clean_env
from tests.support.fakes import Responder
from tests.support.fakes.anthropic_server import AnthropicServer

ROOT = Path(__file__).resolve().parent.parent


# A placeholder credential: it only ever goes to the loopback server on 127.0.0.1.
DUMMY_KEY = "loopback-dummy"
PYTHON = sys.executable
# `specflow` as a user runs it: the console script pip put beside this interpreter (it skips
# the runpy start-up of `python -m specflow`), or `python -m specflow` where there is none.
_SCRIPT = Path(PYTHON).parent / ("specflow.exe" if os.name == "nt" else "specflow")
SPECFLOW_COMMAND = [str(_SCRIPT)] if _SCRIPT.is_file() else [PYTHON, "-m", "specflow"]


@dataclass(frozen=True)
class Scratch:
    """A temporary folder with a git repository and the HOME its subprocesses use."""

    base: Path
    repo: Path
    home: Path


@contextmanager
def scratch() -> Iterator[Scratch]:
    """A fresh repository with one commit, removed (with its HOME) on exit."""
    with tempfile.TemporaryDirectory(prefix="specflow-bench-") as tmp:
        base = Path(tmp)
        home = base / "home"
        repo = base / "repo"
        home.mkdir()
        repo.mkdir()
        env = bench_env(home)
        git(repo, env, "init", "-q", "-b", "main")
        (repo / "README.md").write_text("# bench\n", encoding="utf-8")
        git(repo, env, "add", "README.md")
        git(repo, env, "commit", "-qm", "initial")
        yield Scratch(base, repo, home)


def bench_env(home: Path, server: AnthropicServer | None = None) -> dict[str, str]:
    """The environment of a benchmarked command: no credentials, no git config, HOME in *home*.

    With *server*, a dummy key and ANTHROPIC_BASE_URL point the SDK at the loopback server.
    """
    env = {
        k: v
        for k, v in clean_env().items()
        if not k.startswith(("GIT_", "SPECFLOW_")) and k not in ("CI", "PYTHONSTARTUP")
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Bench Author",
        GIT_AUTHOR_EMAIL="bench@example.invalid",
        GIT_COMMITTER_NAME="Bench Author",
        GIT_COMMITTER_EMAIL="bench@example.invalid",
        NO_COLOR="1",
    )
    if server is not None:
        env["ANTHROPIC_API_KEY"] = DUMMY_KEY
        env["ANTHROPIC_BASE_URL"] = server.root_url
    return env


def interleaved_times(
    commands: dict[str, list[str]],
    runs: int,
    cwd: Path,
    env: dict[str, str],
    envs: dict[str, dict[str, str]] | None = None,
) -> dict[str, list[float]]:
    """Wall times in seconds of each command, run in turn *runs* times after a warm-up.

    Taking the commands in turn, rather than all runs of one then all of the next, spreads
    any change in the machine's load over every command alike, so their differences hold.
    *envs* gives a command its own environment (by label) instead of *env*.
    """
    times: dict[str, list[float]] = {label: [] for label in commands}
    for lap in range(runs + 1):
        for label, cmd in commands.items():
            start = time.perf_counter()
            done = subprocess.run(
                cmd, cwd=cwd, env=(envs or {}).get(label, env), capture_output=True, check=False
            )
            elapsed = time.perf_counter() - start
            if done.returncode not in (0, 1):
                raise SystemExit(
                    f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()}"
                )
            if lap:  # lap 0 is the warm-up: file cache, .pyc files
                times[label].append(elapsed)
    return times


def interleaved_medians(
    commands: dict[str, list[str]], runs: int, cwd: Path, env: dict[str, str]
) -> dict[str, float]:
    """Median wall time in seconds of each command (see interleaved_times)."""
    times = interleaved_times(commands, runs, cwd, env)
    return {label: statistics.median(values) for label, values in times.items()}


def paired_excess(times: dict[str, list[float]], label: str, base: str) -> float:
    """Median over the laps of (*label*'s time - *base*'s time in the same lap).

    This machine's speed drifts by tens of percent from one second to the next; the two
    commands of one lap ran a moment apart, so their difference holds where a difference of
    two medians taken over the whole run does not.
    """
    return statistics.median(a - b for a, b in zip(times[label], times[base], strict=True))


def print_times(times: dict[str, list[float]], base: str, beyond: str, width: int = 36) -> None:
    """A table of each command's median time and its paired excess over *base*."""
    column = max(len(beyond), 11)
    print(f"{'command':<{width}} {'median s':>9} {beyond:>{column}}")
    for label, values in times.items():
        excess = paired_excess(times, label, base)
        print(f"{label:<{width}} {statistics.median(values):>9.3f} {excess:>+{column}.3f}")


def git(cwd: Path, env: dict[str, str], *args: str) -> str:
    """Run git in *cwd*; its stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"git {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def specflow(
    cwd: Path, env: dict[str, str], *args: str, expect: Sequence[int] = (0,)
) -> subprocess.CompletedProcess[str]:
    """Run `specflow ARGS` in *cwd*; stop the benchmark on an unexpected exit code."""
    done = subprocess.run(
        [*SPECFLOW_COMMAND, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode not in expect:
        raise SystemExit(
            f"specflow {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done


def set_config(repo: Path, section: str, key: str, value: str) -> None:
    """Set `key = value` under `[section]` of the config `specflow init` wrote."""
    path = repo / ".specflow" / "config.toml"
    text = path.read_text(encoding="utf-8")
    head = text.index(f"[{section}]\n")
    pattern = re.compile(rf"^{re.escape(key)} = .*$", re.M)
    found = pattern.search(text, head)
    following = re.compile(r"^\[", re.M).search(text, head + 1)
    if found is None or (following is not None and found.start() > following.start()):
        raise SystemExit(f"{path}: no `{key}` under [{section}]")
    text = text[: found.start()] + f"{key} = {value}" + text[found.end() :]
    path.write_text(text, encoding="utf-8")


@contextmanager
def loopback(
    default: str | Responder | None = None, usage_mode: Literal["auto", "plain"] = "auto"
) -> Iterator[AnthropicServer]:
    """A loopback Anthropic API on 127.0.0.1, stopped and checked for server errors on exit."""
    with AnthropicServer(default, usage_mode=usage_mode).running() as server:
        yield server


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """The records of a transcript.jsonl, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def message_text(message: dict[str, Any]) -> str:
    """The text of one message of a recorded Messages API request body."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "".join(str(b.get("text", "")) for b in content or [] if isinstance(b, dict))


def runs_option(parser: argparse.ArgumentParser, default: int) -> None:
    """Add `--runs N` (a positive number of repetitions) to *parser*."""

    def positive(text: str) -> int:
        value = int(text)
        if value < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
        return value

    parser.add_argument("--runs", type=positive, default=default, metavar="N")


def target(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def machine() -> str:
    """One line naming the machine, for the table header."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    system = f"{platform.system()} {platform.machine()}"
    return f"Python {platform.python_version()}, nproc {cpus}, {system}"
