"""Small helpers shared by the CLI tests."""

from __future__ import annotations

from click.testing import CliRunner, Result

from specflow.cli import cli


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the CLI in-process, as a user would type it."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
