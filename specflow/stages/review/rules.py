"""What a review reply is held to: the review contract of one run.

Besides its form and the threshold, a reply is held to the spec's planned files (a finding
may name one the change lacks), the hedges of the rules in force and the content rule ids
the project switched off. The gate and `mark_reviewed` (covered.py) read them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from specflow.stages.session import Session, content_context

if TYPE_CHECKING:
    from specflow.contracts.models import SpecDoc
    from specflow.stages.engine import Contract


@dataclass(frozen=True)
class ReviewRules:
    """What a review reply is held to besides its form and the threshold: the spec's planned
    files (a finding may name one the change lacks), the hedges of the rules in force and
    the content rule ids the project switched off."""

    planned: tuple[str, ...] = ()
    hedges: Sequence[str] | None = None
    disabled: frozenset[str] = frozenset()


def spec_doc(session: Session, spec: str | None) -> SpecDoc | None:
    """The parsed spec the change is reviewed against; None without one, or when it no longer
    holds the spec contract (the review then has no file plan to compare with)."""
    if spec is None:
        return None
    from specflow.contracts.spec import check_spec, template_headings

    doc: SpecDoc | None = check_spec(spec, template_headings(session.prompts.spec_template())).value
    return doc


def review_rules(session: Session, doc: SpecDoc | None) -> ReviewRules:
    """The rules of the review contract for this run (session.content_context's hedges and
    switched-off ids, the file plan of *doc*)."""
    from specflow.stages.implement.plan import plan_paths

    context = content_context(session)
    planned = tuple(plan_paths(doc)) if doc is not None else ()
    return ReviewRules(planned, context.hedges, context.disabled)


def contract_for(diff_text: str, threshold: str, rules: ReviewRules) -> Contract:
    """The review contract for a reply about *diff_text*, through the review record's factory:
    findings name its files, point inside its hunks and quote code it shows
    (contracts/evidence.py), or name a planned file it lacks; the verdict follows *threshold*."""
    from specflow.contracts import registry
    from specflow.contracts.evidence import changed_files

    changes = changed_files(diff_text)
    context = registry.ContractContext(
        diff_paths=set(changes),
        threshold=threshold,
        changes=changes,
        planned=rules.planned,
        hedges=rules.hedges,
        disabled=rules.disabled,
    )
    return registry.contract_for("review", context)
