"""The stage commands: scope, spec, prompt, implement, next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from specflow.stages import records

if TYPE_CHECKING:
    from specflow.stages.implement.stage import ImplementResult
    from specflow.stages.session import Session


from specflow.cli.app import (
    _print_handoff,
    _session,
    cli,
    model_option,
    provider_option,
    reply_option,
    task_option,
)

# -- stages ---------------------------------------------------------------------------------


@cli.command()
@task_option
@reply_option
@provider_option
@model_option
@click.option("--full", is_flag=True, help="Decline the quick path: ask for questions.")
def scope(
    task_slug: str | None, reply: str | None, provider: str | None, model: str | None, full: bool
) -> None:
    """Ask the model for 5–8 pointed questions, the risks, and a simplification.

    A blocker reply (missing credentials, payloads, confirmed behaviour) marks the task
    blocked and says what is needed. For a one-file task the model may propose the quick
    path instead: accept it with `specflow spec --quick`, or decline it with --full.

    \b
    Example:
        specflow scope
        specflow scope --reply answer.md
        specflow scope --full
    """
    from specflow.stages.scope import run_scope
    from specflow.stages.session import Handoff

    session = _session(provider, model)
    task = session.ws.resolve(task_slug)
    result = run_scope(session, task, reply, full=full)
    if isinstance(result, Handoff):
        _print_handoff(result, session)
        return
    _print_scope(session, task, result)


def _print_scope(session: Session, task: Any, result: Any) -> None:
    rel = session.ws.rel(result.path)
    if result.quick is not None:
        click.echo(f"Wrote {rel}: the model proposes the quick path for {result.quick.file}:")
        click.echo(f"  {result.quick.why}")
        click.echo(
            "Accept it with `specflow spec --quick`, or ask for questions with "
            "`specflow scope --full`."
        )
        return
    if result.kind == "blocker":
        click.echo(f"The task is blocked; see {rel}. What is needed:")
        click.echo(result.needs)
        click.echo("Add it to describe.md, then run `specflow scope` again.")
        return
    click.echo(f"Wrote {rel} (round {result.round}, {len(result.questions)} questions):")
    for n, question in enumerate(result.questions, 1):
        click.echo(f"  {n}. {question}")
    answers = session.ws.rel(session.ws.artifact_path(task, "answers"))
    click.echo(f"Next: `specflow answer`, or edit {answers}; then `specflow spec`.")


@cli.command()
@task_option
@reply_option
@provider_option
@model_option
@click.option("--quick", is_flag=True, help="Accept the scope's quick path (no model call).")
def spec(
    task_slug: str | None, reply: str | None, provider: str | None, model: str | None, quick: bool
) -> None:
    """Write the spec: the template's headings, directives, error matrix, UNKNOWNs.

    Refuses while a scoping question has no answer. After `specflow resolve`, running it
    again revises the spec with the resolutions. With --quick, writes the minimal spec of
    the scope's quick-path proposal without a model call.

    \b
    Example:
        specflow spec
        specflow spec --quick
    """
    from specflow.stages.session import Handoff
    from specflow.stages.spec import accept_quick, run_spec

    session = _session(provider, model)
    task = session.ws.resolve(task_slug)
    result = accept_quick(session, task) if quick else run_spec(session, task, reply)
    if isinstance(result, Handoff):
        _print_handoff(result, session)
        return
    verb = "Revised" if result.revised else "Wrote"
    click.echo(f"{verb} {session.ws.rel(result.path)}.")
    if result.unknowns:
        click.echo(f"{len(result.unknowns)} UNKNOWN item(s) are open:")
        for item in result.unknowns:
            click.echo(f"  {item.id}: {item.what} (verify: {item.verify}; blocks: {item.blocks})")
        click.echo(
            'Resolve them with `specflow resolve ID "what you found"`, then `specflow spec`.'
        )
    elif result.file_plan:
        click.echo(f"Next: specflow implement --file {result.file_plan[0]}")


@cli.command()
@click.argument("stage", type=click.Choice([*records.PROMPT_STAGES, "review"]))
@task_option
@click.option("--file", "path", metavar="PATH", help="implement: the file to write.")
@click.option("--staged", is_flag=True, help="review: the staged change (the default).")
@click.option("--range", "rev_range", metavar="A..B", help="review: a range of commits.")
def prompt(
    stage: str, task_slug: str | None, path: str | None, staged: bool, rev_range: str | None
) -> None:
    """Print a stage's fully rendered prompt without calling a model.

    For implement, the prompt of a fresh conversation for --file PATH. For review, the
    prompt the gate sends for the staged change (or --range), secrets redacted.

    \b
    Example:
        specflow prompt scope | pbcopy
        specflow prompt implement --file src/app.py
        specflow prompt review --staged
    """
    from specflow.stages.session import format_prompt

    session = _session()
    if stage == "review":
        from specflow.stages.review.prompt import review_prompt

        if staged and rev_range:
            from specflow.errors import UsageError

            raise UsageError("pass one of --staged or --range")
        prepared, notes = review_prompt(
            session, "range" if rev_range else "staged", rev_range, task_slug
        )
        for note in notes:
            click.echo(f"note: {note}", err=True)
    else:
        task = session.ws.resolve(task_slug)
        prepared = records.record(stage).load("prepare")(session, task, path)
    click.echo(format_prompt(prepared), nl=False)


@cli.command()
@click.option("--file", "path", required=True, metavar="PATH", help="The one file to write.")
@task_option
@click.option(
    "--force", is_flag=True, help="Overwrite uncommitted changes of yours (a backup is kept)."
)
@click.option("--fresh", is_flag=True, help="Start a fresh implement conversation.")
@click.option(
    "--allow-unplanned", is_flag=True, help="Allow a file that is not in the spec's file plan."
)
@click.option(
    "--allow-stale-spec",
    is_flag=True,
    help="Implement from a spec written before `specflow resolve` (the transcript records it).",
)
@reply_option
@provider_option
@model_option
def implement(
    path: str,
    task_slug: str | None,
    force: bool,
    fresh: bool,
    allow_unplanned: bool,
    allow_stale_spec: bool,
    reply: str | None,
    provider: str | None,
    model: str | None,
) -> None:
    """Write one file of the spec, show the diff and the self-review, then stop.

    \b
    Example:
        specflow implement --file src/exporter/collector.py
    """
    from specflow.stages.implement.stage import raise_if_tests_failed, run_implement
    from specflow.stages.session import Handoff

    session = _session(provider, model)
    task = session.ws.resolve(task_slug)
    result = run_implement(
        session,
        task,
        path,
        force=force,
        fresh=fresh,
        allow_unplanned=allow_unplanned,
        allow_stale_spec=allow_stale_spec,
        reply=reply,
    )
    if isinstance(result, Handoff):
        _print_handoff(result, session)
        return
    _print_implemented(result)
    raise_if_tests_failed(result)


def _print_implemented(result: ImplementResult) -> None:
    """The diff, the self-review, the test run and what to do next."""
    click.echo(result.diff or f"{result.target.rel}: no change\n", nl=False)
    click.echo("\nSelf-review:")
    for item in result.reply.self_review:
        fix = f" — fix: {item.fix}" if item.fix else ""
        click.echo(f"  {item.name}: {item.status} — {item.reason}{fix}")
    if result.test:
        command, code, tail = result.test
        click.echo(f"\n$ {command}  (exit {code})")
        if tail:
            click.echo(tail)
    click.echo(f"\nWrote {result.target.rel}. Review it before going on.")
    if result.next_files:
        click.echo(f"Next: specflow implement --file {result.next_files[0]}")


# -- task lifecycle: the plan and `specflow next` ---------------------------------------------


@cli.command("next")
@task_option
@click.option(
    "--force", is_flag=True, help="Overwrite uncommitted changes of yours (a backup is kept)."
)
@click.option("--fresh", is_flag=True, help="Start a fresh implement conversation.")
@reply_option
@provider_option
@model_option
@click.pass_context
def next_file(
    ctx: click.Context,
    task_slug: str | None,
    force: bool,
    fresh: bool,
    reply: str | None,
    provider: str | None,
    model: str | None,
) -> None:
    """Implement the first pending, unblocked file of the spec's plan, or say what is in the way.

    \b
    Example:
        specflow next
    """
    from specflow.stages.implement.stage import plan_next

    session = _session(provider, model)
    step = plan_next(session, session.ws.resolve(task_slug))
    click.echo(step.message, err=step.path is not None)
    if step.path is None:
        return
    ctx.invoke(
        implement,
        path=str(session.ws.root / step.path),
        task_slug=task_slug,
        force=force,
        fresh=fresh,
        allow_unplanned=False,
        reply=reply,
        provider=provider,
        model=model,
    )
