"""The README tells the truth: CI runs its test command, and it lists every command."""

from __future__ import annotations

import re
from pathlib import Path

from specflow.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    install, tests = commands
    assert "pip install ." in install and "specflow scope" in install
    assert "pip install -c requirements/ci-constraints.txt -e '.[test]'" in tests
    assert "pytest" in tests


def test_ci_constraints_pin_every_runtime_dependency_exactly() -> None:
    """A new upstream release must not change what CI installs."""
    pins = {}
    for line in (ROOT / "requirements" / "ci-constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[name.lower().replace("_", "-")] = version
    for name in (
        "anthropic",
        "openai",
        "pydantic",
        "click",
        "jinja2",
        "gitpython",
        "rich",
        "pyromark",
        "pyyaml",
        "pytest",
        "ruff",
        "mypy",
    ):
        assert name in pins, f"{name} is not pinned in requirements/ci-constraints.txt"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _quick_start_commands()[1] in ci.splitlines()


def test_readme_lists_every_command() -> None:
    for name in cli.commands:
        assert f"specflow {name}" in README, f"README does not mention `specflow {name}`"


def test_readme_documents_the_exit_codes() -> None:
    from specflow import errors

    for code in (
        errors.EXIT_OK,
        errors.EXIT_CHECK_FAILED,
        errors.EXIT_USAGE,
        errors.EXIT_PROVIDER,
        errors.EXIT_INTERRUPTED,
    ):
        assert f"\n| {code} |" in README
