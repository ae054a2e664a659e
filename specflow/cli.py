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
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from specflow import __version__
from specflow.errors import StateError, UsageError, failure_exit, silence_stdout
from specflow.resources import data_file
from specflow.stages import records
from specflow.stages.check import review_diff, run_check

if TYPE_CHECKING:
    from specflow.stages.implement.stage import ImplementResult
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
        specflow answer 3 Postgres 15; the table has 2M rows
        printf '1: 19c\n2: skip: not known yet\n' | specflow answer
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

    piped = sys.stdin.read()
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
    from specflow.agents.install import eject_templates

    for line in eject_templates(_workspace().root):
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
    import json
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

    path = allow_finding(find_root(Path.cwd()), finding_id, reason, datetime.date.today())
    click.echo(f"allowed {finding_id} in {path}")
