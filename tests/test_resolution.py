"""The model a run talks to is resolved once and handed down as a value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from specflow.config import Config
from specflow.providers import capabilities
from specflow.providers.anthropic import AnthropicProvider
from specflow.providers.base import Decoding, Request
from specflow.providers.capabilities import resolve_model
from specflow.providers.factory import make_provider
from specflow.stages.session import Session
from specflow.store.workspace import Workspace


def test_resolve_model_is_a_value_of_config_and_environment() -> None:
    config = Config.model_validate({"model": "claude-haiku-4-5"})
    run = resolve_model(config, {"ANTHROPIC_API_KEY": "k"})
    assert (run.provider, run.model) == ("anthropic", "claude-haiku-4-5")
    assert run.capability.match == "claude-haiku-4-5*"
    assert run.plan("scope").send == {"temperature": 0.8}  # an older model: sampling knobs
    assert "effort" in run.plan("scope").withheld
    assert resolve_model(config, {}).provider == "handoff"
    assert resolve_model(config, {}).plan("scope").send == {
        "temperature": 0.8,
        "effort": "high",
        "thinking": "adaptive",
    }


def test_a_session_resolves_once(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = capabilities.lookup

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(capabilities, "lookup", counting)
    session = Session(Workspace(repo), Config(), {"ANTHROPIC_API_KEY": "k"})
    first = session.resolved
    assert session.resolved is first
    # Worked out once for the session: the global row and one per stage, then never again.
    assert calls == ["claude-sonnet-5-5"] * 5
    session.resolved.stage("implement")
    assert len(calls) == 5


def test_the_provider_takes_the_resolved_row_and_looks_nothing_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = Config.model_validate({"model": "claude-haiku-4-5"})
    env = {"ANTHROPIC_API_KEY": "k"}
    run = resolve_model(config, env)
    provider = make_provider(config, env, resolved=run)
    assert isinstance(provider, AnthropicProvider)
    assert provider.capability is run.capability

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("looked the capability row up again")

    lookup: Callable[..., Any] = refuse
    monkeypatch.setattr("specflow.providers.retry.lookup", lookup)
    request = Request(
        stage="review",
        model=run.model,
        system=[],
        messages=[],
        max_tokens=1000,
        decoding=Decoding(temperature=0.0, effort="high"),
    )
    assert provider._sent(request) == {"temperature"}
