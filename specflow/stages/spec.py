"""The spec stage, and the UNKNOWN items a spec leaves open until the user resolves them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from specflow.contracts.base import ContractResult
from specflow.contracts.models import SpecDoc
from specflow.contracts.scope import check_scope
from specflow.contracts.spec import check_spec, template_headings
from specflow.errors import StateError, UsageError
from specflow.providers.base import SystemBlock
from specflow.stages.describe import parse_describe
from specflow.stages.engine import Prepared
from specflow.stages.scope import all_answers, unanswered
from specflow.stages.session import (
    Handoff,
    Session,
    execute,
    render_vars,
    rules_blocks,
    stage_command,
)
from specflow.store.workspace import Task, UnknownItem

SPEC_STATES = ("scoped", "answered", "specced", "implementing")


@dataclass(frozen=True)
class SpecResult:
    path: Path
    unknowns: list[UnknownItem]
    revised: bool
    file_plan: list[str]


def spec_contract(session: Session) -> Any:
    headings = template_headings(session.prompts.spec_template())

    def contract(text: str) -> ContractResult[SpecDoc]:
        return check_spec(text, headings)

    return contract


def _require_ready(session: Session, task: Task) -> None:
    if task.state == "blocked":
        scope = session.ws.rel(session.ws.artifact_path(task, "scope"))
        raise StateError(
            f"task `{task.slug}` is blocked (see {scope}); add what it asks for to "
            "describe.md and run `specflow scope` again"
        )
    if task.state not in SPEC_STATES:
        raise StateError(f"task `{task.slug}` is {task.state}; run `specflow scope` first")
    missing = unanswered(session, task)
    if missing:
        listed = "\n".join(f"  {a.n}. {a.question}" for a in missing)
        raise StateError(
            f"{len(missing)} question(s) in "
            f"{session.ws.rel(session.ws.artifact_path(task, 'answers'))} have no answer yet:\n"
            f"{listed}\nAnswer them with `specflow answer` (or edit the file); "
            "`skip: <reason>` is a valid answer."
        )


def prepare_spec(session: Session, task: Task) -> Prepared:
    _require_ready(session, task)
    describe = parse_describe(session.ws.read_artifact(task, "describe"))
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
    prepared = prepare_spec(session, task)
    command = stage_command(session, task, "specflow spec")
    outcome = execute(session, task, prepared, spec_contract(session), reply=reply, command=command)
    if isinstance(outcome, Handoff):
        return outcome
    doc: SpecDoc = outcome.value
    spec_path = session.ws.artifact_path(task, "spec")
    revised = spec_path.is_file()
    if revised:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        session.ws.write_artifact(
            task, f"rounds/spec-{stamp}.md", spec_path.read_text(encoding="utf-8")
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
