"""The real pre-commit framework runs the hook this repository ships in .pre-commit-hooks.yaml.

pre-commit builds a virtual environment for a `language: python` hook and pip-installs the
repository into it. Tests never reach the network, so pip is told to install only specflow
itself, offline, with the build backend and the dependencies taken from the environment
running the tests (PYTHONPATH). Everything else is the real thing: pre-commit reads the
manifest, installs the hook, runs `specflow review --staged` in its own environment, and
turns the exit code into Passed or Failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.samples import review_reply

ROOT = Path(__file__).resolve().parent.parent
BLOCKING = "- [MAJOR] app.py:1 — Scope — not in the spec. Evidence: `x = 1`"


def _pre_commit(repo: Path, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "specflow-review", *flags],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_pre_commit_framework_runs_the_shipped_hook(
    repo: Path, tmp_path: Path, anthropic_server: AnthropicServer
) -> None:
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "app.py")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip reads "0" here as: do not isolate the build
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": anthropic_server.root_url,
    }
    anthropic_server.script(Text(review_reply([BLOCKING])))
    blocked = _pre_commit(repo, env, "--verbose")
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "specflow review" in blocked.stdout and "Failed" in blocked.stdout
    assert "[MAJOR] app.py:1 — Scope — not in the spec." in blocked.stdout
    anthropic_server.script(Text(review_reply()))
    (repo / "app.py").write_text("x = 2\n")
    git(repo, "add", "app.py")
    passed = _pre_commit(repo, env, "--verbose")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
    assert len(anthropic_server.requests) == 2
    # Without a key the review cannot run: the hook passes (fail-open locally), and the
    # manifest's `verbose: true` makes pre-commit show why, without --verbose.
    del env["ANTHROPIC_API_KEY"]
    (repo / "app.py").write_text("x = 3\n")
    git(repo, "add", "app.py")
    unreviewed = _pre_commit(repo, env)
    assert unreviewed.returncode == 0, unreviewed.stdout + unreviewed.stderr
    assert "Passed" in unreviewed.stdout
    assert "specflow review: NOT REVIEWED — no model configured" in unreviewed.stdout
    assert "to review it: specflow review --staged --reply" in unreviewed.stdout
    assert len(anthropic_server.requests) == 2
    # pre-commit's own SKIP names the hook: skipped, and said so (as pre-commit does).
    skipped = _pre_commit(repo, {**env, "SKIP": "specflow-review"})
    assert skipped.returncode == 0
    assert "Skipped" in skipped.stdout
