"""Shared fixtures. No test may reach the network or the real home directory."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.fixtures"]

REAL_HOME = os.path.expanduser("~")


class TestTouchedHome(AssertionError):
    """A test tried to read or write the real home directory."""


@pytest.fixture(autouse=True, scope="session")
def dont_touch_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point HOME at a path that cannot exist and make Path.home() fail loudly."""
    base = tmp_path_factory.mktemp("nohome")
    blocker = base / "not-a-directory"
    blocker.write_text("HOME points under this file so nothing can be created there\n")
    saved = {k: os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    os.environ["HOME"] = str(blocker / "home")
    os.environ["XDG_CONFIG_HOME"] = str(blocker / "config")
    os.environ["XDG_CACHE_HOME"] = str(blocker / "cache")

    def refuse(*_args: object, **_kwargs: object) -> Path:
        raise TestTouchedHome("a test asked for the home directory; pass an explicit path")

    mp = pytest.MonkeyPatch()
    mp.setattr(Path, "home", staticmethod(refuse))
    yield
    mp.undo()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, no git config from the machine, no CI flag unless a test sets it."""
    for key in list(os.environ):
        if key.startswith(("ANTHROPIC_", "OPENAI_", "SPECFLOW_", "GIT_")) or key == "CI":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.invalid")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / ".pre-commit-home"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


def git(cwd: Path, *args: str) -> str:
    """Run git in *cwd* and return its stdout."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh git repository with one commit, and the working directory inside it."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# demo\n")
    git(root, "add", "README.md")
    git(root, "commit", "-qm", "initial")
    monkeypatch.chdir(root)
    return root
