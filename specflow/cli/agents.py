"""Command files for coding agents, and the Claude Code hook: `specflow agents ...`."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from specflow.cli.app import (
    _echo_json,
    _workspace,
    cli,
)

# -- agents: command files for coding agents, and the Claude Code hook -----------------------


@cli.group()
def agents() -> None:
    """Write command files for the coding agents you use: Claude Code, Cursor, Copilot, ...

    Each command runs `specflow prompt`, has the agent write its reply to a file, checks it
    with `specflow check --json` until it holds, then hands it over with `--reply`.

    \b
    Example:
        specflow agents install claude codex
    """


@agents.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def agents_list(as_json: bool) -> None:
    """Show the supported agents, which are installed here, and where their files go.

    \b
    Example:
        specflow agents list
    """
    from specflow.agents.install import list_rows

    rows = list_rows(_workspace().root)
    if as_json:
        _echo_json({"agents": rows})
        return
    for row in rows:
        click.echo(f"{row['name']:<8} {row['installed']:<7} {row['title']}")
        for place in row["files"]:
            click.echo(f"{'':<17}{place}")


@agents.command("install")
@click.argument("names", nargs=-1, metavar="NAME...|all")
@click.option("--force", is_flag=True, help="Replace files you edited (a copy is kept).")
def agents_install(names: tuple[str, ...], force: bool) -> None:
    """Write the agents' command files; files you edited or own are left alone.

    Exit 1 when a file was left alone (the message says which, and how to force it).

    \b
    Example:
        specflow agents install claude cursor
        specflow agents install all
    """
    from specflow.agents.catalog import resolve_names
    from specflow.agents.install import install

    _report_agents(install(_workspace().root, resolve_names(names), force))


@agents.command("remove")
@click.argument("names", nargs=-1, metavar="NAME...|all")
def agents_remove(names: tuple[str, ...]) -> None:
    """Remove exactly what `specflow agents install` wrote; edited files are left alone.

    \b
    Example:
        specflow agents remove cursor
    """
    from specflow.agents.catalog import resolve_names
    from specflow.agents.install import remove

    _report_agents(remove(_workspace().root, resolve_names(names)))


@agents.command("eject")
def agents_eject() -> None:
    """Copy the agent templates into .specflow/templates/agents/ to customise them.

    \b
    Example:
        specflow agents eject
    """
    for line in _workspace().eject("templates", "agents"):
        click.echo(line)


@agents.command("hook")
@click.argument("agent", type=click.Choice(["claude"]))
def agents_hook(agent: str) -> None:
    """The Claude Code PreToolUse hook: reads the event on stdin; a `git commit` is reviewed.

    Exit 0 allows the command, 2 blocks it (findings on stderr). Installed into
    .claude/settings.json by `specflow agents install claude`.

    \b
    Example:
        specflow agents hook claude < pretooluse-event.json
    """
    from specflow.agents.claude_hook import run_hook

    result = run_hook(sys.stdin.buffer.read(), os.environ, os.getcwd())
    if result.stderr:
        click.echo(result.stderr, err=True, nl=False)
    click.get_current_context().exit(result.code)


def _report_agents(outcome: Any) -> None:
    for line in outcome.done:
        click.echo(line)
    for line in outcome.kept:
        click.echo(line, err=True)
    if outcome.kept:
        click.get_current_context().exit(1)
