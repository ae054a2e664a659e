"""The spec stage, and the UNKNOWN items a spec leaves open until the user resolves them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specflow.contracts.models import SpecDoc
from specflow.contracts.registry import Contract, contract_for
from specflow.contracts.scope import check_scope
from specflow.contracts.spec import check_spec, template_headings
from specflow.errors import StateError, UsageError
from specflow.gitx.allowlist import load_allowlist
from specflow.providers.base import SystemBlock
from specflow.stages.describe import parse_describe
from specflow.stages.engine import Outcome, Prepared
from specflow.stages.scope import all_answers, unanswered
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
from specflow.store.task import Task, UnknownItem

SPEC_STATES = ("scoped", "answered", "specced", "implementing")


@dataclass(frozen=True)
class SpecResult:
    path: Path
    unknowns: list[UnknownItem]
    revised: bool
    file_plan: list[str]


def spec_contract(session: Session, task: Task) -> Contract:
    """The spec contract with its context: the template's headings, the rules' hedges, the
    repository's files, the task's resolved UNKNOWNs and the project's switched-off rules."""
    context = content_context(
        session,
        headings=template_headings(session.prompts.spec_template()),
        resolved=[(u.what, u.resolution) for u in task.unknowns if u.status == "resolved"],
    )
    return contract_for("spec", context)


def _require_ready(session: Session, task: Task) -> None:
    if task.state == "blocked":
        scope = session.ws.rel(session.ws.artifact_path(task, "scope"))
        raise StateError(
            f"task `{task.slug}` is blocked (see {scope}); add what it asks for to "
            "describe.md and run `specflow scope` again"
        )
    if task.state not in SPEC_STATES:
        raise StateError(f"task `{task.slug}` is {task.state}; run `specflow scope` first")
    _refuse_quick_proposal(session, task)
    missing = unanswered(session, task)
    if missing:
        listed = "\n".join(f"  {a.n}. {a.question}" for a in missing)
        raise StateError(
            f"{len(missing)} question(s) in "
            f"{session.ws.rel(session.ws.artifact_path(task, 'answers'))} have no answer yet:\n"
            f"{listed}\nAnswer them with `specflow answer` (or edit the file); "
            "`skip: <reason>` is a valid answer."
        )


def _refuse_quick_proposal(session: Session, task: Task) -> None:
    """A scope that proposed the quick path has no questions for a full spec to build on."""
    from specflow.contracts.quick import is_quick_reply

    scope = session.ws.artifact_path(task, "scope")
    if task.state == "scoped" and scope.is_file() and is_quick_reply(scope.read_text("utf-8")):
        raise StateError(
            f"the scope of task `{task.slug}` proposes the quick path "
            f"({session.ws.rel(scope)}): accept it with `specflow spec --quick`, or ask for "
            "questions with `specflow scope --full`"
        )


def prepare_spec(session: Session, task: Task) -> Prepared:
    _require_ready(session, task)
    describe = parse_describe(
        session.ws.read_artifact(task, "describe"), load_allowlist(session.ws.root)
    )
    scope = check_scope(session.ws.read_artifact(task, "scope")).value
    spec_path = session.ws.artifact_path(task, "spec")
    previous = spec_path.read_text(encoding="utf-8") if spec_path.is_file() else ""
    variables = render_vars(session)
    system = [
        *rules_blocks(session, standards=True, spec=None),
        SystemBlock(session.prompts.render("spec.md.j2", **variables), label="instructions"),
    ]
    turn = session.prompts.render(
        "spec-input.md.j2",
        description=describe.description,
        context_files=describe.context,
        qa=all_answers(session, task),
        risks=list(getattr(scope, "risks", []) or []),
        simplification=str(getattr(scope, "simplification", "") or ""),
        resolutions=[u for u in task.unknowns if u.status == "resolved"],
        previous_spec=previous,
        **variables,
    )
    return Prepared("spec", system, turn)


def run_spec(session: Session, task: Task, reply: str | None) -> SpecResult | Handoff:
    """Write or revise the spec, holding the task's stage lock for the whole run."""
    command = stage_command(session, task, "specflow spec")
    with stage_lock(session, task, command):
        prepared = prepare_spec(session, task)
        contract = spec_contract(session, task)
        outcome = execute(session, task, prepared, contract, reply=reply, command=command)
        if isinstance(outcome, Handoff):
            return outcome
        return _save_spec(session, task, outcome)


def _save_spec(session: Session, task: Task, outcome: Outcome) -> SpecResult:
    doc: SpecDoc = outcome.value
    spec_path = session.ws.artifact_path(task, "spec")
    revised = spec_path.is_file()
    if revised:
        session.ws.write_artifact(
            task, session.ws.spec_round_name(), spec_path.read_text(encoding="utf-8")
        )
    session.ws.write_artifact(task, "spec", outcome.text)
    task.unknowns = merge_unknowns(task.unknowns, doc)
    task.spec_stale = False
    task.move_to("specced")
    session.ws.save(task)
    open_items = [u for u in task.unknowns if u.status == "open"]
    return SpecResult(spec_path, open_items, revised, list(doc.file_plan))


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def merge_unknowns(known: list[UnknownItem], doc: SpecDoc) -> list[UnknownItem]:
    """Resolved items stay as history; the spec's open items keep their ids across revisions."""
    resolved = [u for u in known if u.status == "resolved"]
    by_what = {_norm(u.what): u for u in known if u.status == "open"}
    used = {int(u.id[1:]) for u in known if u.id[1:].isdigit()}
    merged = list(resolved)
    for item in doc.unknowns:
        old = by_what.get(_norm(item.what))
        if old is not None:
            uid = old.id
        else:
            n = max(used, default=0) + 1
            used.add(n)
            uid = f"U{n}"
        merged.append(UnknownItem(id=uid, what=item.what, verify=item.verify, blocks=item.blocks))
    return merged


def resolve_unknown(session: Session, task: Task, uid: str, text: str) -> UnknownItem:
    if not text.strip():
        raise UsageError("the resolution is empty; say what was found")
    for item in task.unknowns:
        if item.id.lower() == uid.lower():
            item.status = "resolved"
            item.resolution = text.strip()
            task.spec_stale = True
            session.ws.save(task)
            return item
    known = ", ".join(u.id for u in task.unknowns) or "none"
    raise UsageError(f"no UNKNOWN `{uid}` in task `{task.slug}`; its ids: {known}")


# -- the quick path -----------------------------------------------------------------------------

MAX_QUICK_FILES = 2
QUICK_NEW = "declared quick with `specflow new --quick`"
QUICK_ACCEPTED = "proposed by the scope stage and accepted with `specflow spec --quick`"


@dataclass(frozen=True)
class QuickPlan:
    """What a minimal spec is made of: the description, the files, the directives, and why
    the task skipped scoping."""

    description: str
    files: list[tuple[str, bool]]  # (repository-relative path, exists)
    directives: list[str]
    reason: str


def _na(what: str, plan: QuickPlan) -> str:
    return f"N/A — quick task ({plan.reason}): {what}"


def _intent(plan: QuickPlan) -> str:
    # One paragraph, so no `#` line can open a section; a first character that would start a
    # heading, a fence, a quote or a list is escaped, so the paragraph stays a paragraph.
    text = " ".join(plan.description.split())
    return "\\" + text if text[:1] in "#`~>-+*=|" else text


def _scope(plan: QuickPlan) -> str:
    files = ", ".join(f"`{path}`" for path, _ in plan.files)
    return f"- The change the Intent describes, confined to {files}."


def _file_plan(plan: QuickPlan) -> str:
    rows = [
        f"- `{path}` ({'change' if exists else 'create'}) — the change the Intent describes."
        for path, exists in plan.files
    ]
    return "Quick task: no new components.\n\n" + "\n".join(rows)


def _directives(plan: QuickPlan) -> str:
    if not plan.directives:
        return _na("the description above is the whole instruction; no directive was given.", plan)
    return "\n".join(f"{n}. {d}" for n, d in enumerate(plan.directives, 1))


# Heading (normalised) -> its content in a minimal spec. A heading of a project's own template
# that is not listed here reads N/A with the reason.
QUICK_SECTIONS: dict[str, Any] = {
    "intent": _intent,
    "scope": _scope,
    "architecture & file plan": _file_plan,
    "implementation directives": _directives,
    "error handling matrix": lambda p: _na(
        "a one-file change with no external integration; it adds no failure mode that needs "
        "its own detection, logging or recovery.",
        p,
    ),
    "concurrency decisions": lambda p: _na("the change adds no shared state, thread or task.", p),
    "configuration & secrets": lambda p: _na("the change adds no setting and no secret.", p),
    "testing strategy": lambda p: _na(
        "no test plan was written; run the project's existing tests after the change.", p
    ),
    "out of scope": lambda p: "- Everything not needed for the description.",
    "open items": lambda p: _na("no unknowns were recorded.", p),
}


def quick_spec_text(headings: list[str], plan: QuickPlan) -> str:
    """The minimal spec of a quick task in the template's headings, checked against the spec
    contract before anything is written (a project template it cannot fill is an error)."""
    parts = []
    for heading in headings:
        fill = QUICK_SECTIONS.get(heading.strip().casefold())
        body = fill(plan) if fill else _na("not part of a quick task's minimal spec.", plan)
        parts.append(f"## {heading}\n\n{body}\n")
    text = "\n".join(parts)
    result = check_spec(text, headings)
    if not result.ok:
        listed = "\n".join(f"  - {v}" for v in result.violations)
        raise UsageError(
            "the minimal spec of a quick task does not hold the spec contract of this "
            f"project's template:\n{listed}\nNothing was written. Use the full workflow: "
            '`specflow new "…"` without --quick, or for a task that exists, '
            "`specflow scope --full`."
        )
    return text


def quick_files(session: Session, raw_paths: list[str]) -> list[tuple[str, bool]]:
    """The --file paths of a quick task, inside the repository; more than two are refused."""
    from specflow.stages.implement.stage import resolve_target

    if not raw_paths:
        raise UsageError("--quick needs the file it changes: add --file PATH (one or two)")
    if len(raw_paths) > MAX_QUICK_FILES:
        raise UsageError(
            f"--quick takes at most {MAX_QUICK_FILES} files (got {len(raw_paths)}); a task "
            "that touches more is spec-worthy: drop --quick and run the full workflow "
            "(`specflow new`, then `specflow scope`)"
        )
    targets = [resolve_target(session.ws.root, raw) for raw in raw_paths]
    unique = {t.rel: t.path.is_file() for t in targets}
    return list(unique.items())


def write_quick_spec(session: Session, task: Task, plan: QuickPlan) -> SpecResult:
    """Write the minimal spec and move the task to where `implement` runs (no model call)."""
    headings = template_headings(session.prompts.spec_template())
    text = quick_spec_text(headings, plan)
    if task.state == "described":
        task.move_to("scoped")  # the quick path skips scoping: there is nothing to ask
    task.move_to("specced")
    path = session.ws.write_artifact(task, "spec", text)
    session.ws.save(task)
    return SpecResult(path, [], False, [p for p, _ in plan.files])


def accept_quick(session: Session, task: Task) -> SpecResult:
    """`specflow spec --quick`: the minimal spec from the scope's quick-path proposal
    (under the task's stage lock)."""
    with stage_lock(session, task, stage_command(session, task, "specflow spec --quick")):
        return _accept_quick(session, task)


def _accept_quick(session: Session, task: Task) -> SpecResult:
    from specflow.contracts.quick import QuickReply, check_quick, is_quick_reply

    scope_path = session.ws.artifact_path(task, "scope")
    text = scope_path.read_text(encoding="utf-8") if scope_path.is_file() else ""
    if task.state != "scoped" or not is_quick_reply(text):
        raise StateError(
            f"task `{task.slug}` has no quick-path proposal to accept "
            f"({session.ws.rel(scope_path)} is not in the `## Quick Path` form); run "
            "`specflow spec` for the full spec"
        )
    result = check_quick(text)
    if not isinstance(result.value, QuickReply):
        listed = "\n".join(f"  - {v}" for v in result.violations)
        raise StateError(
            f"{session.ws.rel(scope_path)} no longer holds the quick-path contract:\n{listed}\n"
            "Fix the file, or run `specflow scope --full` for questions."
        )
    quick = result.value
    description = parse_describe(session.ws.read_artifact(task, "describe")).description
    files = quick_files(session, [str(session.ws.root / quick.file)])
    plan = QuickPlan(description, files, quick.directives, f"{QUICK_ACCEPTED}: {quick.why}")
    return write_quick_spec(session, task, plan)


def check_quick_new(session: Session, description: str, raw_files: list[str]) -> QuickPlan:
    """The plan of `specflow new --quick`, checked (files, template) before the task exists."""
    plan = QuickPlan(description, quick_files(session, raw_files), [], QUICK_NEW)
    quick_spec_text(template_headings(session.prompts.spec_template()), plan)
    return plan
