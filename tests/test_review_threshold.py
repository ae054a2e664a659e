"""One value, one route: the threshold the review prompt states is the one its contract holds."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import git
from tests.fakes import Text
from tests.fakes.anthropic_server import AnthropicServer
from tests.helpers import run

MINOR_FAIL = (
    "## Verdict\n\nFAIL\n\n## Findings\n\n"
    "- [MINOR] app.py:1 — Logging — print instead of a logger. Evidence: `print(x)`\n"
)


def _stage_change(repo: Path) -> None:
    (repo / "app.py").write_text("print(x)\n")
    git(repo, "add", "app.py")


def _system_text(claude: AnthropicServer) -> str:
    return json.dumps(claude.requests[-1].body["system"])


def test_configured_minor_threshold_holds_a_minor_fail_first_time(
    repo: Path, claude: AnthropicServer
) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow/config.toml").write_text('[review]\nthreshold = "MINOR"\n')
    _stage_change(repo)
    claude.script(Text(MINOR_FAIL))
    result = run("review", "--json")
    assert len(claude.requests) == 1  # no re-ask: the reply obeyed its prompt
    assert "FAIL if and only if a finding is MINOR or more severe" in _system_text(claude)
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert data["verdict"] == "FAIL" and data["threshold"] == "MINOR"


def test_threshold_flag_reaches_the_prompt_and_the_contract(
    repo: Path, claude: AnthropicServer
) -> None:
    _stage_change(repo)
    claude.script(Text(MINOR_FAIL))
    result = run("review", "--json", "--threshold", "MINOR")
    assert len(claude.requests) == 1
    assert "FAIL if and only if a finding is MINOR or more severe" in _system_text(claude)
    assert result.exit_code == 1
    # The near miss: at the default MAJOR, the same reply breaks the contract (its verdict
    # contradicts its findings) and the prompt says MAJOR.
    claude.script(Text(MINOR_FAIL), Text(MINOR_FAIL), Text(MINOR_FAIL))
    refused = run("review", "--json", "--no-cache")
    assert "FAIL if and only if a finding is MAJOR or more severe" in _system_text(claude)
    assert len(claude.requests) == 4
    assert refused.exit_code != 0
