"""Small helpers shared by the CLI tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from click.testing import CliRunner, Result

from specflow.cli import cli


def run(*args: str, input: str | bytes | None = None) -> Result:
    """Invoke the CLI in-process, as a user would type it."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


class FreshRun(NamedTuple):
    codes: list[int]  # one exit code per command
    loaded: list[str]  # the watched modules the interpreter had imported by the end
    output: str  # everything the commands printed to stdout


def fresh_run(
    cwd: Path, *argvs: list[str], watch: Sequence[str], entry: str = "specflow.cli:run"
) -> FreshRun:
    """Run specflow with each argument list in turn in one fresh interpreter, in *cwd*: how
    the tests see that a command stays clear of a heavy dependency (*watch*). *entry* is the
    function called (`specflow.__main__:main` is the console script's)."""
    module, function = entry.split(":")
    code = (
        f"import json, sys\nfrom {module} import {function} as run\ncodes = []\n"
        f"for argv in {[['specflow', *argv] for argv in argvs]!r}:\n"
        "    sys.argv = argv\n"
        "    try:\n        codes.append(run())\n"
        "    except SystemExit as exc:\n        codes.append(exc.code or 0)\n"
        f"loaded = [m for m in {list(watch)!r} if m in sys.modules]\n"
        "print('\\nFRESH-RUN', json.dumps([codes, loaded]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=dict(os.environ)
    )
    last = done.stdout.rstrip("\n").rsplit("\n", 1)[-1]
    assert last.startswith("FRESH-RUN "), done.stdout + done.stderr
    codes, loaded = json.loads(last.removeprefix("FRESH-RUN "))
    return FreshRun(codes, loaded, done.stdout)


def specced_task(tmp_path: Path, slug: str, spec: str) -> Path:
    """Create task *slug* and take it through scope, answers and spec with --reply files, so a
    test starts where implement does; its folder. Run inside the repository."""
    from tests.support.samples import SCOPE_REPLY

    assert run("new", "Prometheus exporter", "--name", slug).exit_code == 0
    (tmp_path / "scope.md").write_text(SCOPE_REPLY)
    assert run("scope", "--reply", str(tmp_path / "scope.md")).exit_code == 0
    for n in range(1, 6):
        assert run("answer", str(n), f"answer {n}").exit_code == 0
    (tmp_path / "spec.md").write_text(spec)
    assert run("spec", "--reply", str(tmp_path / "spec.md")).exit_code == 0
    return Path.cwd() / ".specflow" / "tasks" / slug
