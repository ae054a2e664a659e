"""The implement stage: one file at a time against the spec, then stop for review.

This module assembles the request (prompt, anchoring decision), runs it, writes the file and
runs the test command. Target safety lives in target.py, the file plan and its UNKNOWNs in
plan.py, and the conversation store in conversation.py. The AnchorPolicy decides per request
whether to restate the rules at the tail (remind) or start a fresh conversation seeded with
the spec, the rules and a summary of the files done (reset).

Secrets: the spec, the file being implemented and the files already written pass the one
redaction path (gitx.secrets) before they are sent, so the model sees `«secret:RULE:FP4»`
placeholders, never a value. A reply that keeps a placeholder where the file on disk holds the
real value is refused (refuse_placeholders): writing it would destroy the user's secret.
"""

from __future__ import annotations

import difflib
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specflow.contracts.edits import EDIT_MIN_LINES, is_edit_reply, offers_edits
from specflow.contracts.models import ImplementReply, SpecDoc
from specflow.contracts.self_review import parse_checklist
from specflow.contracts.spec import check_spec, template_headings
from specflow.errors import CheckFailed, StateError
from specflow.gitx.allowlist import load_allowlist
from specflow.gitx.secrets import placeholders_over_secrets, redact_text
from specflow.providers.base import Message, SystemBlock
from specflow.stages.anchoring import AnchorPolicy, estimate_tokens
from specflow.stages.describe import LANGS
from specflow.stages.engine import Outcome, Prepared
from specflow.stages.implement.conversation import (
    Conversation,
    load_conversation,
    save_conversation,
)
from specflow.stages.implement.outline import line_count, outline
from specflow.stages.implement.plan import (
    NextStep,
    blocking_unknowns,
    check_plan,
    check_unknowns,
    next_files,
    next_step,
    one_line_summary,
    plan_paths,
    plan_progress,
    spec_directives,
    written_summaries,
)
from specflow.stages.implement.standards import (
    demoted,
    heading,
    relevant_sections,
    sent_headings,
)
from specflow.stages.implement.target import (
    Target,
    protect_user_changes,
    read_target,
    resolve_target,
    sha256,
)
from specflow.stages.prompts import do_not_items
from specflow.stages.session import (
    Handoff,
    Session,
    execute,
    render_vars,
    rules_blocks,
    stage_command,
)
from specflow.store.clock import now
from specflow.store.fsutil import atomic_write_text
from specflow.store.task import Task, WrittenFile
from specflow.store.transcript import Exchange, append

__all__ = [
    "ImplementResult",
    "Target",
    "blocking_unknowns",
    "plan_next",
    "prompt_for",
    "raise_if_tests_failed",
    "resolve_target",
    "run_implement",
]


@dataclass(frozen=True)
class ImplementResult:
    target: Target
    diff: str
    reply: ImplementReply
    next_files: list[str]
    test: tuple[str, int, str] | None  # (command, exit code, output tail)
    reanchor: str


STALE_SPEC = (
    "task `{slug}`: UNKNOWN items were resolved after the spec was written; run "
    "`specflow spec{flag}` to revise the spec with your resolutions (or pass "
    "--allow-stale-spec to implement from the spec as it is)"
)


def check_stale(session: Session, task: Task, allow: bool, command: str) -> None:
    """Refuse a spec written before the user's resolutions (exit 2), unless *allow*, which
    the transcript records."""
    if not task.spec_stale:
        return
    if not allow:
        flag = stage_command(session, task, "")
        raise StateError(STALE_SPEC.format(slug=task.slug, flag=flag))
    append(
        session.ws.transcript_path(task),
        Exchange(
            stage="implement",
            provider="-",
            model="-",
            kind="override",
            note=f"--allow-stale-spec: `{command}` ran on a spec written before the "
            "resolutions of " + ", ".join(u.id for u in task.unknowns if u.status == "resolved"),
        ),
    )


def load_spec(session: Session, task: Task) -> tuple[str, SpecDoc]:
    if task.state not in ("specced", "implementing"):
        first = "specflow spec" if task.state in ("scoped", "answered") else "specflow scope"
        raise StateError(f"task `{task.slug}` is {task.state}; run `{first}` first")
    text = session.ws.read_artifact(task, "spec")
    result = check_spec(text, template_headings(session.prompts.spec_template()))
    if result.value is None:
        listed = "\n".join(f"  - {v}" for v in result.violations)
        raise StateError(
            f"{session.ws.rel(session.ws.artifact_path(task, 'spec'))} no longer holds the spec "
            f"contract (edited by hand?):\n{listed}\nFix it, then run implement again."
        )
    return text, result.value


# -- the request ---------------------------------------------------------------------------


def _other_files(session: Session, task: Task, target: Target) -> list[tuple[WrittenFile, str]]:
    """The task's other written files with their content on disk now ("" when deleted)."""
    found = []
    for record in task.files:
        if record.path != target.rel:
            path = session.ws.root / record.path
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
            found.append((record, text))
    return found


def done_files(
    session: Session, task: Task, target: Target, fresh_conversation: bool
) -> list[dict[str, Any]]:
    """Files specflow wrote earlier, as they are on disk now.

    In a continuing conversation the model has seen what it wrote (or its outline), so only
    files the user changed since are shown (with the diff and the whole content); a fresh
    conversation gets every file as the conversation would keep it: its outline with
    `history = "outline"` (a short file, or one with no outline, whole), else its content.
    """
    files = []
    outlined = session.config.stages.get("implement").history == "outline"
    for record, current in _other_files(session, task, target):
        changed = sha256(current) != record.sha256
        shown = redacted(session, current, record.path)
        if not changed:
            if fresh_conversation:
                items = outline(record.path, shown) if outlined else []
                files.append(
                    {
                        "path": record.path,
                        "content": "" if items else shown,
                        "outline": items,
                        "changed_by_user": False,
                        "diff": "",
                    }
                )
            continue
        copy = session.ws.written_copy_path(task, record.path)
        before = copy.read_text(encoding="utf-8") if copy.is_file() else ""
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                current.splitlines(keepends=True),
                f"a/{record.path} (as specflow wrote it)",
                f"b/{record.path} (on disk)",
            )
        )
        files.append(
            {
                "path": record.path,
                "content": shown,
                "outline": [],
                "changed_by_user": True,
                "diff": redacted(session, diff, record.path),
            }
        )
    return files


def redacted(session: Session, text: str, rel: str | None = None) -> str:
    """*text* (the content of *rel*, when it is a file's) as it may leave the process: every
    secret the allowlist does not name replaced by its placeholder."""
    return redact_text(text, rel, allow=load_allowlist(session.ws.root))


def current_shown(session: Session, target: Target) -> str | None:
    """The target's content as the model sees it (redacted); None when it does not exist."""
    current = read_target(target)
    return None if current is None else redacted(session, current, target.rel)


def summarize_file(rel: str, content: str) -> str:
    """A written file as one list line for a fresh conversation: size and public names."""
    return f"- `{rel}` ({one_line_summary(rel, content)})"


def reset_seed(session: Session, task: Task, target: Target, paste: bool = False) -> str:
    """The opening of a new conversation: the whole engineering standards when
    `[stages.implement] standards = "whole"` asks for them (the system prompt carries their
    checklist), then the summary of the files done, if any (not in a *paste* prompt, whose
    file plan names them)."""
    rows = [
        summarize_file(record.path, content)
        for record, content in ([] if paste else _other_files(session, task, target))
    ]
    # The whole document costs as much again (from the cache) on every later request of the
    # conversation, so it is opt-in; by default each file gets the sections it calls for.
    whole = session.config.stages.get("implement").standards == "whole"
    standards = session.prompts.standards() if whole else ""
    return session.prompts.render("implement-seed.md.j2", summaries=rows, standards=standards)


def standards_for(
    session: Session, target: Target, spec_text: str, current: str | None, sent: list[Message]
) -> list[str]:
    """The detailed standards sections *target*'s request carries (`standards = "relevant"`):
    those its lines in the spec and its current content call for, less those the
    conversation (*sent*) already carries."""
    if session.config.stages.get("implement").standards != "relevant":
        return []
    done = sent_headings([m.content for m in sent if m.role == "user"])
    found = relevant_sections(session.prompts.standards(), target.rel, spec_text, current or "")
    sections = [demoted(text) for text in found]
    return [text for text in sections if heading(text) not in done]


def _language(rel: str) -> str:
    return LANGS.get(Path(rel).suffix.lower(), "")


def _system(session: Session, spec_text: str, variables: dict[str, Any]) -> list[SystemBlock]:
    return [
        # Four cache breakpoints at most: the rules, the end of the system prompt (which covers
        # the spec), the previous request's newest turn and this one. So the spec gets none.
        # The standards as their checklist only (the full document, if configured, goes once
        # per conversation in its first user turn: reset_seed).
        *rules_blocks(session, standards=True, spec=spec_text, cache_spec=False, compact=True),
        # Rendered without a path so the block is the same for every file and stays cached.
        SystemBlock(
            session.prompts.render("implement.md.j2", **{**variables, "path": ""}),
            cache=True,
            label="instructions",
        ),
    ]


def _turn(
    session: Session,
    task: Task,
    target: Target,
    spec: tuple[str, SpecDoc],
    history: list[Message],
    paste: bool = False,
) -> str:
    """The user turn for *target*, continuing *history* (none: a fresh conversation, which
    opens with the summary of files done). A *paste* prompt (handoff) names the files done by
    their one-line summaries only, so it stays one bounded message however many files came
    before."""
    spec_text, doc = spec
    fresh_conversation = not history
    current = current_shown(session, target)
    text = session.prompts.render(
        "implement-input.md.j2",
        path=target.rel,
        language=_language(target.rel),
        current=current,
        offer_edits=offers_edits(current),
        edit_min_lines=EDIT_MIN_LINES,
        done_files=[] if paste else done_files(session, task, target, fresh_conversation),
        plan_files=plan_paths(doc),
        written_paths=[f.path for f in task.files],
        written_summaries=written_summaries(session.ws.root, task, target.rel),
        standards_sections=standards_for(session, target, spec_text, current, history),
    )
    if fresh_conversation:
        seed = reset_seed(session, task, target, paste)
        text = (seed + "\n" + text) if seed.strip() else text
    # Each file was redacted with its own path above (a .env file's entropy check); this pass
    # covers the rest of the turn (summaries, names) and leaves the placeholders as they are.
    return redacted(session, text)


def _policy(session: Session) -> AnchorPolicy:
    """Re-anchoring within the context window of the model the implement stage talks to."""
    window = session.resolved.stage("implement").context_window
    return AnchorPolicy(session.config.anchoring, window)


def prepare_implement(
    session: Session, task: Task, target: Target, spec_text: str, doc: SpecDoc, fresh: bool
) -> tuple[Prepared, Conversation]:
    """The request for *target* and the conversation it continues (or resets), re-anchored."""
    variables = render_vars(session)
    system = _system(session, redacted(session, spec_text), variables)
    # One self-contained message per file when implement's own provider is the handoff.
    paste = session.resolved.stage("implement").provider == "handoff"
    fresh = fresh or paste
    conversation = Conversation() if fresh else load_conversation(session.ws, task)
    if not conversation.ledger.system_tokens:
        conversation.ledger.system_tokens = sum(estimate_tokens(b.text) for b in system)
    history = conversation.history()
    turn = _turn(session, task, target, (spec_text, doc), history, paste)
    decision = _policy(session).decide(
        conversation.ledger, estimate_tokens(turn), force_reset=fresh
    )
    if decision.action == "reset" and history:
        turn = _turn(session, task, target, (spec_text, doc), [])
    prepared = Prepared("implement", system, turn, cache_turn=True)
    if decision.action == "reset":
        conversation.messages = []
        conversation.ledger.note_reset(sum(estimate_tokens(b.text) for b in system))
    else:
        prepared.history = history
    if decision.action == "remind":
        prepared.reminder = session.prompts.render(
            "reanchor.md.j2",
            stage="implement",
            do_not=do_not_items(session.prompts.rules()),
            out_of_scope=doc.out_of_scope,
            **{**variables, "path": target.rel},
        ).rstrip("\n")
        conversation.ledger.note_reminder()
    prepared.reanchor = decision.action
    prepared.reanchor_reason = decision.reason if decision.action != "none" else ""
    return prepared, conversation


def prompt_for(session: Session, task: Task, raw_path: str) -> Prepared:
    """The request a fresh implement conversation would send for *raw_path* (nothing saved)."""
    target = resolve_target(session.ws.root, raw_path)
    spec_text, doc = load_spec(session, task)
    return prepare_implement(session, task, target, spec_text, doc, fresh=True)[0]


# -- the run ------------------------------------------------------------------------------------


def implement_contract(session: Session, target: Target, doc: SpecDoc) -> Any:
    """The implement contract for *target*: the file on disk now as the model saw it
    (redacted: an edit reply's SEARCH lines quote that; to apply the edits to and find dropped
    definitions), the spec's directives, the project's disabled rules."""
    from specflow.contracts.registry import ContractContext, contract_for

    context = ContractContext(
        checklist=parse_checklist(session.prompts.standards()),
        path=target.rel,
        current=current_shown(session, target),
        directives=spec_directives(doc),
        disabled=frozenset(session.config.contracts.disabled),
    )
    return contract_for("implement", context)


def run_implement(
    session: Session,
    task: Task,
    raw_path: str,
    *,
    force: bool = False,
    fresh: bool = False,
    allow_unplanned: bool = False,
    allow_stale_spec: bool = False,
    reply: str | None = None,
) -> ImplementResult | Handoff:
    """Implement *raw_path*: checks first, then the request, the write and the tests, all
    under the task's stage lock (a second stage of the same task fails at once)."""
    target = resolve_target(session.ws.root, raw_path)
    command = stage_command(session, task, f"specflow implement --file {target.rel}")
    for flag, on in (
        ("--allow-unplanned", allow_unplanned),
        ("--force", force),
        ("--fresh", fresh),
        ("--allow-stale-spec", allow_stale_spec),
    ):
        if on:
            command += f" {flag}"
    with session.ws.stage_lock(task, command):
        spec_text, doc = load_spec(session, task)
        check_stale(session, task, allow_stale_spec, command)
        check_plan(doc, target, allow_unplanned)
        check_unknowns(task, target, plan_paths(doc))
        protect_user_changes(session.ws, task, target, force)
        prepared, conversation = prepare_implement(session, task, target, spec_text, doc, fresh)
        outcome = execute(
            session,
            task,
            prepared,
            implement_contract(session, target, doc),
            reply=reply,
            command=command,
        )
        if isinstance(outcome, Handoff):
            return outcome
        return _finish(session, task, target, doc, prepared, conversation, outcome)


def _finish(
    session: Session,
    task: Task,
    target: Target,
    doc: SpecDoc,
    prepared: Prepared,
    conversation: Conversation,
    outcome: Outcome,
) -> ImplementResult:
    value: ImplementReply = outcome.value
    # An edit reply's text is the file as it was, changed where the blocks say: it keeps a
    # missing final newline. A whole file gets one.
    whole = not is_edit_reply(outcome.text)
    code = value.code
    if whole and code and not code.endswith("\n"):
        code += "\n"
    before = read_target(target) or ""
    refuse_placeholders(session, task, target, before, code, outcome.text)
    atomic_write_text(target.path, code)
    atomic_write_text(session.ws.written_copy_path(task, target.rel), code)
    task.files = [f for f in task.files if f.path != target.rel]
    task.files.append(WrittenFile(path=target.rel, sha256=sha256(code), written=now()))
    if task.state != "implementing":
        task.move_to("implementing")
    session.ws.save(task)
    usage = None
    if outcome.reply is not None:
        usage = (outcome.reply.usage.context_tokens, outcome.reply.usage.output_tokens)
    sent = [*prepared.history, Message("user", prepared.user_turn)]
    kept = kept_reply(session, target, code, value, edited=not whole)
    conversation.keep_exchange(sent, outcome.text, usage, kept)
    save_conversation(session.ws, task, conversation)
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            code.splitlines(keepends=True),
            f"a/{target.rel}",
            f"b/{target.rel}",
        )
    )
    test = _run_tests(session, task, target, doc)
    return ImplementResult(target, diff, value, next_files(task, doc), test, prepared.reanchor)


def kept_reply(
    session: Session, target: Target, code: str, value: ImplementReply, *, edited: bool
) -> str | None:
    """What the conversation keeps of an accepted reply for the files after it: the written
    file's outline, or None to keep the reply whole (`[stages.implement] history = "whole"`,
    or a file that is short or has no outline)."""
    if session.config.stages.get("implement").history == "whole":
        return None
    items = outline(target.rel, redacted(session, code, target.rel))
    if not items:
        return None
    counts = Counter(item.status for item in value.self_review)
    review = ", ".join(f"{n} {status}" for status, n in counts.items()) or "empty"
    return session.prompts.render(
        "implement-kept.md.j2",
        path=target.rel,
        lines=line_count(code),
        edited=edited,
        review=review,
        outline=items,
    ).rstrip("\n")


def refuse_placeholders(
    session: Session, task: Task, target: Target, before: str, code: str, reply: str
) -> None:
    """Refuse (exit 2) to write *code* when it holds a placeholder where *before*, the file on
    disk, holds the real secret: the value would be lost. The reply is kept under attempts/."""
    lines = placeholders_over_secrets(before, code, target.rel)
    if not lines:
        return
    kept = session.ws.keep_attempt(session.ws.stage_home(task, "implement"), "implement", reply)
    where = ", ".join(f"{target.rel}:{n}" for n in lines)
    raise StateError(
        f"the reply puts a secret placeholder (`«secret:…»`) where {target.rel} holds the real "
        f"value ({where}); writing it would destroy that value, so {target.rel} is left "
        "unchanged. Move the secret into configuration first (read it from the environment "
        "variable the spec names under Configuration & Secrets), then run implement again. "
        f"The reply is kept in {session.ws.rel(kept)}."
    )


def test_command_for(session: Session, doc_commands: list[str]) -> str:
    configured = session.stage_config("implement").test_command.strip()
    if configured == "spec":
        return doc_commands[0] if doc_commands else ""
    return configured


def _run_tests(
    session: Session, task: Task, target: Target, doc: SpecDoc
) -> tuple[str, int, str] | None:
    command = test_command_for(session, list(doc.test_commands))
    if not command:
        return None
    limit = session.stage_config("implement").test_timeout_s
    try:
        done = subprocess.run(
            command,
            shell=True,
            cwd=session.ws.root,
            capture_output=True,
            text=True,
            timeout=limit,
        )
        code, output = done.returncode, (done.stdout + done.stderr).strip().splitlines()
    except subprocess.TimeoutExpired:
        code, output = 124, [f"timed out after {limit:g} s ([stages.implement] test_timeout_s)"]
    tail = "\n".join(output[-20:])
    append(
        session.ws.transcript_path(task),
        Exchange(
            stage="implement",
            provider="test",
            model="-",
            kind="test",
            contract_ok=code == 0,
            note=f"{command} -> exit {code} after writing {target.rel}",
        ),
    )
    return command, code, tail


def plan_next(session: Session, task: Task) -> NextStep:
    """What `specflow next` does for *task*: the file to implement, or what is in the way
    (a StateError, exit 2, when open UNKNOWNs block every remaining file)."""
    _spec_text, doc = load_spec(session, task)
    task_flag = stage_command(session, task, "")  # "" or " --task SLUG"
    if task.spec_stale:
        raise StateError(STALE_SPEC.format(slug=task.slug, flag=task_flag))
    step = next_step(plan_progress(session.ws.root, task, doc), task, task_flag)
    if step.blocked:
        raise StateError(step.message)
    return step


def raise_if_tests_failed(result: ImplementResult) -> None:
    if result.test and result.test[1] != 0:
        command, code, _tail = result.test
        raise CheckFailed(
            f"`{command}` failed (exit {code}) after writing {result.target.rel}; the file is "
            "kept for review. Fix it by hand, or run implement again for it."
        )
