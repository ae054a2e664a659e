"""The stage records: one row per stage, and everything that varies by stage derived from it.

A row names its templates, its contract factory, its prepare function, the artifact `show`
prints once the stage has run, and its `[stages.<key>]` profile. The CLI's stage choices,
`prompt`'s dispatch, the contract registry, the severities and `show`'s default artifact are
all read from here, so adding a stage or renaming a template is one edit.

This module is imported by the plain `specflow check` fast path, so it imports nothing but
`importlib` and `typing`: functions are named as "module:attribute" and loaded on use.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

# Most severe first; a review finding at or above the threshold fails the change.
SEVERITIES = ("BLOCKER", "MAJOR", "MINOR", "NIT")


class Stage(NamedTuple):
    """What makes a stage itself; the engine, the CLI and `check` do the rest alike."""

    name: str
    system_template: str
    input_template: str
    # "module:function" taking a ContractContext (contracts/registry.py) -> Contract
    contract: str
    # "module:function" taking (session, task, path) -> Prepared, for `specflow prompt`;
    # "" when the stage has no standalone prompt (review renders one per diff chunk)
    prepare: str
    state: str  # the task state a valid reply moves the task to ("" when none)
    artifact: str  # what `specflow show` prints for a task in that state
    config_key: str  # the [stages.<key>] table holding the decoding profile

    def load(self, attribute: str) -> Any:
        """The function a "module:function" field of this record names."""
        return load(getattr(self, attribute))


def load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


RECORDS: tuple[Stage, ...] = (
    Stage(
        name="scope",
        system_template="scope.md.j2",
        input_template="scope-input.md.j2",
        contract="specflow.contracts.registry:scope_contract",
        prepare="specflow.stages.standalone:prepare_scope",
        state="scoped",
        artifact="scope",
        config_key="scope",
    ),
    Stage(
        name="spec",
        system_template="spec.md.j2",
        input_template="spec-input.md.j2",
        contract="specflow.contracts.registry:spec_contract",
        prepare="specflow.stages.standalone:prepare_spec",
        state="specced",
        artifact="spec",
        config_key="spec",
    ),
    Stage(
        name="implement",
        system_template="implement.md.j2",
        input_template="implement-input.md.j2",
        contract="specflow.contracts.registry:implement_contract",
        prepare="specflow.stages.standalone:prepare_implement",
        state="implementing",
        artifact="spec",
        config_key="implement",
    ),
    Stage(
        name="review",
        system_template="review.md.j2",
        input_template="review-input.md.j2",
        contract="specflow.contracts.registry:review_contract",
        prepare="",
        state="",
        artifact="",
        config_key="review",
    ),
)

BY_NAME: dict[str, Stage] = {stage.name: stage for stage in RECORDS}
STAGES: tuple[str, ...] = tuple(BY_NAME)
PROMPT_STAGES: tuple[str, ...] = tuple(s.name for s in RECORDS if s.prepare)

# Task states no stage produces: the task was just described, answered, is blocked or done.
_OTHER_ARTIFACTS = {
    "described": "describe",
    "answered": "answers",
    "blocked": "scope",
    "done": "spec",
}
DEFAULT_ARTIFACT: dict[str, str] = {
    **_OTHER_ARTIFACTS,
    **{s.state: s.artifact for s in RECORDS if s.state},
}


def record(name: str) -> Stage:
    """The record of stage *name*; an unknown name is a usage error naming the stages."""
    try:
        return BY_NAME[name]
    except KeyError:
        from specflow.errors import UsageError

        raise UsageError(f"unknown stage `{name}`; the stages are {', '.join(STAGES)}") from None
