"""The command line: parse, call the library, print. No logic lives here.

Cheap modules are imported here at the top; what pulls in pydantic, jinja2, GitPython or a
model SDK (the config, the workspace, the stages), and the review gate and the hook installer
(git's subprocess plumbing and hashing, a fifth of `--help`'s start-up budget), are imported
inside the command that needs them, so `specflow --help` and a remembered review start at once.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from specflow import __version__
from specflow.errors import UsageError, failure_exit, silence_stdout
from specflow.stages import records

if TYPE_CHECKING:
    from specflow.stages.session import Handoff, Session
    from specflow.store.workspace import Workspace

STAGES = records.STAGES
DEFAULT_ARTIFACT = records.DEFAULT_ARTIFACT


class SpecflowGroup(click.Group):
    """Turns SpecflowError into its message and exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            ctx.exit(failure_exit(exc))


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


def run() -> int:
    """Console-script entry point; returns the exit code."""
    for arg in sys.argv[1:]:
        if not _is_utf8(arg):  # a byte the locale could not decode: refuse it before any write
            shown = arg.encode("utf-8", "backslashreplace").decode("utf-8")
            return failure_exit(UsageError(f"argument `{shown}` is not UTF-8 text; retype it"))
    try:
        # Without standalone mode, click returns ctx.exit()'s code instead of exiting.
        code = cli.main(prog_name="specflow", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        _show_click_error(exc)
        return exc.exit_code
    except click.Abort:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        silence_stdout()
        return 0
    return code if isinstance(code, int) else 0


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _show_click_error(exc: click.ClickException) -> None:
    """click's own errors (a bad option, a missing argument) in specflow's one style."""
    hint = ""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        hint = f"; see `{exc.ctx.command_path} --help`"
    click.echo(f"error: {exc.format_message().rstrip('.')}{hint}", err=True)


@click.group(cls=SpecflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="specflow", message="%(prog)s %(version)s")
def cli() -> None:
    """Spec-driven development with LLM coding agents.

    describe → scope → spec → implement, then a review gate at `git commit`.

    \b
    Example:
        specflow init
        specflow new "Prometheus exporter for the job table" --context docs/schema.sql
        specflow scope
    """


# -- helpers -----------------------------------------------------------------------------


def _workspace() -> Workspace:
    from specflow.store.workspace import Workspace

    return Workspace.find()


def _session(provider: str | None = None, model: str | None = None) -> Session:
    from specflow.config import load_config
    from specflow.stages.session import Session

    ws = _workspace()
    config = load_config(ws.config_path, os.environ, provider, model)
    return Session(ws, config, dict(os.environ))


def _print_handoff(handoff: Handoff, session: Session) -> None:
    click.echo(f"Wrote the prompt to {session.ws.rel(handoff.path)}", err=True)
    click.echo("Paste it into any chat or agent, save the answer, then continue with:", err=True)
    click.echo(f"  {handoff.command}", err=True)


task_option = click.option(
    "--task", "task_slug", metavar="SLUG", help="Task to use (default: current)."
)
reply_option = click.option(
    "--reply",
    metavar="FILE",
    help="Check and ingest a reply from FILE ('-' for stdin) instead of calling a model.",
)
provider_option = click.option(
    "--provider",
    type=click.Choice(["auto", "anthropic", "openai", "handoff"]),
    help="Override the configured provider.",
)
model_option = click.option("--model", metavar="ID", help="Override the configured model.")
