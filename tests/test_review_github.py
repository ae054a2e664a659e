"""CI: `--format github` annotations and step summary, and the shipped composite action."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import git
from tests.fakes import Text
from tests.fakes.anthropic_server import AnthropicServer
from tests.helpers import run
from tests.samples import review_reply

ROOT = Path(__file__).resolve().parent.parent
MAJOR = "- [MAJOR] app.py:2 — Error propagation — swallowed, 50% of the time. Evidence: `pass`"
MINOR = "- [MINOR] app.py:1 — Logging — print, not a logger. Evidence: `print(x)`"
ANNOTATION = re.compile(r"^::(?P<level>error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")


def _two_commits(repo: Path) -> str:
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "app.py").write_text("print(x)\ntry:\n    f()\nexcept Exception:\n    pass\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-qm", "change")
    return base


def _parse(output: str) -> list[tuple[str, dict[str, str], str]]:
    parsed = []
    for line in output.splitlines():
        match = ANNOTATION.match(line)
        assert match, f"not a workflow command: {line!r}"
        props = dict(p.split("=", 1) for p in match["props"].split(","))
        parsed.append((match["level"], props, match["message"]))
    return parsed


def test_github_format_annotates_each_finding_and_writes_the_summary(
    repo: Path, claude: AnthropicServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _two_commits(repo)
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    claude.script(Text(review_reply([MAJOR, MINOR])))
    result = run("review", "--range", f"{base}..HEAD", "--format", "github")
    assert result.exit_code == 1
    (major, minor, outcome) = _parse(result.stdout)
    assert major == (
        "error",
        {"file": "app.py", "line": "2", "title": "MAJOR Error propagation"},
        "swallowed, 50%25 of the time. Evidence: `pass`",
    )
    assert minor[0] == "warning" and minor[1]["line"] == "1"  # below the threshold
    assert outcome[0] == "error" and outcome[1] == {"title": "specflow review%3A FAIL"}
    text = summary.read_text()
    assert text.startswith("# earlier step\n## specflow review: FAIL\n")  # appended
    assert "| MAJOR | `app.py:2` | Error propagation |" in text


def test_json_is_the_short_form_of_format_json(repo: Path, claude: AnthropicServer) -> None:
    base = _two_commits(repo)
    claude.script(Text(review_reply()))
    short = run("review", "--range", f"{base}..HEAD", "--json")
    long = run("review", "--range", f"{base}..HEAD", "--format", "json")
    assert json.loads(short.stdout)["outcome"] == "PASS"
    assert json.loads(long.stdout) == {**json.loads(short.stdout), "cached": True}


def _action() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "action.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_action_yml_is_a_composite_action_with_the_documented_inputs() -> None:
    action = _action()
    inputs = action["inputs"]
    assert isinstance(inputs, dict)
    assert set(inputs) == {"base", "head", "threshold", "model"}
    assert all(not spec["required"] for spec in inputs.values())
    runs = action["runs"]
    assert isinstance(runs, dict) and runs["using"] == "composite"
    install, review = runs["steps"]
    assert '"$GITHUB_ACTION_PATH"' in install["run"]  # specflow at the action's own ref
    assert "python3 -m venv" in install["run"] and "GITHUB_PATH" in install["run"]
    assert "--format github" in review["run"]
    readme = (ROOT / "README.md").read_text()
    for name in inputs:
        assert f"{name}:" in readme.split("## Review in CI", 1)[1], name


def test_the_action_script_reviews_the_range_in_ci(
    repo: Path, claude: AnthropicServer, tmp_path: Path
) -> None:
    base = _two_commits(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    runs = _action()["runs"]
    assert isinstance(runs, dict)
    review_step = runs["steps"][1]
    claude.script(Text(review_reply([MAJOR])))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CI": "true",
        "SPECFLOW_BASE": base,
        "SPECFLOW_HEAD": head,
        "SPECFLOW_THRESHOLD": "MAJOR",
        "SPECFLOW_REVIEW_MODEL": "",
    }
    done = subprocess.run(
        ["bash", "-c", review_step["run"]], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("::error file=app.py,line=2,title=MAJOR Error propagation::")
    # A fork's pull request has no secrets: NOT REVIEWED, and the step fails (exit 3).
    del env["ANTHROPIC_API_KEY"]
    shutil.rmtree(repo / ".specflow/cache")  # a fresh runner has no verdict cache
    fork = subprocess.run(
        ["bash", "-c", review_step["run"]], cwd=repo, env=env, capture_output=True, text=True
    )
    assert fork.returncode == 3
    assert "::warning title=specflow review%3A NOT REVIEWED::no model credentials in CI" in (
        fork.stdout
    )


def test_an_unwritable_step_summary_is_a_notice_not_a_crash(
    repo: Path, claude: AnthropicServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _two_commits(repo)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing" / "summary.md"))
    claude.script(Text(review_reply()))
    result = run("review", "--range", f"{base}..HEAD", "--format", "github")
    assert result.exit_code == 0
    assert result.stdout == "::notice title=specflow review%3A PASS::PASS\n"
    assert "could not append the summary to $GITHUB_STEP_SUMMARY" in result.stderr
