"""describe → scope → answer → spec, end to end: through handoff and the loopback Anthropic API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specflow.store.workspace import Workspace
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run
from tests.support.samples import BLOCKER_REPLY, SCOPE_FOUR_QUESTIONS, SCOPE_REPLY, SPEC_REPLY

SLUG = "prometheus-exporter"


@pytest.fixture
def task(repo: Path) -> Path:
    (repo / "schema.sql").write_text("CREATE TABLE jobs (id int, state text);\n")
    result = run(
        "new", "Prometheus exporter for the job table", "--name", SLUG, "--context", "schema.sql"
    )
    assert result.exit_code == 0, result.output
    return repo / ".specflow" / "tasks" / SLUG


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _answer_all(count: int = 5) -> None:
    for n in range(1, count + 1):
        assert run("answer", str(n), f"answer {n}").exit_code == 0


def _state(task: Path) -> str:
    return str(json.loads((task / "task.json").read_text())["state"])


# -- handoff -----------------------------------------------------------------------------------


def test_handoff_writes_the_prompt_and_the_reply_is_ingested(task: Path, tmp_path: Path) -> None:
    result = run("scope")
    assert result.exit_code == 0, result.output
    prompt = task / "handoff" / "scope.prompt.md"
    assert prompt.is_file()
    text = prompt.read_text()
    assert "Prometheus exporter for the job table" in text
    assert "CREATE TABLE jobs" in text
    assert "temperature" in text  # the recommended settings travel with the prompt
    assert f"Wrote the prompt to .specflow/tasks/{SLUG}/handoff/scope.prompt.md" in result.stderr
    assert f"specflow scope --reply .specflow/tasks/{SLUG}/handoff/scope.reply.md" in result.stderr
    assert not (task / "scope.md").exists()
    assert _state(task) == "described"

    reply = run("scope", "--reply", _write(tmp_path / "reply.md", SCOPE_REPLY))
    assert reply.exit_code == 0, reply.output
    assert (task / "scope.md").read_text() == SCOPE_REPLY
    assert (
        "Wrote .specflow/tasks/prometheus-exporter/scope.md (round 1, 5 questions):" in reply.output
    )
    answers = (task / "answers.md").read_text()
    assert "## 1. Which Oracle version and driver does the exporter connect with?" in answers
    assert _state(task) == "scoped"


def test_reply_from_stdin(task: Path) -> None:
    result = run("scope", "--reply", "-", input=SCOPE_REPLY)
    assert result.exit_code == 0, result.output
    assert (task / "scope.md").read_text() == SCOPE_REPLY


def test_bad_reply_file_is_kept_and_nothing_written(task: Path, tmp_path: Path) -> None:
    result = run("scope", "--reply", _write(tmp_path / "bad.md", SCOPE_FOUR_QUESTIONS))
    assert result.exit_code == 1
    assert "`## Scoping Questions` has 4 questions; the contract allows 5–8" in result.stderr
    kept = list((task / "attempts").glob("scope-*.md"))
    assert len(kept) == 1 and kept[0].read_text() == SCOPE_FOUR_QUESTIONS
    assert f".specflow/tasks/{SLUG}/attempts/{kept[0].name}" in result.stderr
    assert not (task / "scope.md").exists()
    assert _state(task) == "described"


def test_missing_reply_file(task: Path) -> None:
    result = run("scope", "--reply", "nope.md")
    assert result.exit_code == 2
    assert result.stderr == "error: --reply nope.md: no such file\n"


def test_whole_flow_through_handoff(task: Path, tmp_path: Path) -> None:
    assert run("scope", "--reply", _write(tmp_path / "s.md", SCOPE_REPLY)).exit_code == 0
    early = run("spec", "--reply", _write(tmp_path / "spec.md", SPEC_REPLY))
    assert early.exit_code == 2
    assert (
        "5 question(s) in .specflow/tasks/prometheus-exporter/answers.md have no answer yet"
        in early.stderr
    )
    assert "  1. Which Oracle version and driver does the exporter connect with?" in early.stderr
    _answer_all()
    assert _state(task) == "answered"
    result = run("spec", "--reply", str(tmp_path / "spec.md"))
    assert result.exit_code == 0, result.output
    assert (task / "spec.md").read_text() == SPEC_REPLY
    assert "1 UNKNOWN item(s) are open:" in result.output
    assert "  U1: the scrape interval in production (verify: read prometheus.yml;" in result.output
    assert _state(task) == "specced"
    data = json.loads(run("unknowns", "--json").output)
    assert data["unknowns"][0]["id"] == "U1" and data["unknowns"][0]["status"] == "open"
    assert run("resolve", "U1", "15 seconds, from prometheus.yml").exit_code == 0
    data = json.loads(run("unknowns", "--json").output)
    assert data["unknowns"][0]["status"] == "resolved"
    assert data["unknowns"][0]["resolution"] == "15 seconds, from prometheus.yml"
    prompt = run("prompt", "spec")
    assert "15 seconds, from prometheus.yml" in prompt.output  # the revision carries it
    assert "## Intent" in prompt.output  # and the previous spec
    unknown = run("resolve", "U9", "x")
    assert unknown.exit_code == 2
    assert "no UNKNOWN `U9` in task `prometheus-exporter`; its ids: U1" in unknown.stderr


def test_blocker_marks_the_task_blocked(task: Path, tmp_path: Path) -> None:
    result = run("scope", "--reply", _write(tmp_path / "b.md", BLOCKER_REPLY))
    assert result.exit_code == 0, result.output
    assert "The task is blocked" in result.output
    assert "Read-only credentials for a test instance." in result.output
    assert _state(task) == "blocked"
    assert (task / "scope.md").read_text() == BLOCKER_REPLY
    spec = run("spec", "--reply", _write(tmp_path / "spec.md", SPEC_REPLY))
    assert spec.exit_code == 2
    assert "is blocked" in spec.stderr


def test_answer_without_a_terminal(task: Path, tmp_path: Path) -> None:
    run("scope", "--reply", _write(tmp_path / "s.md", SCOPE_REPLY))
    result = run("answer")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: no terminal to ask on; edit .specflow/tasks/prometheus-exporter/answers.md "
        'or pass the answer: specflow answer N "TEXT"\n'
    )
    bad = run("answer", "9", "x")
    assert bad.exit_code == 2
    assert "no question 9" in bad.stderr
    assert run("answer", "2", "skip: nobody knows").exit_code == 0
    assert "skip: nobody knows" in (task / "answers.md").read_text()


def test_answer_on_a_terminal(task: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("scope", "--reply", _write(tmp_path / "s.md", SCOPE_REPLY))
    monkeypatch.setattr("specflow.cli.tasks._interactive", lambda: True)
    result = run("answer", input="19c\n2M rows\nall states\n15s\nvault\n")
    assert result.exit_code == 0, result.output
    assert "All questions answered. Next: specflow spec" in result.output
    assert _state(task) == "answered"


def test_follow_up_round_includes_earlier_questions_and_answers(task: Path, tmp_path: Path) -> None:
    run("scope", "--reply", _write(tmp_path / "s.md", SCOPE_REPLY))
    run("answer", "1", "Oracle 19c with python-oracledb")
    prompt = run("prompt", "scope")
    assert "Oracle 19c with python-oracledb" in prompt.output
    result = run("scope", "--reply", str(tmp_path / "s.md"))
    assert result.exit_code == 0
    assert "(round 2, 5 questions)" in result.output
    assert (task / "rounds" / "answers-1.md").is_file()
    assert "Oracle 19c" in (task / "rounds" / "answers-1.md").read_text()


def test_missing_template_variable_names_template_and_variable(task: Path) -> None:
    override = task.parent.parent / "templates"
    override.mkdir()
    (override / "scope.md.j2").write_text("Ask about {{ no_such_thing }}\n")
    result = run("prompt", "scope")
    assert result.exit_code == 2
    assert "templates/scope.md.j2" in result.stderr
    assert "'no_such_thing' is undefined" in result.stderr


# -- through the loopback Anthropic API ---------------------------------------------------------


def test_scope_against_the_api(task: Path, claude: AnthropicServer) -> None:
    claude.script(Text(SCOPE_REPLY))
    result = run("scope")
    assert result.exit_code == 0, result.output
    assert (task / "scope.md").read_text() == SCOPE_REPLY
    (request,) = claude.requests
    body = request.body
    assert body["stream"] is True
    assert "temperature" not in json.dumps(body)  # current model: effort, not sampling
    assert body["output_config"] == {"effort": "high"}
    system = body["system"]
    assert system[0]["cache_control"] == {"type": "ephemeral"}
    assert "## DO NOT" in system[0]["text"]
    user = body["messages"][-1]["content"]
    text = user if isinstance(user, str) else user[0]["text"]
    assert "Prometheus exporter for the job table" in text
    assert "untrusted" in text.lower()
    assert "scope: not honoured: temperature" in result.stderr
    log = json.loads(run("log", "--json").output)
    assert log["stages"]["scope"]["calls"] == 1


def test_reask_replaces_the_failed_attempt(task: Path, claude: AnthropicServer) -> None:
    claude.script(Text(SCOPE_FOUR_QUESTIONS), Text(SCOPE_FOUR_QUESTIONS), Text(SCOPE_REPLY))
    result = run("scope")
    assert result.exit_code == 0, result.output
    assert len(claude.requests) == 3
    first, second, third = (r.body["messages"] for r in claude.requests)
    assert len(first) == 1
    assert len(second) == 3 and len(third) == 3  # replaced, not stacked
    reask = second[2]["content"]
    reask_text = reask if isinstance(reask, str) else reask[0]["text"]
    assert "has 4 questions; the contract allows 5–8" in reask_text
    assert len(list((task / "attempts").glob("scope-*.md"))) == 2
    records = [json.loads(line) for line in (task / "transcript.jsonl").read_text().splitlines()]
    assert [r["contract_ok"] for r in records] == [False, False, True]
    assert [r["attempt"] for r in records] == [1, 2, 3]


def test_retries_exhausted(task: Path, claude: AnthropicServer) -> None:
    claude.script(*[Text(SCOPE_FOUR_QUESTIONS)] * 3)
    result = run("scope")
    assert result.exit_code == 1
    assert "the scope reply breaks its contract after 3 attempts:" in result.stderr
    assert "has 4 questions; the contract allows 5–8" in result.stderr
    kept = sorted((task / "attempts").glob("scope-*.md"))
    assert len(kept) == 3
    assert f"--reply .specflow/tasks/{SLUG}/attempts/{kept[-1].name}" in result.stderr
    assert not (task / "scope.md").exists()
    assert _state(task) == "described"


def test_full_flow_against_the_api(task: Path, claude: AnthropicServer) -> None:
    claude.script(Text(SCOPE_REPLY))
    assert run("scope").exit_code == 0
    _answer_all()
    claude.script(Text(SPEC_REPLY))
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert (task / "spec.md").read_text() == SPEC_REPLY
    spec_request = claude.requests[-1].body
    user = spec_request["messages"][-1]["content"]
    text = user if isinstance(user, str) else user[0]["text"]
    assert "answer 3" in text
    assert "## Error Handling Matrix" in "".join(b["text"] for b in spec_request["system"])
    assert Workspace(task.parent.parent.parent).load(SLUG).state == "specced"


def test_check_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    good = run("check", "scope", _write(tmp_path / "good.md", SCOPE_REPLY))
    assert good.exit_code == 0
    assert good.output == f"{tmp_path / 'good.md'}: holds the scope contract\n"
    bad = run("check", "scope", _write(tmp_path / "bad.md", "Intro\n" + SCOPE_REPLY))
    assert bad.exit_code == 1
    assert bad.stdout.startswith(f"{tmp_path / 'bad.md'}:1: ")
    spec = run("check", "spec", _write(tmp_path / "spec.md", SPEC_REPLY))
    assert spec.exit_code == 0, spec.output
