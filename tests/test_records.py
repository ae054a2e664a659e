"""The stage records and what is derived from them."""

from __future__ import annotations

import typing

import click
import pytest

from specflow import config
from specflow.cli import app, cli
from specflow.contracts import registry, review
from specflow.errors import UsageError
from specflow.stages import records
from specflow.store.task import Task


def test_every_stage_list_is_the_records() -> None:
    assert records.STAGES == ("scope", "spec", "implement", "review")
    assert app.STAGES == registry.STAGES == config.STAGE_NAMES == records.STAGES
    prompt_choice = next(p for p in cli.commands["prompt"].params if p.name == "stage")
    assert isinstance(prompt_choice.type, click.Choice)
    assert tuple(prompt_choice.type.choices) == ("scope", "spec", "implement", "review")


def test_severities_are_one_list() -> None:
    assert records.SEVERITIES == review.SEVERITIES == typing.get_args(config.Severity)


def test_every_record_names_loadable_functions() -> None:
    for stage in records.RECORDS:
        assert callable(stage.load("contract")), stage.name
        if stage.prepare:
            assert callable(stage.load("prepare")), stage.name
        assert stage.config_key in config.StagesConfig.model_fields


def test_default_artifact_covers_every_task_state() -> None:
    states = typing.get_args(typing.get_type_hints(Task)["state"])
    assert set(records.DEFAULT_ARTIFACT) == set(states)
    assert records.DEFAULT_ARTIFACT["specced"] == "spec"
    assert records.DEFAULT_ARTIFACT["described"] == "describe"


def test_an_unknown_stage_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown stage `plan`; the stages are scope, spec"):
        records.record("plan")


def test_the_registry_binds_the_review_threshold() -> None:
    reply = (
        "## Verdict\n\nFAIL\n\n## Findings\n\n"
        "- [MINOR] a.py:1 — Logging — print. Evidence: `print(x)`\n"
    )
    assert registry.check("review", reply, threshold="MINOR").ok
    assert not registry.check("review", reply, threshold="MAJOR").ok
