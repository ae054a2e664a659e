"""pytest fixtures: the loopback API servers and the scripted provider (registered in
tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from specflow.providers import factory
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.fakes.openai_server import OpenAIServer
from tests.support.scripted import ScriptedProvider


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """A scripted Anthropic Messages API on 127.0.0.1, stopped cleanly after the test."""
    with AnthropicServer().running() as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A scripted OpenAI-compatible chat-completions API on 127.0.0.1."""
    with OpenAIServer().running() as server:
        yield server


@pytest.fixture
def claude(anthropic_server: AnthropicServer, monkeypatch: pytest.MonkeyPatch) -> AnthropicServer:
    """The loopback Anthropic server, with a test key and the base URL in the environment."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.root_url)
    return anthropic_server


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedProvider:
    """Every stage run in this test talks to one in-process scripted provider."""
    # Named as the provider it stands in for, so the decoding notice and the transcript read
    # as in a real run.
    provider = ScriptedProvider(name="anthropic")

    def make_provider(*_args: object, **_kwargs: object) -> ScriptedProvider:
        return provider

    # A key, so the provider name resolves to a real one (and its capability row): the
    # scripted provider stands in for it; nothing is sent anywhere.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setattr(factory, "make_provider", make_provider)
    return provider
