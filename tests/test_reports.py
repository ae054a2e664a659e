"""specflow models and log, and the terminal printer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from specflow.ui import StreamPrinter
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.fakes.openai_server import OpenAIServer
from tests.support.helpers import run
from tests.support.samples import SCOPE_REPLY


def test_models_without_credentials_recommends_for_handoff(repo: Path) -> None:
    result = run("models")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "provider: handoff (setting: auto)   model: claude-sonnet-5-5"
    assert "scope      handoff claude-sonnet-5-5" in lines
    assert (
        "           recommends temperature=0.8, effort=high, thinking=adaptive, max_tokens=16000"
        in lines
    )


def test_models_for_a_current_and_an_older_claude(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    current = json.loads(run("models", "--json").output)
    assert current["provider"] == "anthropic"
    assert current["stages"]["scope"]["send"] == {"effort": "high", "thinking": "adaptive"}
    assert "temperature" in current["stages"]["scope"]["withheld"]
    older = run("models", "--model", "claude-haiku-4-5")
    assert (
        "scope      anthropic claude-haiku-4-5\n           sends temperature=0.8, max_tokens=16000"
        in older.output
    )
    assert "not honoured: effort" in older.output


def test_models_for_a_local_server(repo: Path) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text(
        'provider = "openai"\nmodel = "qwen2.5-coder:14b"\n[stages.scope]\ntop_k = 40\n'
    )
    data = json.loads(run("models", "--json").output)
    assert data["stages"]["scope"]["send"] == {"temperature": 0.8, "top_k": 40}
    assert "effort" in data["stages"]["scope"]["withheld"]


def test_models_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("models").exit_code == 0


def test_log_counts_calls_and_tokens(
    repo: Path, anthropic_server: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.root_url)
    run("new", "A task")
    assert run("log").output == "Task a-task: no model exchanges yet.\n"
    anthropic_server.script(Text(SCOPE_REPLY))
    assert run("scope").exit_code == 0
    data = json.loads(run("log", "--json").output)
    scope = data["stages"]["scope"]
    assert scope["calls"] == 1 and scope["retries"] == 0
    assert scope["input_tokens"] + scope["cache_write_tokens"] > 0
    assert scope["output_tokens"] > 0
    assert scope["cost_usd"] > 0
    text = run("log").output.splitlines()
    assert text[0] == "Task a-task"
    assert text[2].startswith("scope          1       0")
    transcript = (repo / ".specflow/tasks/a-task/transcript.jsonl").read_text()
    assert "sk-ant-x" not in transcript


def test_printer_restart_says_what_was_discarded() -> None:
    out = io.StringIO()
    printer = StreamPrinter(out)
    printer.waiting("scope: waiting")
    printer("partial ")
    printer.restart("HTTP 529 overloaded; retrying in 0.5 s")
    printer("whole reply")
    printer.done()
    assert out.getvalue() == (
        "scope: waiting\npartial \n[specflow] HTTP 529 overloaded; retrying in 0.5 s; the partial "
        "reply above is discarded\nwhole reply\n"
    )


def test_scope_through_a_local_openai_compatible_server(
    repo: Path, openai_server: OpenAIServer
) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text(
        'provider = "openai"\nmodel = "qwen2.5-coder:14b"\n'
        f'[openai]\nbase_url = "{openai_server.base_url}"\n'
        "[stages.scope]\ntop_k = 40\n"
    )
    run("new", "Add a health endpoint")
    openai_server.script(Text(SCOPE_REPLY))
    result = run("scope")
    assert result.exit_code == 0, result.output
    assert "scope: sending temperature=0.8, top_k=40 to qwen2.5-coder:14b" in result.stderr
    assert "scope: not honoured: effort" in result.stderr
    (request,) = openai_server.requests
    assert request.body["model"] == "qwen2.5-coder:14b"
    assert request.body["temperature"] == 0.8
    assert request.body["top_k"] == 40
    assert (repo / ".specflow/tasks/add-a-health-endpoint/scope.md").read_text() == SCOPE_REPLY
