"""The prepare function of each stage record, in one shape: (session, task, path) -> Prepared.

`specflow prompt STAGE` calls the one its record names; each adapts its stage's own prepare.
"""

from __future__ import annotations

from specflow.errors import UsageError
from specflow.stages import scope, spec
from specflow.stages.engine import Prepared
from specflow.stages.implement.stage import prompt_for
from specflow.stages.session import Session
from specflow.store.task import Task


def prepare_scope(session: Session, task: Task, path: str | None) -> Prepared:
    return scope.prepare_scope(session, task)[0]


def prepare_spec(session: Session, task: Task, path: str | None) -> Prepared:
    return spec.prepare_spec(session, task)


def prepare_implement(session: Session, task: Task, path: str | None) -> Prepared:
    if not path:
        raise UsageError("`specflow prompt implement` needs --file PATH")
    return prompt_for(session, task, path)
