"""The loopback fakes report their own bugs: a test or bench driving one fails loudly."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.support.fakes import RecordedRequest
from tests.support.fakes.anthropic_server import AnthropicServer


def _post(server: AnthropicServer) -> None:
    body = json.dumps({"model": "m", "max_tokens": 10, "messages": []}).encode()
    request = urllib.request.Request(
        server.root_url + "/v1/messages",
        data=body,
        headers={"content-type": "application/json", "x-api-key": "k"},
    )
    try:
        urllib.request.urlopen(request, timeout=2).read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass  # the broken responder may cut the connection; what matters is the report


def test_a_server_side_error_fails_the_block_after_the_server_stops() -> None:
    def broken(request: RecordedRequest) -> str:
        raise RuntimeError("a bug in the fake")

    server = AnthropicServer(broken)
    with pytest.raises(AssertionError, match="the loopback server failed"):
        with server.running():
            _post(server)
    assert "a bug in the fake" in "".join(server.errors)


def test_a_clean_run_reports_nothing() -> None:
    with AnthropicServer().running() as server:
        _post(server)
    assert server.errors == []
    assert len(server.requests) == 1
