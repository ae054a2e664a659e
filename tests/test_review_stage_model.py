"""The review gate talks to the review stage's own model (`[stages.review]`): the provider
checks, the request and the verdict cache's key all follow it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run
from tests.support.samples import review_reply


def _setup(repo: Path, config: str) -> None:
    (repo / ".specflow").mkdir(exist_ok=True)
    (repo / ".specflow/config.toml").write_text(config)
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "app.py")


def _review() -> tuple[int, dict[str, object]]:
    result = run("review", "--json")
    return result.exit_code, json.loads(result.stdout)


def test_the_review_stage_model_reaches_the_server_and_keys_the_cache(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECFLOW_REVIEW_MEMO", "0")  # the verdict cache itself, not the memo
    _setup(repo, 'model = "claude-opus-5-5"\n[stages.review]\nmodel = "claude-haiku-5-5"\n')
    claude.script(Text(review_reply()))
    code, data = _review()
    assert code == 0 and data["outcome"] == "PASS"
    assert [r.body["model"] for r in claude.requests] == ["claude-haiku-5-5"]
    # The same model again: the verdict comes from the cache.
    code, data = _review()
    assert code == 0 and data["cached"] is True and len(claude.requests) == 1
    # Another review model: its verdict is not the first one's.
    (repo / ".specflow/config.toml").write_text(
        'model = "claude-opus-5-5"\n[stages.review]\nmodel = "claude-sonnet-5-5"\n'
    )
    claude.script(Text(review_reply()))
    code, data = _review()
    assert code == 0 and data["cached"] is False
    assert [r.body["model"] for r in claude.requests] == ["claude-haiku-5-5", "claude-sonnet-5-5"]


def test_the_global_model_does_not_key_the_cache_when_the_review_has_its_own(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # near miss of the above: changing the model the review does not use keeps its verdict
    monkeypatch.setenv("SPECFLOW_REVIEW_MEMO", "0")
    _setup(repo, 'model = "claude-opus-5-5"\n[stages.review]\nmodel = "claude-haiku-5-5"\n')
    claude.script(Text(review_reply()))
    assert _review()[0] == 0
    (repo / ".specflow/config.toml").write_text(
        'model = "claude-sonnet-5-5"\n[stages.review]\nmodel = "claude-haiku-5-5"\n'
    )
    code, data = _review()
    assert code == 0 and data["cached"] is True and len(claude.requests) == 1


def test_a_handoff_review_stage_writes_the_prompt_even_with_a_key(
    repo: Path, claude: AnthropicServer
) -> None:
    _setup(repo, '[stages.review]\nprovider = "handoff"\n')
    code, data = _review()
    assert code == 0 and data["outcome"] == "NOT REVIEWED"
    assert "no model configured" in str(data["reason"])
    assert claude.requests == []
    assert (repo / ".specflow/cache/review/handoff/review.prompt.md").is_file()


def test_a_handoff_review_stage_in_ci_is_not_reviewed_and_fails_closed(
    repo: Path, claude: AnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    _setup(repo, '[stages.review]\nprovider = "handoff"\n')
    code, data = _review()
    assert code == 3 and data["outcome"] == "NOT REVIEWED"
    assert "no model credentials in CI" in str(data["reason"])
    assert claude.requests == []
