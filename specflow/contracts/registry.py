"""One entry point for every stage's contract: check(stage, text, **context).

Each stage record (specflow/stages/records.py) names its contract factory here. A factory
takes the context the prompt was rendered with and returns the engine's `Contract`
(text -> ContractResult), so the values a prompt states (the review threshold, the
question counts) are the values its reply is held to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from specflow.contracts.base import ContractResult, Violation
from specflow.contracts.markdown import rejected
from specflow.stages.records import STAGES, record

__all__ = ["STAGES", "ContractContext", "check", "contract_for"]

Contract = Callable[[str], ContractResult[Any]]


class ContractContext(NamedTuple):
    """What a contract may depend on besides the reply; each stage reads what it needs."""

    headings: list[str] | None = None  # spec: the template's `##` headings
    checklist: list[str] | None = None  # implement: the standards' checklist
    path: str | None = None  # implement: the file the reply must hold
    diff_paths: set[str] | None = None  # review: the files a finding may name
    threshold: str = "MAJOR"  # review: the lowest severity that fails a change
    allow_quick: bool = True  # scope: False after `specflow scope --full` declined the quick path
    current: str | None = None  # implement: the target's text on disk (None: a new file)
    directives: tuple[str, ...] = ()  # implement: the spec's directives and file-plan lines
    # Content checks: the content rule ids switched off ([contracts] disabled), the rules'
    # hedges (None: the packaged rules'), the task's description (scope), whether a
    # repository-relative path is a file (spec's file plan), the resolved UNKNOWNs as
    # (what, resolution) (spec).
    disabled: frozenset[str] = frozenset()
    hedges: Sequence[str] | None = None
    description: str | None = None
    exists: Callable[[str], bool] | None = None
    resolved: Sequence[tuple[str, str]] = ()
    # review: the change as {path: ChangedFile} (contracts/evidence.py) and the spec's file
    # plan; with them a finding must fall inside the change and quote it.
    changes: Mapping[str, Any] | None = None
    planned: Sequence[str] = ()


def contract_for(stage: str, context: ContractContext) -> Contract:
    """The contract of *stage*, bound to *context*."""
    factory: Callable[[ContractContext], Contract] = record(stage).load("contract")
    return factory(context)


def check(stage: str, text: str, **ctx: Any) -> ContractResult[Any]:
    """Check *text* against *stage*'s contract.

    Context by stage: spec needs `headings` (the template's `##` headings); implement needs
    `checklist` and takes `path`; review takes `diff_paths` and `threshold`.
    """
    contract_stage = record(stage).name  # an unknown stage is a UsageError
    if contract_stage == "spec":
        _need(ctx, stage, "headings")
    if contract_stage == "implement":
        _need(ctx, stage, "checklist")
    return contract_for(stage, ContractContext(**ctx))(text)


def _need(ctx: dict[str, Any], stage: str, key: str) -> Any:
    if key not in ctx:
        raise TypeError(f"check({stage!r}, ...) needs {key}=")
    return ctx[key]


def scope_contract(context: ContractContext) -> Contract:
    """Questions or a blocker (contracts/scope.py), or the quick path (contracts/quick.py)
    unless the user asked for the full workflow."""
    from specflow.contracts.quick import check_quick, is_quick_reply
    from specflow.contracts.scope import check_scope

    def contract(text: str) -> ContractResult[Any]:
        if not is_quick_reply(text):
            return check_scope(
                text,
                description=context.description,
                hedges=context.hedges,
                disabled=context.disabled,
            )
        if context.allow_quick:
            return check_quick(text)
        return rejected([Violation(QUICK_DECLINED, 1)])

    return contract


QUICK_DECLINED = (
    "the reply is in the quick-path form (`## Quick Path`), which the user declined with "
    "`specflow scope --full`; answer with the questions form (`## Scoping Questions`) "
    "or the blocker form (`## Blocker`)"
)


def spec_contract(context: ContractContext) -> Contract:
    from specflow.contracts.spec import check_spec

    headings = context.headings or []
    return lambda text: check_spec(
        text,
        headings,
        hedges=context.hedges,
        exists=context.exists,
        resolved=context.resolved,
        disabled=context.disabled,
    )


def implement_contract(context: ContractContext) -> Contract:
    from specflow.contracts.implement import check_implement

    checklist = context.checklist or []
    return lambda text: check_implement(
        text,
        context.path,
        checklist,
        current=context.current,
        directives=context.directives,
        disabled=context.disabled,
    )


def review_contract(context: ContractContext) -> Contract:
    from specflow.contracts.review import check_review

    return lambda text: check_review(
        text,
        context.diff_paths,
        context.threshold,
        changes=context.changes,
        planned=context.planned,
        hedges=context.hedges,
        disabled=context.disabled,
    )
