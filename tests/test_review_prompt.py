"""`specflow prompt review`: the gate's prompt for a change, printed like the other stages'."""

from __future__ import annotations

import random
import string
from pathlib import Path

from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run, specced_task
from tests.support.samples import SPEC_REPLY_NO_UNKNOWNS, review_reply

COLLECTOR = "src/exporter/collector.py"


def test_prompt_review_prints_the_staged_change_with_the_spec(repo: Path, tmp_path: Path) -> None:
    specced_task(tmp_path, "exporter", SPEC_REPLY_NO_UNKNOWNS)
    (repo / "src/exporter").mkdir(parents=True)
    (repo / COLLECTOR).write_text("X = 1\n")
    git(repo, "add", COLLECTOR)
    result = run("prompt", "review", "--staged")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<!-- specflow: system prompt -->\n")
    assert "# The spec\n\n## Intent" in result.output  # the task's spec, picked as the gate does
    assert "+X = 1" in result.output
    assert result.output.count("<!-- specflow: user -->") == 1
    assert run("prompt", "review").output == result.output  # --staged is the default
    assert not (repo / ".specflow" / "cache" / "review").exists()  # nothing written


def test_prompt_review_redacts_secrets_and_says_so(repo: Path) -> None:
    token = "ghp_" + "".join(random.choices(string.ascii_letters + string.digits, k=36))
    (repo / "app.py").write_text(f'TOKEN = "{token}"\n')
    git(repo, "add", "app.py")
    result = run("prompt", "review")
    assert result.exit_code == 0, result.output
    assert token not in result.output + result.stderr
    assert "«secret:github-token:" in result.output
    assert result.stderr == (
        "note: app.py:1: a secret is redacted in this prompt; the gate blocks the change "
        "without asking a model\n"
    )


def test_prompt_review_of_a_range_and_of_nothing(repo: Path) -> None:
    empty = run("prompt", "review")
    assert empty.exit_code == 2
    assert empty.stderr.startswith("error: nothing to review in the staged change")
    (repo / "a.py").write_text("A = 1\n")
    git(repo, "add", "a.py")
    git(repo, "commit", "-qm", "a")
    result = run("prompt", "review", "--range", "HEAD~1..HEAD")
    assert result.exit_code == 0, result.output
    assert "+A = 1" in result.output
    both = run("prompt", "review", "--staged", "--range", "HEAD~1..HEAD")
    assert both.exit_code == 2


def test_the_review_system_prompt_carries_the_rules_and_the_compact_checklist(
    repo: Path, claude: AnthropicServer
) -> None:
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "app.py")
    claude.script(Text(review_reply()))
    assert run("review").exit_code == 0
    system = claude.requests[0].body["system"]
    text = system if isinstance(system, str) else "\n".join(b["text"] for b in system)
    assert "## Untrusted context" in text  # the behavioural rules
    assert "## Review Checklist" in text
    assert "- Logging: logging framework, not print;" in text  # one line per item
    # not the whole standards document: no detailed section
    assert "## Logging" not in text
    assert "Configure handlers and format once, at the entry point" not in text
