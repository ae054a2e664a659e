"""pytest fixtures for the loopback API servers (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import AnthropicServer
from tests.fakes.openai_server import OpenAIServer


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """A scripted Anthropic Messages API on 127.0.0.1, stopped cleanly after the test."""
    server = AnthropicServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, "the loopback server failed:\n" + "\n".join(server.errors)


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A scripted OpenAI-compatible chat-completions API on 127.0.0.1."""
    server = OpenAIServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, "the loopback server failed:\n" + "\n".join(server.errors)


@pytest.fixture
def claude(anthropic_server: AnthropicServer, monkeypatch: pytest.MonkeyPatch) -> AnthropicServer:
    """The loopback Anthropic server, with a test key and the base URL in the environment."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.root_url)
    return anthropic_server
