"""Commands that set up specflow and manage tasks: init, new, status, use, show, answer,
unknowns, resolve, done."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from specflow.errors import StateError, UsageError
from specflow.resources import data_file
from specflow.stages.check import read_stdin

if TYPE_CHECKING:
    from specflow.stages.session import Session


from specflow.cli.app import (
    DEFAULT_ARTIFACT,
    _echo_json,
    _session,
    _workspace,
    cli,
    task_option,
)

# -- set-up and tasks -----------------------------------------------------------------------


@cli.command()
@click.option(
    "--eject",
    is_flag=True,
    help="Copy the packaged templates and rules into .specflow/ to customise.",
)
@click.option(
    "--force", is_flag=True, help="Rewrite an existing config (the old one is kept as a backup)."
)
def init(eject: bool, force: bool) -> None:
    """Set up specflow in this git repository.

    Writes .specflow/config.toml (every setting, documented) and ignores .specflow/cache/.

    \b
    Example:
        specflow init --eject
    """
    ws = _workspace()
    text = data_file("config.toml").read_text(encoding="utf-8")
    for line in ws.init(text, force=force, eject=eject):
        click.echo(line)


@cli.command("new")
@click.argument("description", required=False, default="")
@click.option("--name", metavar="SLUG", help="Name the task folder instead of deriving it.")
@click.option(
    "--context", "context", multiple=True, metavar="PATH", help="A file to attach (repeatable)."
)
@click.option("--quick", is_flag=True, help="Skip scoping: write a minimal spec for --file.")
@click.option(
    "--file", "files", multiple=True, metavar="PATH", help="--quick: the file (at most two)."
)
def new(
    description: str,
    name: str | None,
    context: tuple[str, ...],
    quick: bool,
    files: tuple[str, ...],
) -> None:
    """Describe a new task (the describe stage) and make it current.

    With --quick and one or two --file, the task skips scoping: specflow writes a minimal
    spec (Intent from the description, the files as the plan) and the task is ready for
    `specflow implement`.

    \b
    Example:
        specflow new "Add retry with backoff to the uploader" --context src/upload.py
        specflow new "Fix the off-by-one in paginate()" --quick --file src/pages.py
    """
    from specflow.config import load_config
    from specflow.stages.session import Session
    from specflow.stages.spec import check_quick_new, write_quick_spec

    if not description.strip():
        raise UsageError('the description is empty; say what the task is: specflow new "..."')
    if files and not quick:
        raise UsageError("--file belongs to --quick; add --quick, or drop --file")
    ws = _workspace()
    config = load_config(ws.config_path)
    session = Session(ws, config, dict(os.environ))
    plan = check_quick_new(session, description, list(files)) if quick else None
    task = _create_task(session, description, context, name)
    if plan is None:
        click.echo("Next: specflow scope")
        return
    result = write_quick_spec(session, task, plan)
    click.echo(f"Wrote {ws.rel(result.path)} (quick task: no scoping).")
    click.echo(f"Next: specflow implement --file {result.file_plan[0]}")


def _create_task(
    session: Session, description: str, context: tuple[str, ...], name: str | None
) -> Any:
    """The describe stage proper: the task folder with describe.md and its context files."""
    from specflow.stages.describe import read_context, render_describe

    ws = session.ws
    limit = session.config.context.max_file_bytes
    attached = [read_context(ws.root, raw, limit) for raw in context]
    attached = list({f.path: f for f in attached}.values())  # the same file twice: once
    title = description.strip().splitlines()[0]
    describe_md = render_describe(description, attached)
    task = ws.create_task(title, describe_md, [f.path for f in attached], name)
    click.echo(f"Created task {task.slug} ({ws.rel(ws.task_dir(task.slug))}/describe.md)")
    if not ws.config_path.exists():
        click.echo(
            f"note: specflow is not set up here yet (no {ws.rel(ws.config_path)}), so the task "
            "uses the default settings; run `specflow init` to write the config and ignore "
            ".specflow/cache/.",
            err=True,
        )
    return task


describe = click.Command(
    "describe",
    callback=new.callback,
    params=new.params,
    help=(new.help or "").replace(
        "Describe a new task", "Alias of `specflow new`: describe a new task", 1
    ),
    short_help="Alias of `specflow new`.",
)
cli.add_command(describe)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "show_all", is_flag=True, help="List archived (done) tasks too.")
def status(as_json: bool, show_all: bool) -> None:
    """Show every task, its state, plan progress and artifacts, and which is current.

    For the current task, one line per planned file with its state.

    \b
    Example:
        specflow status --json
        specflow status --all
    """
    from specflow.config import load_config
    from specflow.stages.lifecycle import format_status, status_rows

    ws = _workspace()
    load_config(ws.config_path, os.environ)  # a broken config is named here as everywhere
    rows, problems = status_rows(ws, show_all)
    if as_json:
        _echo_json({"tasks": rows})
    elif not rows:
        click.echo('No tasks yet. Start one with: specflow new "DESCRIPTION"')
    else:
        click.echo(format_status(rows), nl=False)
    if problems:
        raise StateError("\n".join(str(p) for p in problems))


@cli.command()
@click.argument("slug")
def use(slug: str) -> None:
    """Make another task the current one.

    \b
    Example:
        specflow use prometheus-exporter
    """
    ws = _workspace()
    ws.set_current(slug)
    click.echo(f"Current task: {slug}")


@cli.command()
@click.argument("artifact", required=False)
@task_option
def show(artifact: str | None, task_slug: str | None) -> None:
    """Print an artifact of the task: describe, scope, answers, spec, plan, ...

    Without ARTIFACT, prints the newest one for the task's state. `plan` prints the spec's
    file plan with each file's state. Works on archived (done) tasks with --task SLUG.

    \b
    Example:
        specflow show spec --task prometheus-exporter
        specflow show plan
    """
    from specflow.stages.lifecycle import format_plan, read_plan, shown_by_default

    ws = _workspace()
    task, folder = ws.task_folder(task_slug)
    name = artifact or shown_by_default(folder, DEFAULT_ARTIFACT[task.state])
    entries = read_plan(ws, task, folder)
    if name == "plan" and entries is not None:
        click.echo(format_plan(entries), nl=False)
        return
    extra = ("plan",) if entries is not None else ()
    click.echo(ws.read_shown(task, folder, name, extra), nl=False)


@cli.command()
@click.argument("number", type=int, required=False)
@click.argument("text", nargs=-1)
@task_option
def answer(number: int | None, text: tuple[str, ...], task_slug: str | None) -> None:
    """Answer the scoping questions: one by one on a terminal, by number, or from a pipe.

    The words after N are the answer (no quotes needed). Without a terminal, answers are read
    from standard input: one per line for the open questions in order, or `N: text` lines.
    `skip: <reason>` is a valid answer.

    \b
    Example:
        specflow answer
        specflow answer 3 Postgres 15, the table has 2M rows
        printf '1: 19c\\n2: skip: not known yet\\n' | specflow answer
    """
    from specflow.stages.scope import record_answer, unanswered

    session = _session()
    task = session.ws.resolve(task_slug)
    words = " ".join(text)
    if number is not None and words:
        record_answer(session, task, number, words)
        click.echo(f"Recorded the answer to question {number}.")
    elif not _interactive():
        _piped_answers(session, task, number)
    else:
        todo = [a for a in unanswered(session, task) if number is None or a.n == number]
        for item in todo:
            reply = click.prompt(f"{item.n}. {item.question}\n>", prompt_suffix=" ")
            record_answer(session, task, item.n, reply)
    left = unanswered(session, task)
    click.echo(
        f"{len(left)} question(s) still open."
        if left
        else "All questions answered. Next: specflow spec"
    )


def _piped_answers(session: Session, task: Any, number: int | None) -> None:
    """Record the answers on standard input (for question *number* only: all of it)."""
    from specflow.contracts.answers import parse_answers
    from specflow.errors import UsageError
    from specflow.stages.answer_input import parse_piped_answers
    from specflow.stages.scope import record_answer, unanswered

    piped = read_stdin()
    if not piped.strip():
        raise UsageError(
            "no terminal to ask on; edit "
            f"{session.ws.rel(session.ws.artifact_path(task, 'answers'))} or pass the answer: "
            'specflow answer N "TEXT"'
        )
    if number is not None:
        answers = {number: piped.strip()}
    else:
        numbers = [a.n for a in parse_answers(session.ws.read_artifact(task, "answers"))]
        answers = parse_piped_answers(piped, [a.n for a in unanswered(session, task)], numbers)
    for n, text in sorted(answers.items()):
        record_answer(session, task, n, text)
        click.echo(f"Recorded the answer to question {n}.")


def _interactive() -> bool:
    return sys.stdin.isatty()


@cli.command()
@task_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def unknowns(task_slug: str | None, as_json: bool) -> None:
    """List the spec's UNKNOWN items with their ids and status.

    \b
    Example:
        specflow unknowns --json
    """
    ws = _workspace()
    task = ws.resolve(task_slug)
    items = [u.model_dump() for u in task.unknowns]
    if as_json:
        _echo_json({"task": task.slug, "unknowns": items})
        return
    if not items:
        click.echo("No UNKNOWN items.")
    for u in task.unknowns:
        click.echo(f"{u.id} [{u.status}] {u.what}")
        click.echo(f"    verify: {u.verify}; blocks: {u.blocks}")
        if u.resolution:
            click.echo(f"    resolution: {u.resolution}")


@cli.command()
@click.argument("uid", metavar="ID")
@click.argument("text")
@task_option
def resolve(uid: str, text: str, task_slug: str | None) -> None:
    """Record what you found for an UNKNOWN item; the next `specflow spec` applies it.

    \b
    Example:
        specflow resolve U2 "The API returns 429 with Retry-After in seconds"
    """
    from specflow.stages.spec import resolve_unknown

    session = _session()
    task = session.ws.resolve(task_slug)
    item = resolve_unknown(session, task, uid, text)
    click.echo(f"Resolved {item.id}. Run `specflow spec` to revise the spec with it.")


# -- task lifecycle: `specflow done` ------------------------------------------------------------


@cli.command("done")
@task_option
@click.option("--force", is_flag=True, help="Close the task even with planned files not written.")
def done(task_slug: str | None, force: bool) -> None:
    """Close the task: mark it done and archive its folder under .specflow/archive/.

    Refuses (exit 2) while a planned file is pending or blocked, naming each, unless --force.
    The spec stays readable (`specflow show spec --task SLUG`); the review gate no longer
    checks changes against it.

    \b
    Example:
        specflow done
    """
    from specflow.stages.lifecycle import close_task

    ws = _workspace()
    task = ws.resolve(task_slug)
    closed = close_task(ws, task, force)
    for entry in closed.left:
        click.echo(f"closed with {entry.line()}", err=True)
    click.echo(f"Task {task.slug} is done; archived in {ws.rel(closed.folder)}/.")
    click.echo(f"Its spec: specflow show spec --task {task.slug}")
