"""`specflow prompt review`: the gate's prompt for a change, printed like the other stages'."""

from __future__ import annotations

import random
import string
from pathlib import Path

from tests.conftest import git
from tests.support.helpers import run, specced_task
from tests.support.samples import SPEC_REPLY_NO_UNKNOWNS

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
