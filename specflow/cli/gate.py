"""The review gate and the git hook: review, hook install/uninstall."""

from __future__ import annotations

import os
from typing import Any, cast

import click

from specflow.cli.app import (
    _workspace,
    cli,
    model_option,
    provider_option,
    reply_option,
    task_option,
)
from specflow.errors import UsageError
from specflow.stages import records


@cli.command()
@click.option("--staged", is_flag=True, help="Review the staged change (the default).")
@click.option("--range", "rev_range", metavar="A..B", help="Review a range of commits (CI).")
@click.option(
    "--files",
    "files",
    multiple=True,
    metavar="PATH",
    help="Review these files' changes against HEAD (repeatable).",
)
@task_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    help="text, json, or GitHub Actions annotations (plus $GITHUB_STEP_SUMMARY).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (short for --format json).")
@click.option(
    "--threshold",
    type=click.Choice(records.SEVERITIES),
    help="Lowest severity that blocks.",
)
@click.option(
    "--no-cache", is_flag=True, help="Ask the model even if this change was reviewed before."
)
@click.option(
    "--fail-open/--fail-closed",
    "fail_open",
    default=None,
    help="When no review can run: pass (exit 0), or fail (exit 3, the default when CI=true).",
)
@click.option("-v", "--verbose", is_flag=True, help="Also say which decoding settings are sent.")
@reply_option
@provider_option
@model_option
def review(
    staged: bool,
    rev_range: str | None,
    files: tuple[str, ...],
    fmt: str,
    as_json: bool,
    **rest: Any,
) -> None:
    """Check a change against the spec and the rules. Four outcomes, each with its exit code:

    PASS 0 (a review ran and held); FAIL 1 (a finding at or above the threshold);
    NOT REVIEWED 0 locally, 3 in CI (no model, provider unreachable, skipped: with the
    reason and the command that would review it); BLOCKED 1 (a staged secret, an oversized
    change). Without an API key, `--reply FILE` records the verdict for this exact change and
    the next `git commit` enforces it.

    \b
    Example:
        specflow review --staged
        specflow review --range origin/main..HEAD --format github
    """
    from specflow.stages.review.command import Format, GateRequest, review_gate
    from specflow.stages.review.github import append_summary
    from specflow.stages.review.memo import Mode

    if sum((staged, bool(rev_range), bool(files))) > 1:
        raise UsageError("pass one of --staged, --range or --files")
    mode: Mode = "range" if rev_range else "files" if files else "staged"
    # The remaining options are named as GateRequest's fields.
    request = GateRequest(mode=mode, rev_range=rev_range, files=files, **rest)
    outcome = review_gate(request, os.environ)
    chosen: Format = "json" if as_json else cast(Format, fmt)
    click.echo(outcome.render(chosen), nl=False)
    if chosen == "github":
        append_summary(outcome.data, os.environ)
    if outcome.exit_code:
        click.get_current_context().exit(outcome.exit_code)


@cli.group()
def hook() -> None:
    """Install or remove the git pre-commit hook that runs `specflow review --staged`.

    \b
    Example:
        specflow hook install
    """


@hook.command("install")
@click.option("--force", is_flag=True, help="Rewrite the hook even if one is installed.")
def hook_install(force: bool) -> None:
    """Write .git/hooks/pre-commit; an existing hook is kept and run first.

    \b
    Example:
        specflow hook install
    """
    from specflow.gitx.hooks import install_hook

    click.echo(install_hook(_workspace().root, force=force))


@hook.command("uninstall")
def hook_uninstall() -> None:
    """Remove specflow's hook and restore the hook it chained, if any.

    \b
    Example:
        specflow hook uninstall
    """
    from specflow.gitx.hooks import uninstall_hook

    click.echo(uninstall_hook(_workspace().root))
