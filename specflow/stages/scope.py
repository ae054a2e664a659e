"""The scope stage and the user's answers.

A scope reply is 5–8 questions (then answers.md lists them), a blocker (the task becomes
blocked), or a quick-path proposal for a one-file task (the user accepts it with
`specflow spec --quick` or declines it with `specflow scope --full`). Running scope again
after describe.md or answers.md changed starts a follow-up round: the earlier round is
archived under rounds/ and shown to the model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from specflow.contracts.answers import Answer, parse_answers, render_answers, set_answer
from specflow.contracts.models import BlockerReply, ScopeReply
from specflow.contracts.quick import QuickReply
from specflow.contracts.registry import scope_contract
from specflow.contracts.scope import check_scope
from specflow.errors import StateError, UsageError
from specflow.gitx.allowlist import load_allowlist
from specflow.providers.base import SystemBlock
from specflow.stages.describe import parse_describe
from specflow.stages.engine import Outcome, Prepared
from specflow.stages.session import (
    Handoff,
    Session,
    content_context,
    execute,
    render_vars,
    rules_blocks,
    stage_command,
    stage_lock,
)
from specflow.store.clock import stamp
from specflow.store.task import TRANSITIONS, Task


@dataclass(frozen=True)
class Round:
    round: int
    qa: list[Answer]


@dataclass(frozen=True)
class ScopeResult:
    kind: str  # "questions" | "blocker" | "quick"
    path: Path
    round: int
    questions: list[str]
    needs: str = ""
    quick: QuickReply | None = None


def inputs_hash(session: Session, task: Task) -> str:
    digest = hashlib.sha256()
    for name in ("describe", "answers"):
        path = session.ws.artifact_path(task, name)
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def previous_rounds(session: Session, task: Task) -> list[Round]:
    rounds = []
    for n in range(1, task.scope_round + 1):
        answers = session.ws.artifact_path(task, f"rounds/answers-{n}")
        if answers.is_file():
            text = answers.read_text(encoding="utf-8")
            rounds.append(Round(n, parse_answers(text, source=session.ws.rel(answers))))
    return rounds


def _require(task: Task, state: str) -> None:
    allowed, first = TRANSITIONS[state]
    if task.state not in allowed:
        raise StateError(
            f"task `{task.slug}` is {task.state}; scoping again would discard that work. "
            "Edit spec.md directly, or start a new task with `specflow new`."
            if task.state in ("specced", "implementing")
            else f"task `{task.slug}` is {task.state}; run `{first}` first."
        )


def prepare_scope(
    session: Session, task: Task, *, allow_quick: bool | None = None
) -> tuple[Prepared, int, bool]:
    """The scope request, its round number, and whether it is a follow-up round.

    *allow_quick* False (`specflow scope --full`) tells the model not to propose the quick
    path; the contract of the run refuses it too (scope_contract with the same value).
    None: allowed unless the task's user declined it earlier (`specflow prompt scope`)."""
    _require(task, "scoped")
    if allow_quick is None:
        allow_quick = not task.quick_declined
    describe = parse_describe(
        session.ws.read_artifact(task, "describe"), load_allowlist(session.ws.root)
    )
    follow_up = session.ws.artifact_path(task, "scope").is_file() and (
        inputs_hash(session, task) != task.scoped_inputs
        or any(a.answer for a in _current_answers(session, task))
    )
    round_no = task.scope_round + 1 if follow_up or task.scope_round == 0 else task.scope_round
    rounds = previous_rounds(session, task)
    if follow_up:
        rounds.append(Round(task.scope_round, _current_answers(session, task)))
    variables = render_vars(session, allow_quick=allow_quick)
    system = [
        *rules_blocks(session, standards=False, spec=None),
        SystemBlock(session.prompts.render("scope.md.j2", **variables), label="instructions"),
    ]
    turn = session.prompts.render(
        "scope-input.md.j2",
        description=describe.description,
        context_files=describe.context,
        round=round_no,
        previous_rounds=[r for r in rounds if r.qa],
        **variables,
    )
    return Prepared("scope", system, turn), round_no, follow_up


def _current_answers(session: Session, task: Task) -> list[Answer]:
    path = session.ws.artifact_path(task, "answers")
    if not path.is_file():
        return []
    return parse_answers(path.read_text(encoding="utf-8"), source=session.ws.rel(path))


def run_scope(
    session: Session, task: Task, reply: str | None, *, full: bool = False
) -> ScopeResult | Handoff:
    """Scope *task*; *full* declines the quick path (questions or a blocker only), and the
    task remembers it: a later plain `specflow scope` keeps to questions or a blocker.

    The whole run holds the task's stage lock: a second stage of the task exits 2 at once."""
    command = stage_command(session, task, "specflow scope" + (" --full" if full else ""))
    with stage_lock(session, task, command):
        allow_quick = not (full or task.quick_declined)
        prepared, round_no, follow_up = prepare_scope(session, task, allow_quick=allow_quick)
        if full and not task.quick_declined:
            task.quick_declined = True  # before the model call: a handoff's --reply keeps it
            session.ws.save(task)
        description = parse_describe(session.ws.read_artifact(task, "describe")).description
        contract = scope_contract(
            content_context(session, allow_quick=allow_quick, description=description)
        )
        outcome = execute(session, task, prepared, contract, reply=reply, command=command)
        if isinstance(outcome, Handoff):
            return outcome
        return _save_scope(session, task, outcome, round_no, follow_up)


def _save_scope(
    session: Session, task: Task, outcome: Outcome, round_no: int, follow_up: bool
) -> ScopeResult:
    if follow_up:
        _archive_round(session, task)
    else:
        _discard_round(session, task)
    value = outcome.value
    path = session.ws.write_artifact(task, "scope", outcome.text)
    task.scope_round = round_no
    if isinstance(value, BlockerReply):
        task.move_to("blocked")
        task.scoped_inputs = inputs_hash(session, task)
        session.ws.save(task)
        needs = value.needs if isinstance(value.needs, str) else "\n".join(value.needs)
        return ScopeResult("blocker", path, round_no, [], needs)
    if isinstance(value, QuickReply):
        # No questions: answers.md of an earlier round (kept under rounds/) would be stale.
        session.ws.artifact_path(task, "answers").unlink(missing_ok=True)
        task.move_to("scoped")
        task.scoped_inputs = inputs_hash(session, task)
        session.ws.save(task)
        return ScopeResult("quick", path, round_no, [], quick=value)
    assert isinstance(value, ScopeReply)
    session.ws.write_artifact(task, "answers", render_answers(value.questions, round=round_no))
    task.move_to("scoped")
    task.scoped_inputs = inputs_hash(session, task)
    session.ws.save(task)
    return ScopeResult("questions", path, round_no, value.questions)


def _discard_round(session: Session, task: Task) -> None:
    """Asked again with nothing changed: keep the replaced scope (and empty answers) aside."""
    when = stamp()
    for name in ("scope", "answers"):
        source = session.ws.artifact_path(task, name)
        if source.is_file():
            text = source.read_text(encoding="utf-8")
            session.ws.write_artifact(task, f"rounds/replaced/{name}-{when}.md", text)


def _archive_round(session: Session, task: Task) -> None:
    """Keep the finished round's scope and answers under rounds/ before the next one."""
    for name in ("scope", "answers"):
        source = session.ws.artifact_path(task, name)
        if source.is_file():
            session.ws.write_artifact(
                task, f"rounds/{name}-{task.scope_round}.md", source.read_text(encoding="utf-8")
            )


def all_answers(session: Session, task: Task) -> list[Answer]:
    """Every round's questions and answers, oldest first (the spec stage needs all of them)."""
    qa = [a for r in previous_rounds(session, task) for a in r.qa]
    return qa + _current_answers(session, task)


def unanswered(session: Session, task: Task) -> list[Answer]:
    """The current round's open questions, after checking answers.md against scope.md."""
    answers = _current_answers(session, task)
    _check_against_scope(session, task, answers)
    return [a for a in answers if not a.answer.strip()]


def _check_against_scope(session: Session, task: Task, answers: list[Answer]) -> None:
    """answers.md must hold every question of scope.md: a hand edit (an unclosed ``` fence,
    a changed heading) must not make questions vanish from the spec's input."""
    scope = session.ws.artifact_path(task, "scope")
    if not scope.is_file():
        return
    value = check_scope(scope.read_text(encoding="utf-8")).value
    if not isinstance(value, ScopeReply):
        return
    have = {a.n for a in answers}
    missing = [n for n in range(1, len(value.questions) + 1) if n not in have]
    extra = sorted(have - set(range(1, len(value.questions) + 1)))
    if missing or extra:
        path = session.ws.rel(session.ws.artifact_path(task, "answers"))
        lost = f"questions {', '.join(map(str, missing))} are missing" if missing else ""
        added = f"questions {', '.join(map(str, extra))} are not in scope.md" if extra else ""
        raise StateError(
            f"{path} does not match scope.md ({'; '.join(x for x in (lost, added) if x)}): "
            "an unclosed ``` fence or an edited `## N. question` heading? Fix the file so each "
            "question has its own heading."
        )


def record_answer(session: Session, task: Task, n: int, text: str) -> Path:
    """Write the answer to question *n* into answers.md (atomically)."""
    if not text.strip():
        raise UsageError("the answer is empty; write an answer, or `skip: <reason>`")
    path = session.ws.artifact_path(task, "answers")
    if not path.is_file():
        raise StateError(f"task `{task.slug}` has no questions yet; run `specflow scope` first")
    current = path.read_text(encoding="utf-8")
    numbers = [a.n for a in parse_answers(current, source=session.ws.rel(path))]
    if n not in numbers:
        raise UsageError(
            f"no question {n} in {session.ws.rel(path)}; the questions are "
            f"{', '.join(str(x) for x in numbers)}"
        )
    session.ws.write_artifact(task, "answers", set_answer(current, n, text.strip()))
    if not unanswered(session, task) and task.state == "scoped":
        task.move_to("answered")
        session.ws.save(task)
    return path
