"""One entry point for every stage's contract: check(stage, text, **context)."""

from __future__ import annotations

from typing import Any

from specflow.contracts.base import ContractResult
from specflow.errors import UsageError

STAGES = ("scope", "spec", "implement", "review")


def check(stage: str, text: str, **ctx: Any) -> ContractResult[Any]:
    """Check *text* against *stage*'s contract.

    Context by stage: spec needs `headings` (the template's `##` headings); implement needs
    `checklist` and takes `path`; review takes `diff_paths` and `threshold`.
    """
    if stage == "scope":
        from specflow.contracts.scope import check_scope

        return check_scope(text)
    if stage == "spec":
        from specflow.contracts.spec import check_spec

        return check_spec(text, _need(ctx, stage, "headings"))
    if stage == "implement":
        from specflow.contracts.implement import check_implement

        return check_implement(text, ctx.get("path"), _need(ctx, stage, "checklist"))
    if stage == "review":
        from specflow.contracts.review import check_review

        return check_review(text, ctx.get("diff_paths"), ctx.get("threshold", "MAJOR"))
    raise UsageError(f"unknown stage `{stage}`; the stages are {', '.join(STAGES)}")


def _need(ctx: dict[str, Any], stage: str, key: str) -> Any:
    if key not in ctx:
        raise TypeError(f"check({stage!r}, ...) needs {key}=")
    return ctx[key]
