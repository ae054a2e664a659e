"""The command line: parse, call the library, print. No logic lives here.

Only click is imported at module level so that `specflow --help` starts instantly; each
command imports what it needs when it runs.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from specflow import __version__

if TYPE_CHECKING:
    from specflow.stages.session import Handoff, Session
    from specflow.store.workspace import Workspace

STAGES = ("scope", "spec", "implement", "review")


class SpecflowGroup(click.Group):
    """Turns SpecflowError into its message and exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            from specflow.errors import failure_exit

            ctx.exit(failure_exit(exc))


def _echo_json(data: Any) -> None:
    import json  # not at the top: `specflow --help` and most commands print no JSON

    click.echo(json.dumps(data, indent=2))


def run() -> int:
    """Console-script entry point; returns the exit code."""
    try:
        # Without standalone mode, click returns ctx.exit()'s code instead of exiting.
        code = cli.main(prog_name="specflow", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        from specflow.errors import silence_stdout

        silence_stdout()
        return 0
    return code if isinstance(code, int) else 0


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
    from specflow.resources import data_file

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
def new(description: str, name: str | None, context: tuple[str, ...]) -> None:
    """Describe a new task (the describe stage) and make it current.

    \b
    Example:
        specflow new "Add retry with backoff to the uploader" --context src/upload.py
    """
    from specflow.config import load_config
    from specflow.errors import UsageError
    from specflow.stages.describe import read_context, render_describe

    if not description.strip():
        raise UsageError('the description is empty; say what the task is: specflow new "..."')
    ws = _workspace()
    config = load_config(ws.config_path)
    files = [read_context(ws.root, raw, config.context.max_file_bytes) for raw in context]
    files = list({f.path: f for f in files}.values())  # the same file twice is attached once
    title = description.strip().splitlines()[0]
    task = ws.create_task(title, render_describe(description, files), [f.path for f in files], name)
    click.echo(f"Created task {task.slug} ({ws.rel(ws.task_dir(task.slug))}/describe.md)")
    if not ws.config_path.exists():
        click.echo("Tip: `specflow init` writes a config you can tune.", err=True)
    click.echo("Next: specflow scope")


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
def status(as_json: bool) -> None:
    """Show every task, its state and artifacts, and which is current.

    \b
    Example:
        specflow status --json
    """
    from specflow.config import load_config

    ws = _workspace()
    load_config(ws.config_path, os.environ)  # a broken config is named here as everywhere
    rows, problems = ws.status_rows()
    if as_json:
        _echo_json({"tasks": rows})
    elif not rows:
        click.echo('No tasks yet. Start one with: specflow new "DESCRIPTION"')
    else:
        width = max(len(r["slug"]) for r in rows)
        for r in rows:
            mark = "*" if r["current"] else " "
            artifacts = ", ".join(r["artifacts"])
            click.echo(f"{mark} {r['slug']:<{width}}  {r['state']:<12}  {artifacts}")
    if problems:
        from specflow.errors import StateError

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


DEFAULT_ARTIFACT = {
    "described": "describe",
    "scoped": "scope",
    "answered": "answers",
    "blocked": "scope",
    "specced": "spec",
    "implementing": "spec",
}


@cli.command()
@click.argument("artifact", required=False)
@task_option
def show(artifact: str | None, task_slug: str | None) -> None:
    """Print an artifact of the task: describe, scope, answers, spec, ...

    Without ARTIFACT, prints the newest one for the task's state.

    \b
    Example:
        specflow show spec --task prometheus-exporter
    """
    ws = _workspace()
    task = ws.resolve(task_slug)
    name = artifact or DEFAULT_ARTIFACT[task.state]
    ws.shown_artifact(task, name)  # a file of the task folder, nothing outside it
    click.echo(ws.read_artifact(task, name), nl=False)


# -- stages ---------------------------------------------------------------------------------


@cli.command()
@task_option
@reply_option
@provider_option
@model_option
def scope(
    task_slug: str | None, reply: str | None, provider: str | None, model: str | None
) -> None:
    """Ask the model for 5–8 pointed questions, the risks, and a simplification.

    A blocker reply (missing credentials, payloads, confirmed behaviour) marks the task
    blocked and says what is needed.

    \b
    Example:
        specflow scope
        specflow scope --reply answer.md
    """
    from specflow.stages.scope import run_scope
    from specflow.stages.session import Handoff

    session = _session(provider, model)
    task = session.ws.resolve(task_slug)
    result = run_scope(session, task, reply)
    if isinstance(result, Handoff):
        _print_handoff(result, session)
        return
    rel = session.ws.rel(result.path)
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
@click.argument("text", required=False)
@task_option
def answer(number: int | None, text: str | None, task_slug: str | None) -> None:
    """Answer the scoping questions, one by one on a terminal, or one at a time by number.

    `skip: <reason>` is a valid answer.

    \b
    Example:
        specflow answer
        specflow answer 3 "Postgres 15; the table has 2M rows"
    """
    from specflow.errors import UsageError
    from specflow.stages.scope import record_answer, unanswered

    session = _session()
    task = session.ws.resolve(task_slug)
    if number is not None and text is not None:
        record_answer(session, task, number, text)
        click.echo(f"Recorded the answer to question {number}.")
    elif not _interactive():
        raise UsageError(
            "no terminal to ask on; edit "
            f"{session.ws.rel(session.ws.artifact_path(task, 'answers'))} or pass the answer: "
            'specflow answer N "TEXT"'
        )
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


def _interactive() -> bool:
    return sys.stdin.isatty()


@cli.command()
@task_option
@reply_option
@provider_option
@model_option
def spec(task_slug: str | None, reply: str | None, provider: str | None, model: str | None) -> None:
    """Write the spec: the template's headings, directives, error matrix, UNKNOWNs.

    Refuses while a scoping question has no answer. After `specflow resolve`, running it
    again revises the spec with the resolutions.

    \b
    Example:
        specflow spec
    """
    from specflow.stages.session import Handoff
    from specflow.stages.spec import run_spec

    session = _session(provider, model)
    task = session.ws.resolve(task_slug)
    result = run_spec(session, task, reply)
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
@click.argument("stage", type=click.Choice(["scope", "spec", "implement"]))
@task_option
@click.option("--file", "path", metavar="PATH", help="implement: the file to write.")
def prompt(stage: str, task_slug: str | None, path: str | None) -> None:
    """Print a stage's fully rendered prompt without calling a model.

    For implement, the prompt of a fresh conversation for --file PATH.

    \b
    Example:
        specflow prompt scope | pbcopy
        specflow prompt implement --file src/app.py
    """
    from specflow.stages.session import format_prompt

    session = _session()
    task = session.ws.resolve(task_slug)
    if stage == "scope":
        from specflow.stages.scope import prepare_scope

        prepared = prepare_scope(session, task)[0]
    elif stage == "spec":
        from specflow.stages.spec import prepare_spec

        prepared = prepare_spec(session, task)
    else:
        from specflow.errors import UsageError
        from specflow.stages.implement.stage import prompt_for

        if not path:
            raise UsageError("`specflow prompt implement` needs --file PATH")
        prepared = prompt_for(session, task, path)
    click.echo(format_prompt(prepared), nl=False)


@cli.command()
@click.argument("stage", type=click.Choice(STAGES))
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--path", "target", metavar="PATH", help="implement: the file the reply must hold.")
def check(stage: str, file: str, target: str | None) -> None:
    """Check a file against a stage's output contract, offline.

    Prints each violation with its line; exit 0 when the file holds, 1 when it does not.

    \b
    Example:
        specflow check spec .specflow/tasks/exporter/spec.md
    """
    from specflow.stages.check import run_check

    code = run_check(stage, file, target)
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
    from pathlib import Path

    from specflow.config import load_config
    from specflow.errors import UsageError
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
    from specflow.reports import format_models

    click.echo(format_models(report), nl=False)


@cli.command()
@task_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def log(task_slug: str | None, as_json: bool) -> None:
    """Summarise the task's model exchanges per stage: calls, retries, tokens, cost.

    \b
    Example:
        specflow log --json
    """
    from specflow.reports import format_log
    from specflow.store.transcript import read, summarize

    ws = _workspace()
    task = ws.resolve(task_slug)
    summary = summarize(read(ws.task_dir(task.slug) / "transcript.jsonl"))
    if as_json:
        _echo_json({"task": task.slug, "stages": summary})
    else:
        click.echo(format_log(task.slug, summary), nl=False)


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
@reply_option
@provider_option
@model_option
def implement(
    path: str,
    task_slug: str | None,
    force: bool,
    fresh: bool,
    allow_unplanned: bool,
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
        reply=reply,
    )
    if isinstance(result, Handoff):
        _print_handoff(result, session)
        return
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
    raise_if_tests_failed(result)


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
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--threshold",
    type=click.Choice(["BLOCKER", "MAJOR", "MINOR", "NIT"]),
    help="Lowest severity that blocks.",
)
@click.option(
    "--no-cache", is_flag=True, help="Ask the model even if this change was reviewed before."
)
@click.option(
    "--fail-open/--fail-closed",
    "fail_open",
    default=None,
    help="When the provider cannot be reached: pass, or block.",
)
@reply_option
@provider_option
@model_option
def review(
    staged: bool,
    rev_range: str | None,
    files: tuple[str, ...],
    task_slug: str | None,
    as_json: bool,
    threshold: str | None,
    no_cache: bool,
    fail_open: bool | None,
    reply: str | None,
    provider: str | None,
    model: str | None,
) -> None:
    """Check a change against the spec and the rules; exit 1 when a finding blocks.

    What the git hook and the pre-commit framework run. Exit 0 pass, 1 blocked,
    3 provider unreachable and failing closed (the default when CI=true).

    \b
    Example:
        specflow review --staged
        specflow review --range origin/main..HEAD --json
    """
    from pathlib import Path

    from specflow.stages.review import memo as review_memo
    from specflow.store.repo import find_root

    if sum((staged, bool(rev_range), bool(files))) > 1:
        from specflow.errors import UsageError

        raise UsageError("pass one of --staged, --range or --files")
    chosen: review_memo.Mode = "range" if rev_range else "files" if files else "staged"
    root = find_root(Path.cwd())
    diff = review_memo.read_diff(root, chosen, rev_range, files)
    asked = (chosen, rev_range, files, task_slug, threshold, fail_open, provider, model)
    memo = None
    if not no_cache and reply is None and review_memo.memo_enabled():
        # A change judged before is answered without loading the config, the task store or
        # the prompts (see review_memo): a hook's re-run takes a few hundredths of a second.
        memo = review_memo.memo_key(root, diff, asked, os.environ)
        known = review_memo.recall(root, memo)
        if known is not None:
            if as_json:
                _echo_json(known.data)
            else:
                click.echo(known.text, nl=False)
            if known.blocked:
                click.get_current_context().exit(1)
            return

    from dataclasses import replace

    from specflow.stages.review.gate import ReviewOptions, format_result, run_review

    options = ReviewOptions(
        mode=chosen,
        rev_range=rev_range,
        paths=list(files),
        task_slug=task_slug,
        threshold=threshold,
        use_cache=not no_cache,
        fail_open=fail_open,
        reply=reply,
    )
    session = _session(provider, model)
    result = run_review(
        session, options, ci=os.environ.get("CI", "").lower() in ("1", "true", "yes"), diff=diff
    )
    if as_json:
        _echo_json(result.to_json())
    else:
        click.echo(format_result(result), nl=False)
    if memo is not None and result.memo_verdict is not None:
        # Remember only what the hashed inputs still give: nothing was edited meanwhile.
        if review_memo.memo_key(root, diff, asked, os.environ) == memo:
            again = replace(result, cached=True)  # a re-run is answered from the cache
            remembered = review_memo.Remembered(
                format_result(again), again.to_json(), again.blocked
            )
            review_memo.remember(root, memo, remembered, result.memo_verdict)
    if result.blocked:
        click.get_current_context().exit(1)


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
