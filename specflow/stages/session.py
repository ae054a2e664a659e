"""What every stage shares: the provider, the decoding notice, --reply, handoff, the run.

A stage module (scoping, speccing, implementing, review) prepares the request and says
what to do with a valid reply; this module does the rest the same way for all of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.config import Config, StageConfig
from specflow.contracts import quick
from specflow.contracts.paths import unsafe_path_reason
from specflow.contracts.registry import ContractContext
from specflow.contracts.rules import hedges_from_rules
from specflow.contracts.scope import MAX_QUESTIONS, MIN_QUESTIONS
from specflow.errors import UsageError
from specflow.providers.base import HandoffWritten, Reply, SystemBlock
from specflow.providers.capabilities import (
    ResolvedModel,
    estimate_cost,
    lifecycle,
    resolve_model,
)
from specflow.stages.prompts import Prompts
from specflow.stages.records import SEVERITIES
from specflow.store.fsutil import refused_write
from specflow.store.task import Task
from specflow.store.workspace import Workspace
from specflow.ui import StreamPrinter, notice

if TYPE_CHECKING:  # the engine is imported when a stage runs, not for a cached review
    from specflow.stages.engine import Contract, Outcome, Prepared, StageIO


@dataclass
class Session:
    """One command's view of the repository: workspace, config, prompts, environment."""

    ws: Workspace
    config: Config
    env: Mapping[str, str]
    prompts: Prompts = field(init=False)
    printer: StreamPrinter = field(default_factory=StreamPrinter)
    sleep: Callable[[float], None] | None = None
    noticed: set[str] = field(default_factory=set)  # stages whose decoding notice was shown
    # The review gate names its decoding settings only when asked (-v): it runs on every
    # commit, and `specflow models` shows the same plan on demand.
    verbose: bool = False

    def __post_init__(self) -> None:
        self.prompts = Prompts(self.ws.dir)

    @functools.cached_property
    def resolved(self) -> ResolvedModel:
        """The provider, model, capability row and decoding plans of this run, worked out
        once."""
        return resolve_model(self.config, self.env)

    def stage_config(self, stage: str) -> StageConfig:
        return self.config.stages.get(stage)


@dataclass
class Handoff:
    """The prompt was written for the user to paste; they continue with --reply."""

    path: Path
    command: str


def stage_command(session: Session, task: Task, base: str) -> str:
    """The command that re-runs a stage for *task*, as the user would type it."""
    return base if session.ws.current_slug() == task.slug else f"{base} --task {task.slug}"


def rules_blocks(
    session: Session,
    *,
    standards: bool,
    spec: str | None,
    cache_spec: bool = True,
    compact: bool = False,
) -> list[SystemBlock]:
    """The stable, cached prefix: rules (and standards), then the spec.

    With *compact* the standards are their title and review checklist, one line per item
    (rules_lint.compact_standards); the caller sends the full document where it is needed.
    """
    rules = session.prompts.rules()
    if standards:
        text = session.prompts.standards()
        if compact:
            from specflow.contracts.rules_lint import compact_standards

            text = compact_standards(text)
        rules = rules.rstrip() + "\n\n" + text
    blocks = [SystemBlock(rules, cache=True, label="rules")]
    if spec is not None:
        blocks.append(SystemBlock("# The spec\n\n" + spec, cache=cache_spec, label="spec"))
    return blocks


@contextmanager
def stage_lock(session: Session, task: Task, command: str) -> Iterator[None]:
    """Hold *task*'s stage lock while the block runs (a second stage of the task exits 2 at
    once, naming *command* and this pid). A lock file the OS refuses to create (read-only
    `.specflow/`, disk full) is an exit 2 naming its path and the reason, not a traceback."""
    with ExitStack() as stack:
        with refused_write(session.ws.lock_path(task)):
            stack.enter_context(session.ws.stage_lock(task, command))
        yield


def read_reply(source: str) -> tuple[str, str]:
    """The text of --reply FILE (or '-' for standard input), and a name for it."""
    if source == "-":
        from specflow.stages.check import read_stdin

        return read_stdin(), "standard input"
    path = Path(source)
    if path.is_dir():
        raise UsageError(f"--reply {source}: is a folder; name the reply file")
    if not path.is_file():
        raise UsageError(f"--reply {source}: no such file")
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except UnicodeDecodeError:
        raise UsageError(f"--reply {source}: not UTF-8 text") from None


def execute(
    session: Session,
    task: Task | None,
    prepared: Prepared,
    contract: Contract,
    *,
    reply: str | None,
    command: str,
) -> Outcome | Handoff:
    """Run *prepared* through the provider (or check --reply) until the contract holds."""
    from specflow.stages.engine import Outcome, check_reply_file, run_stage

    stage = prepared.stage
    io = _stage_io(session, task, stage, command)
    if reply is not None:
        text, source = read_reply(reply)
        result = check_reply_file(stage, text, contract, io, source)
        return Outcome(text, result.value, None, [], [])
    from specflow.providers.factory import make_provider

    handoff_reply = session.ws.handoff_reply_path(task, stage)
    continue_cmd = f"{command} --reply {session.ws.rel(handoff_reply)}"
    own = session.resolved.stage(stage)
    provider = make_provider(
        session.config,
        session.env,
        continue_hint=lambda _request: continue_cmd,
        resolved=session.resolved,
        stage=stage,
        **({"sleep": session.sleep} if session.sleep else {}),
    )
    stage_config = session.stage_config(stage)
    _decoding_notice(session, stage)
    if own.provider != "handoff":
        session.printer.waiting(f"{stage}: waiting for {own.model} ({own.provider})")
    try:
        return run_stage(
            prepared,
            provider,
            contract,
            model=own.model,
            decoding=own.plan.decoding,
            max_tokens=stage_config.max_tokens,
            max_retries=stage_config.max_retries,
            io=io,
        )
    except HandoffWritten as written:
        return Handoff(written.path, continue_cmd)
    finally:
        session.printer.done()


def _stage_io(session: Session, task: Task | None, stage: str, command: str) -> StageIO:
    from specflow.stages.engine import StageIO

    folder = session.ws.stage_home(task, stage)
    transcript = session.ws.transcript_path(task)
    cap = session.resolved.stage(stage).capability  # this stage's model's prices

    def render_reask(violations: list[str], attempt: int, max_attempts: int) -> str:
        return session.prompts.render(
            "reask.md.j2",
            stage=stage,
            violations=violations,
            attempt=attempt,
            max_attempts=max_attempts,
        )

    def on_attempt(attempt: int, violations: list[str]) -> None:
        session.printer.done()
        listed = "".join(f"\n  - {v}" for v in violations)
        notice(
            f"{stage}: reply {attempt} broke the contract (kept in attempts/); asking again "
            f"with:{listed}"
        )
        session.printer.retrying(f"{stage}: waiting for the corrected reply")

    def cost(reply: Reply) -> float:
        return estimate_cost(reply.usage, cap)

    return StageIO(
        transcript=transcript,
        keep_attempt=lambda text: session.ws.keep_attempt(folder, stage, text),
        render_reask=render_reask,
        cost=cost,
        on_text=session.printer,
        on_attempt=on_attempt,
        task_dir=session.ws.handoff_dir(folder),  # where a handoff prompt is written
        command=command,
        show_path=session.ws.rel,
    )


def _decoding_notice(session: Session, stage: str) -> None:
    """Say once per run which of the stage's settings are sent and which are not honoured
    (for the review gate only with -v)."""
    own = session.resolved.stage(stage)
    quiet = stage == "review" and not session.verbose
    if own.provider == "handoff" or stage in session.noticed or quiet:
        return
    session.noticed.add(stage)
    plan = own.plan
    shown = ", ".join(f"{k}={v}" for k, v in plan.send.items()) or "none"
    notice(f"{stage}: sending {shown} to {own.model} ({own.provider})")
    for knob, why in plan.withheld.items():
        notice(f"{stage}: not honoured: {knob} ({why})")
    if own.capability.status != "active":
        notice(f"{stage}: {lifecycle(own.model, own.capability)}")


def content_context(session: Session, **extra: Any) -> ContractContext:
    """The context the content checks need beyond the reply, from one place: the hedges of
    the rules file in use (a project's ejected rules.md changes them), the project's
    switched-off rule ids, and whether a repository-relative path is a file; *extra* adds
    a stage's own (headings, description, resolved UNKNOWNs, allow_quick)."""
    rules_file = Path(session.prompts.source_of("rules", "rules.md"))
    base: dict[str, Any] = {
        "hedges": hedges_from_rules(session.prompts.rules(), session.ws.rel(rules_file)),
        "disabled": disabled_rules(session.config),
        "exists": functools.partial(is_repo_file, session.ws.root),
    }
    base.update(extra)
    return ContractContext(**base)


def disabled_rules(config: Config) -> frozenset[str]:
    """The content rule ids the project switched off (`[contracts] disabled`; the config
    checked them against the rule table when it was read)."""
    return frozenset(config.contracts.disabled)


def is_repo_file(root: Path, rel: str) -> bool:
    """Whether *rel* names a file inside the repository at *root* (an unsafe path: no)."""
    return unsafe_path_reason(rel) is None and (root / rel).is_file()


def render_vars(session: Session, **extra: Any) -> dict[str, Any]:
    """Variables every template may use, so contract partials render in any stage.

    The values a contract also holds the reply to (question counts, severities, threshold)
    come from the same constants the contracts use; a caller that overrides the threshold
    passes it here *and* to the contract (see review/gate.py).
    """
    from specflow.contracts.self_review import parse_checklist
    from specflow.contracts.spec import template_headings

    base: dict[str, Any] = {
        "min_questions": MIN_QUESTIONS,
        "max_questions": MAX_QUESTIONS,
        "headings": template_headings(session.prompts.spec_template()),
        "spec_template": session.prompts.spec_template(),
        "checklist": parse_checklist(session.prompts.standards()),
        "severities": list(SEVERITIES),
        "threshold": session.config.review.threshold,
        "path": "",
        "allow_quick": True,  # scope: the quick-path form may be proposed
        "quick_max_sentences": quick.MAX_SENTENCES,
        "quick_min_directives": quick.MIN_DIRECTIVES,
        "quick_max_directives": quick.MAX_DIRECTIVES,
    }
    base.update(extra)
    return base


def format_prompt(prepared: Prepared) -> str:
    """The whole prompt as one Markdown document, for pasting into a chat or an agent."""
    parts = ["<!-- specflow: system prompt -->", ""]
    parts += [block.text.rstrip() + "\n" for block in prepared.system]
    for message in prepared.messages():
        parts += [f"<!-- specflow: {message.role} -->", "", message.full_text.rstrip() + "\n"]
    return "\n".join(parts)
