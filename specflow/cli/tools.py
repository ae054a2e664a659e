"""Offline tools: check, models, log, rules lint, secrets scan/allow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from specflow.cli.app import (
    STAGES,
    _echo_json,
    _workspace,
    cli,
    model_option,
    provider_option,
    task_option,
)
from specflow.errors import UsageError
from specflow.stages.check import review_diff, run_check


@cli.command()
@click.argument("stage", type=click.Choice(STAGES))
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--path", "target", metavar="PATH", help="implement: the file the reply must hold.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--staged", is_flag=True, help="review: judge findings against the staged change.")
@click.option("--range", "rev_range", metavar="A..B", help="review: ... against a commit range.")
def check(
    stage: str, file: str, target: str | None, as_json: bool, staged: bool, rev_range: str | None
) -> None:
    """Check a file against a stage's output contract, offline.

    Prints each violation with its line; exit 0 when the file holds, 1 when it does not.

    \b
    Example:
        specflow check spec .specflow/tasks/exporter/spec.md
    """
    diff = review_diff(stage, staged, rev_range)
    code = run_check(stage, file, target, as_json, diff)
    if code:
        click.get_current_context().exit(code)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@provider_option
@model_option
def models(as_json: bool, provider: str | None, model: str | None) -> None:
    """Show the capability table and exactly what each stage will send.

    \b
    Example:
        specflow models --model claude-haiku-4-5
    """
    from specflow.config import load_config
    from specflow.providers.capabilities import stage_report
    from specflow.store.workspace import Workspace

    try:
        config_path: Path | None = Workspace.find().config_path
    except UsageError:
        config_path = None  # outside a repository: the defaults and the environment
    config = load_config(config_path, os.environ, provider, model)
    report = stage_report(config, os.environ)
    if as_json:
        _echo_json(report)
        return
    from specflow.reports import format_models  # the config and the table: pydantic

    click.echo(format_models(report), nl=False)


@cli.command()
@task_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def log(task_slug: str | None, as_json: bool) -> None:
    """Summarise the task's model exchanges per stage: calls, retries, tokens, cost, model.

    Each stage's cost is at its own model's prices; the last line compares the task's cost
    with the global model for every stage.

    \b
    Example:
        specflow log --json
    """
    from specflow.config import load_config
    from specflow.reports import format_log, log_report
    from specflow.store.transcript import read

    ws = _workspace()
    task = ws.resolve(task_slug)
    config = load_config(ws.config_path, os.environ)
    records = read(ws.task_dir(task.slug) / "transcript.jsonl")
    report = log_report(records, config, os.environ)
    if as_json:
        _echo_json({"task": task.slug, **report})
    else:
        summary, comparison = report["stages"], report["comparison"]
        click.echo(format_log(task.slug, summary, comparison), nl=False)


# -- rules lint ---------------------------------------------------------------------------------


@cli.group()
def rules() -> None:
    """Inspect the rules every stage sends (packaged, or ejected under .specflow/rules/).

    \b
    Example:
        specflow rules lint
    """


@rules.command("lint")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rules_lint(as_json: bool) -> None:
    """Report the rules' tokens and find hedges, filler, duplicates and contradictions.

    Exit 0 when clean, 1 with findings (each with file:line and a fix).

    \b
    Example:
        specflow rules lint --json
    """
    from specflow.contracts import rules_lint as lint
    from specflow.stages.anchoring import estimate_tokens

    files = lint.rules_in_force(lint.project_rules_dir(os.getcwd()))
    report = lint.lint_rules(files, estimate_tokens)
    if as_json:
        _echo_json(report.to_json())
    else:
        click.echo(lint.format_report(report), nl=False)
    if report.findings:
        click.get_current_context().exit(1)


# -- secrets: the scanner on its own, and the allowlist -------------------------------------


@cli.group()
def secrets() -> None:
    """Scan for secrets, and allow a known false positive.

    \b
    Example:
        specflow secrets scan --staged
        specflow secrets allow github-token:3f9a0c1d2b4e5f60 --reason "revoked test token"
    """


@secrets.command("scan")
@click.option("--staged", is_flag=True, help="Scan the lines the staged change adds.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
def secrets_scan(staged: bool, as_json: bool, paths: tuple[str, ...]) -> None:
    """Find secrets in files, folders or the staged change. Exit 1 when any is found.

    Each finding shows its rule, path:line, the variable and the value's first characters,
    and the id `specflow secrets allow` takes.

    \b
    Example:
        specflow secrets scan src/ config/settings.py
        specflow secrets scan --staged --json
    """
    from pathlib import Path

    from specflow.gitx.scan import format_report, report_json, scan

    report = scan(Path.cwd(), staged, [Path(p) for p in paths])
    if as_json:
        click.echo(json.dumps(report_json(report), indent=2))
    else:
        click.echo(format_report(report), nl=False)
    if report.findings:
        click.get_current_context().exit(1)


@secrets.command("allow")
@click.argument("finding_id")
@click.option("--reason", required=True, help="Why this finding is not a secret.")
def secrets_allow(finding_id: str, reason: str) -> None:
    """Allow a finding by its id (from `secrets scan` or the review gate), with a reason.

    Writes the id (a fingerprint of rule and value, never the value) to
    .specflow/secrets-allow.toml; the same value is then skipped everywhere.

    \b
    Example:
        specflow secrets allow github-token:3f9a0c1d2b4e5f60 --reason "revoked test token"
    """
    import datetime
    from pathlib import Path

    from specflow.gitx.allowlist import allow_finding
    from specflow.store.repo import find_root

    path = allow_finding(Path(find_root(Path.cwd())), finding_id, reason, datetime.date.today())
    click.echo(f"allowed {finding_id} in {path}")
