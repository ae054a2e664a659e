"""The scope and spec stages hold replies to the content checks with the task's context:
the rules' hedges, the description, the repository's files, the resolved UNKNOWNs, the
switched-off rules. Runs through the CLI against the in-process scripted provider."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from specflow.config import load_config
from specflow.errors import ConfigError
from specflow.stages import session as session_module
from tests.support.helpers import run
from tests.support.samples import SCOPE_REPLY, SPEC_REPLY, SPEC_REPLY_NO_UNKNOWNS
from tests.support.scripted import ScriptedProvider, request_text

SLUG = "exporter"
DESCRIPTION = "Prometheus exporter for the job table. The exporter listens on port 9187."
CONCRETE = "2. Cache the query result for 15 seconds."
VAGUE_SPEC = SPEC_REPLY.replace(CONCRETE, "2. Handle errors appropriately.")


@pytest.fixture
def task(repo: Path) -> Path:
    result = run("new", DESCRIPTION, "--name", SLUG)
    assert result.exit_code == 0, result.output
    return repo / ".specflow" / "tasks" / SLUG


@pytest.fixture
def answered(task: Path, tmp_path: Path) -> Path:
    reply = tmp_path / "scope.md"
    reply.write_text(SCOPE_REPLY)
    assert run("scope", "--reply", str(reply)).exit_code == 0
    for n in range(1, 6):
        assert run("answer", str(n), f"answer {n}").exit_code == 0
    return task


def _task_json(task: Path) -> dict[str, object]:
    data = json.loads((task / "task.json").read_text())
    assert isinstance(data, dict)
    return data


# -- spec --------------------------------------------------------------------------------------


def test_a_vague_directive_is_reasked_and_the_concrete_spec_written(
    answered: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(VAGUE_SPEC, SPEC_REPLY)
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 2
    reask = request_text(scripted.requests[1])
    assert "Handle errors appropriately" in reask
    assert "spec.vague-directive" in reask or "vague" in reask.lower()
    assert (answered / "spec.md").read_text() == SPEC_REPLY


def test_a_near_miss_directive_is_written_first_time(
    answered: Path, scripted: ScriptedProvider
) -> None:
    near = SPEC_REPLY.replace(
        CONCRETE, "2. Log `cx_Oracle.DatabaseError` at ERROR and retry 3 times."
    )
    scripted.enqueue(near)
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 1
    assert (answered / "spec.md").read_text() == near


def test_a_revision_reopening_a_resolved_item_is_reasked_quoting_the_resolution(
    answered: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(SPEC_REPLY)
    assert run("spec").exit_code == 0
    resolved = run("resolve", "U1", "prometheus.yml sets scrape_interval to 30s")
    assert resolved.exit_code == 0, resolved.output
    scripted.enqueue(SPEC_REPLY, SPEC_REPLY_NO_UNKNOWNS)  # re-opens U1 verbatim, then revised
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 3
    reask = request_text(scripted.requests[2])
    assert '"prometheus.yml sets scrape_interval to 30s"' in reask
    assert (answered / "spec.md").read_text() == SPEC_REPLY_NO_UNKNOWNS


def test_a_git_path_in_the_file_plan_is_reasked(answered: Path, scripted: ScriptedProvider) -> None:
    bad = SPEC_REPLY.replace("`src/exporter/server.py`", "`.git/hooks/post-checkout`")
    scripted.enqueue(bad, SPEC_REPLY)
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 2
    assert "`.git/hooks/post-checkout`" in request_text(scripted.requests[1])
    assert ".git/hooks" not in (answered / "spec.md").read_text()


def test_an_identifier_in_prose_is_no_planned_file_and_next_names_a_real_path(
    answered: Path, scripted: ScriptedProvider
) -> None:
    prose = SPEC_REPLY_NO_UNKNOWNS.replace(
        "- `src/exporter/collector.py` (create)",
        "- Signed tokens are checked with `TimestampSigner.unsign` before anything else.\n"
        "- `src/exporter/collector.py` (create)",
    )
    scripted.enqueue(prose)
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert "Next: specflow implement --file src/exporter/collector.py" in result.output
    assert "--file TimestampSigner" not in result.output


def test_an_existing_file_without_extension_is_planned(
    answered: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    """The contract is told which files exist: `Makefile` has no `/` and no extension, so
    only the repository can say it is a file."""
    (repo / "Makefile").write_text("all:\n")
    first = SPEC_REPLY_NO_UNKNOWNS.replace(
        "- `src/exporter/collector.py` (create)",
        "- `Makefile` (change) — a `metrics` target.\n- `src/exporter/collector.py` (create)",
    )
    scripted.enqueue(first)
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert "Next: specflow implement --file Makefile" in result.output


def test_the_projects_rules_file_sets_the_hedges(
    answered: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    packaged = (Path(__file__).parents[1] / "rules" / "rules.md").read_text()
    assert "`hopefully`" in packaged
    rules = repo / ".specflow" / "rules" / "rules.md"
    rules.parent.mkdir(parents=True, exist_ok=True)
    rules.write_text(packaged.replace("`hopefully`", "`hopefully`, `presumably`"))
    hedged = SPEC_REPLY.replace("serve last values", "presumably serve last values")
    scripted.enqueue(hedged, SPEC_REPLY)
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 2
    assert '"presumably"' in request_text(scripted.requests[1])


def test_without_the_override_that_phrase_is_no_hedge(
    answered: Path, scripted: ScriptedProvider
) -> None:
    hedged = SPEC_REPLY.replace("serve last values", "presumably serve last values")
    scripted.enqueue(hedged)
    assert run("spec").exit_code == 0
    assert len(scripted.requests) == 1


def test_a_switched_off_rule_lets_the_reply_through(
    answered: Path, scripted: ScriptedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        session_module, "disabled_rules", lambda _config: frozenset({"spec.vague-directive"})
    )
    scripted.enqueue(VAGUE_SPEC)
    result = run("spec")
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 1


def test_spec_reply_file_is_held_to_the_same_context(answered: Path, tmp_path: Path) -> None:
    reply = tmp_path / "spec.md"
    reply.write_text(VAGUE_SPEC)
    result = run("spec", "--reply", str(reply))
    assert result.exit_code == 1
    assert "Handle errors appropriately" in result.stderr
    assert not (answered / "spec.md").exists()


def test_disabled_rules_read_from_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[contracts]\ndisabled = ["spec.hedge"]\n')
    assert session_module.disabled_rules(load_config(path, {})) == frozenset({"spec.hedge"})
    assert session_module.disabled_rules(load_config(None, {})) == frozenset()
    path.write_text('[contracts]\ndisabled = ["spec.nonsense"]\n')
    with pytest.raises(ConfigError, match="`spec.nonsense`"):
        load_config(path, {})


# -- scope -------------------------------------------------------------------------------------

ANSWERED_SCOPE = SCOPE_REPLY.replace(
    "1. Which Oracle version and driver does the exporter connect with?",
    "1. Should the exporter listen on port 9187?",
)


def test_a_question_the_description_answers_is_reasked(
    task: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(ANSWERED_SCOPE, SCOPE_REPLY)
    result = run("scope")
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 2
    reask = request_text(scripted.requests[1])
    assert '"The exporter listens on port 9187."' in reask
    assert (task / "scope.md").read_text() == SCOPE_REPLY


def test_a_question_the_description_leaves_open_is_kept(
    task: Path, scripted: ScriptedProvider
) -> None:
    near = SCOPE_REPLY.replace(
        "1. Which Oracle version and driver does the exporter connect with?",
        "1. Should the exporter listen on port 9187 on every host, or only on the database host?",
    )
    scripted.enqueue(near)
    result = run("scope")
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 1
    assert (task / "scope.md").read_text() == near


def test_scope_reply_file_is_held_to_the_description(task: Path, tmp_path: Path) -> None:
    reply = tmp_path / "scope.md"
    reply.write_text(ANSWERED_SCOPE)
    result = run("scope", "--reply", str(reply))
    assert result.exit_code == 1
    assert "the description answers the question on line 3" in result.stderr
    assert not (task / "scope.md").exists()


# -- one stage at a time -----------------------------------------------------------------------

HOLD_LOCK = f"""\
import sys
from pathlib import Path
from specflow.store.workspace import Workspace
ws = Workspace(Path(sys.argv[1]))
with ws.stage_lock(ws.load("{SLUG}"), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""


def _hold(repo: Path, command: str) -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(repo), command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline() == "held\n"
        yield proc.pid
    finally:
        proc.stdin.close()
        proc.wait()
        proc.stdout.close()


@pytest.fixture
def holder(repo: Path, task: Path) -> Iterator[int]:
    """Another process runs `specflow scope` on the task: the pid holding its stage lock."""
    yield from _hold(repo, "specflow scope")


def _busy(pid: int) -> str:
    return (
        f"error: task `{SLUG}` is busy: `specflow scope` (pid {pid}) is running. Wait for it "
        f"to finish and run the command again; or stop it with `kill {pid}`.\n"
    )


def test_a_second_scope_exits_2_naming_the_command_and_pid(
    task: Path, holder: int, scripted: ScriptedProvider
) -> None:
    result = run("scope")
    assert result.exit_code == 2
    assert result.stderr == _busy(holder)
    assert scripted.requests == []  # refused before any model call
    assert not (task / "scope.md").exists()


def test_scope_reply_waits_for_no_one_either(task: Path, holder: int, tmp_path: Path) -> None:
    reply = tmp_path / "scope.md"
    reply.write_text(SCOPE_REPLY)
    result = run("scope", "--reply", str(reply))
    assert result.exit_code == 2
    assert result.stderr == _busy(holder)
    assert not (task / "scope.md").exists()


def test_spec_while_the_task_is_busy_exits_2(
    answered: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    for pid in _hold(repo, "specflow scope"):
        result = run("spec")
        assert result.exit_code == 2
        assert result.stderr == _busy(pid)
    assert scripted.requests == []
    assert not (answered / "spec.md").exists()
    scripted.enqueue(SPEC_REPLY)  # the holder is gone: the same command runs
    assert run("spec").exit_code == 0


QUICK_SCOPE = """\
## Quick Path

A one-line change to the exporter's port constant.

## File

`src/exporter/server.py`

## Directives

1. Set `PORT = 9187` in `src/exporter/server.py`.
"""


def test_spec_quick_while_the_task_is_busy_exits_2(task: Path, repo: Path, tmp_path: Path) -> None:
    reply = tmp_path / "scope.md"
    reply.write_text(QUICK_SCOPE)
    scoped = run("scope", "--reply", str(reply))
    assert scoped.exit_code == 0, scoped.output
    for pid in _hold(repo, "specflow scope"):
        result = run("spec", "--quick")
        assert result.exit_code == 2
        assert result.stderr == _busy(pid)
    assert not (task / "spec.md").exists()
    assert run("spec", "--quick").exit_code == 0
    assert (task / "spec.md").is_file()
