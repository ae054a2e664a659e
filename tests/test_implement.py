"""specflow implement: path safety, the plan, UNKNOWNs, user changes, re-ask, re-anchoring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from specflow.tokens import estimate_tokens
from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run, specced_task
from tests.support.samples import SPEC_REPLY, SPEC_REPLY_NO_UNKNOWNS, implement_reply
from tests.support.scripted import ScriptedProvider, request_text

SLUG = "exporter"
COLLECTOR = "src/exporter/collector.py"
SERVER = "src/exporter/server.py"


def _specced(repo: Path, tmp_path: Path, spec: str = SPEC_REPLY_NO_UNKNOWNS) -> Path:
    return specced_task(tmp_path, SLUG, spec)


@pytest.fixture
def task(repo: Path, tmp_path: Path) -> Path:
    return _specced(repo, tmp_path)


def _reply(tmp_path: Path, path: str, code: str, name: str = "reply.md") -> str:
    file = tmp_path / name
    file.write_text(implement_reply(path, code))
    return str(file)


def _config(repo: Path, text: str) -> None:
    (repo / ".specflow" / "config.toml").write_text(text)


def _user_text(message: dict[str, object]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    assert isinstance(content, list)
    return "".join(str(block["text"]) for block in content)


# -- writing one file ---------------------------------------------------------------------------


def test_writes_the_file_prints_diff_and_self_review(
    task: Path, repo: Path, tmp_path: Path
) -> None:
    result = run(
        "implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 1\n")
    )
    assert result.exit_code == 0, result.output
    assert (repo / COLLECTOR).read_text() == "X = 1\n"
    assert f"+++ b/{COLLECTOR}\n" in result.output
    assert "+X = 1\n" in result.output
    assert "  Logging: PASS — checked against the spec" in result.output
    assert f"Wrote {COLLECTOR}. Review it before going on." in result.output
    assert f"Next: specflow implement --file {SERVER}" in result.output
    state = json.loads((task / "task.json").read_text())
    assert state["state"] == "implementing"
    assert [f["path"] for f in state["files"]] == [COLLECTOR]


def test_handoff_prompt_names_the_file_to_continue(task: Path) -> None:
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    prompt = (task / "handoff" / "implement.prompt.md").read_text()
    assert f"## File to write: `{COLLECTOR}`" in prompt
    assert f"specflow implement --file {COLLECTOR} --reply" in result.stderr


@pytest.mark.parametrize(
    "raw", ["../outside.py", "/etc/passwd", ".git/config", ".specflow/x.py", "src/../../escape.py"]
)
def test_unsafe_paths_are_refused(task: Path, repo: Path, tmp_path: Path, raw: str) -> None:
    result = run(
        "implement", "--file", raw, "--allow-unplanned", "--reply", _reply(tmp_path, raw, "X = 1\n")
    )
    assert result.exit_code == 2
    assert f"--file {raw}:" in result.stderr
    assert not (repo.parent / "outside.py").exists() and not (repo.parent / "escape.py").exists()


@pytest.mark.parametrize(
    "raw",
    [
        "vendor/lib/.git/config",  # a nested repository or submodule
        ".GIT/hooks/pre-commit",  # case-folding file systems (macOS, Windows)
        "sub/.Git/HEAD",
        ".SpecFlow/config.toml",
        "pkg/.specflow/tasks/x/task.json",
    ],
)
def test_git_and_specflow_folders_at_any_depth_and_case_are_refused(
    task: Path, repo: Path, tmp_path: Path, raw: str
) -> None:
    result = run(
        "implement", "--file", raw, "--allow-unplanned", "--reply", _reply(tmp_path, raw, "X=1\n")
    )
    assert result.exit_code == 2
    bad = next(p for p in raw.split("/") if p.casefold() in (".git", ".specflow"))
    assert result.stderr.startswith(f"error: --file {raw}: inside {bad}/, which specflow never")
    assert not (repo / raw).exists()


@pytest.mark.parametrize("raw", [".gitignore", ".github/workflows/ci.yml", "docs/git/intro.md"])
def test_names_that_only_look_like_git_are_written(task: Path, repo: Path, raw: str) -> None:
    from specflow.stages.implement.target import resolve_target

    assert resolve_target(repo, raw).rel == raw


def test_implement_on_a_busy_task_exits_2_at_once(task: Path, repo: Path, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(repo)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        result = run(
            "implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 1\n")
        )
    finally:
        holder.stdin.close()
        holder.wait()
        holder.stdout.close()
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: task `{SLUG}` is busy: `specflow spec` (pid {holder.pid}) is running. Wait for "
        f"it to finish and run the command again; or stop it with `kill {holder.pid}`.\n"
    )
    assert not (repo / COLLECTOR).exists()
    # the holder is gone: the same command now runs
    again = run("implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 1\n"))
    assert again.exit_code == 0, again.output


HOLD_LOCK = f"""\
import sys
from pathlib import Path
from specflow.store.workspace import Workspace
ws = Workspace(Path(sys.argv[1]))
with ws.stage_lock(ws.load("{SLUG}"), "specflow spec"):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_symlink_escaping_the_repository(task: Path, repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / "src").mkdir()
    (repo / "src" / "link").symlink_to(outside)
    result = run(
        "implement",
        "--file",
        "src/link/evil.py",
        "--allow-unplanned",
        "--reply",
        _reply(tmp_path, "src/link/evil.py", "X = 1\n"),
    )
    assert result.exit_code == 2
    assert "outside the repository" in result.stderr
    assert not (outside / "evil.py").exists()


def test_unplanned_file(task: Path, repo: Path, tmp_path: Path) -> None:
    result = run(
        "implement",
        "--file",
        "src/other.py",
        "--reply",
        _reply(tmp_path, "src/other.py", "Y = 2\n"),
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: src/other.py is not in the spec's file plan ({COLLECTOR}, {SERVER}); add it "
        "to the plan in spec.md, or pass --allow-unplanned\n"
    )
    allowed = run(
        "implement",
        "--file",
        "src/other.py",
        "--allow-unplanned",
        "--reply",
        _reply(tmp_path, "src/other.py", "Y = 2\n"),
    )
    assert allowed.exit_code == 0, allowed.output
    assert (repo / "src/other.py").read_text() == "Y = 2\n"


def test_open_unknown_blocks_the_file_it_names(repo: Path, tmp_path: Path) -> None:
    _specced(repo, tmp_path, SPEC_REPLY)  # U1 blocks the collector
    blocked = run(
        "implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 1\n")
    )
    assert blocked.exit_code == 2
    assert f"1 open UNKNOWN item(s) block {COLLECTOR}:" in blocked.stderr
    assert "  U1: the scrape interval in production" in blocked.stderr
    assert not (repo / COLLECTOR).exists()
    other = run("implement", "--file", SERVER, "--reply", _reply(tmp_path, SERVER, "Y = 1\n"))
    assert other.exit_code == 0, other.output


def test_before_a_spec_exists(repo: Path, tmp_path: Path) -> None:
    run("new", "Something")
    result = run("implement", "--file", "a.py")
    assert result.exit_code == 2
    assert "task `something` is described; run `specflow scope` first" in result.stderr


def test_broken_reply_is_kept_and_nothing_written(task: Path, repo: Path, tmp_path: Path) -> None:
    result = run(
        "implement",
        "--file",
        COLLECTOR,
        "--reply",
        _reply(tmp_path, COLLECTOR, "def broken(:\n    pass\n"),
    )
    assert result.exit_code == 1
    assert "syntax" in result.stderr.lower()
    assert not (repo / COLLECTOR).exists()
    assert len(list((task / "attempts").glob("implement-*.md"))) == 1


# -- the user's changes ---------------------------------------------------------------------------


def test_user_changes_are_protected_and_force_keeps_a_backup(
    task: Path, repo: Path, tmp_path: Path
) -> None:
    assert (
        run(
            "implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 1\n")
        ).exit_code
        == 0
    )
    # specflow's own write, unchanged: a second run may replace it
    assert (
        run(
            "implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 2\n")
        ).exit_code
        == 0
    )
    (repo / COLLECTOR).write_text("X = 2\n# mine\n")
    refused = run(
        "implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 3\n")
    )
    assert refused.exit_code == 2
    assert f"{COLLECTOR} has uncommitted changes that specflow did not write" in refused.stderr
    assert (repo / COLLECTOR).read_text() == "X = 2\n# mine\n"
    forced = run(
        "implement",
        "--file",
        COLLECTOR,
        "--force",
        "--reply",
        _reply(tmp_path, COLLECTOR, "X = 3\n"),
    )
    assert forced.exit_code == 0, forced.output
    (backup,) = (task / "backups").rglob("collector.py.*")
    assert backup.read_text() == "X = 2\n# mine\n"
    assert (repo / COLLECTOR).read_text() == "X = 3\n"
    # the backup is the user's file as it was (secrets and all): git never sees it
    ignored = subprocess.run(["git", "check-ignore", "-q", str(backup)], cwd=repo)
    assert ignored.returncode == 0


def test_untracked_user_file_is_protected(task: Path, repo: Path, tmp_path: Path) -> None:
    (repo / "src/exporter").mkdir(parents=True)
    (repo / SERVER).write_text("# my own server\n")
    result = run("implement", "--file", SERVER, "--reply", _reply(tmp_path, SERVER, "Y = 1\n"))
    assert result.exit_code == 2
    assert (repo / SERVER).read_text() == "# my own server\n"


def test_committed_user_file_may_be_replaced(task: Path, repo: Path, tmp_path: Path) -> None:
    (repo / "src/exporter").mkdir(parents=True)
    (repo / SERVER).write_text("# committed\n")
    git(repo, "add", SERVER)
    git(repo, "commit", "-qm", "server")
    result = run("implement", "--file", SERVER, "--reply", _reply(tmp_path, SERVER, "Y = 1\n"))
    assert result.exit_code == 0, result.output
    assert "-# committed\n+Y = 1\n" in result.output


# -- test command --------------------------------------------------------------------------------


def test_test_command_failure_exits_1_and_keeps_the_file(
    task: Path, repo: Path, tmp_path: Path
) -> None:
    _config(repo, '[stages.implement]\ntest_command = "echo ran-the-tests && exit 3"\n')
    result = run(
        "implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 1\n")
    )
    assert result.exit_code == 1
    assert "$ echo ran-the-tests && exit 3  (exit 3)" in result.output
    assert "ran-the-tests" in result.output
    assert (
        f"failed (exit 3) after writing {COLLECTOR}; the file is kept for review" in result.stderr
    )
    assert (repo / COLLECTOR).read_text() == "X = 1\n"


def test_test_command_success(task: Path, repo: Path, tmp_path: Path) -> None:
    _config(repo, '[stages.implement]\ntest_command = "true"\n')
    result = run(
        "implement", "--file", COLLECTOR, "--reply", _reply(tmp_path, COLLECTOR, "X = 1\n")
    )
    assert result.exit_code == 0
    assert "$ true  (exit 0)" in result.output


# -- against the loopback API: re-ask, conversation, re-anchoring ---------------------------------


def test_syntax_error_is_sent_back_with_its_line(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(
        implement_reply(COLLECTOR, "x = 1\ndef broken(:\n"), implement_reply(COLLECTOR, "x = 1\n")
    )
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    first, second = scripted.requests
    # replaced, not stacked: the first turn, the failed reply, the re-ask
    assert [m.role for m in second.messages] == ["user", "assistant", "user"]
    assert second.messages[1].content == implement_reply(COLLECTOR, "x = 1\ndef broken(:\n")
    assert "line 2" in second.messages[-1].full_text
    assert len(list((task / "attempts").iterdir())) == 1
    assert (repo / COLLECTOR).read_text() == "x = 1\n"


def test_multi_file_session_reminds_at_the_tail(
    task: Path, repo: Path, claude: AnthropicServer
) -> None:
    _config(repo, "[anchoring]\nremind_after_tokens = 1\nmin_system_share = 0.0\n")
    claude.script(
        Text(implement_reply(COLLECTOR, "X = 1\n")), Text(implement_reply(SERVER, "Y = 1\n"))
    )
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER).exit_code == 0
    first, second = (r.body for r in claude.requests)
    assert "<specflow-reminder>" not in json.dumps(first)
    assert len(first["messages"]) == 1
    # the conversation carries on: the first exchange, then the new turn with the reminder last
    assert len(second["messages"]) == 3
    assert "X = 1" in _user_text(second["messages"][1])
    tail = _user_text(second["messages"][-1])
    assert tail.rstrip().endswith("</specflow-reminder>")
    assert "No per-job metrics." in tail  # the spec's Out of Scope
    # four breakpoints: the rules, the end of the system prompt, the previous request's turn
    # and this one; the reminder rides after the cached part, so the next request matches
    ephemeral = {"type": "ephemeral"}
    assert [b.get("cache_control") for b in second["system"]] == [ephemeral, None, ephemeral]
    previous, _answer, newest = second["messages"]
    assert previous["content"][0]["cache_control"] == ephemeral
    assert newest["content"][0]["cache_control"] == ephemeral
    assert "<specflow-reminder>" not in newest["content"][0]["text"]
    assert newest["content"][1]["text"].startswith("<specflow-reminder>")
    assert "cache_control" not in newest["content"][1]
    stored = (task / "conversations" / "implement.json").read_text()
    assert "<specflow-reminder>" not in stored
    log = json.loads(run("log", "--json").output)
    assert log["stages"]["implement"]["reanchors"] == 1
    assert log["stages"]["implement"]["resets"] == 0


LONG_MODULE = '"""Steps."""\n\n\n' + "".join(
    f"def step_{n}(value: int) -> int:\n    return value + {n}\n\n\n" for n in range(12)
)


def test_the_conversation_keeps_an_outline_of_a_long_file_not_the_reply(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    reply = implement_reply(COLLECTOR, LONG_MODULE)
    scripted.enqueue(reply, implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    stored = json.loads((task / "conversations" / "implement.json").read_text())
    # the re-anchoring ledger counts what the next request carries: the outline, not the reply
    outlined = estimate_tokens(stored["messages"][-1]["content"])
    assert stored["ledger"]["output_tokens"] == outlined < estimate_tokens(reply)
    assert run("implement", "--file", SERVER).exit_code == 0
    kept = scripted.requests[1].messages[1]
    assert kept.role == "assistant"
    lines = LONG_MODULE.count("\n")
    assert kept.content.startswith(f"`{COLLECTOR}` is written: {lines} lines; self-review 9 PASS.")
    assert "- `def step_11(value: int) -> int`" in kept.content
    assert "return value + 11" not in request_text(scripted.requests[1])
    stored = (task / "conversations" / "implement.json").read_text()
    assert "return value + 11" not in stored
    assert (repo / COLLECTOR).read_text() == LONG_MODULE  # the file itself is whole


def test_each_request_starts_with_the_previous_requests_messages(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    # The prompt cache reads a prefix: with outlines kept and sections sent, every request
    # must still begin with exactly what the previous one sent.
    replies = [
        implement_reply(COLLECTOR, LONG_MODULE),
        implement_reply(SERVER, LONG_MODULE.replace("step_", "serve_")),
        implement_reply(COLLECTOR, LONG_MODULE + "\n\ndef extra() -> int:\n    return 1\n"),
    ]
    scripted.enqueue(*replies)
    for path in (COLLECTOR, SERVER, COLLECTOR):
        assert run("implement", "--file", path).exit_code == 0
    for before, after in zip(scripted.requests, scripted.requests[1:], strict=False):
        sent = [(m.role, m.content) for m in before.messages]
        assert [(m.role, m.content) for m in after.messages[: len(sent)]] == sent
        assert [b.text for b in after.system] == [b.text for b in before.system]


def test_history_whole_keeps_the_reply_as_it_came(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _config(repo, '[stages.implement]\nhistory = "whole"\n')
    reply = implement_reply(COLLECTOR, LONG_MODULE)
    scripted.enqueue(reply, implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER).exit_code == 0
    assert scripted.requests[1].messages[1].content == reply


def test_a_fresh_conversation_shows_a_long_file_done_by_its_outline(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(
        implement_reply(COLLECTOR, LONG_MODULE),
        implement_reply(SERVER, "Y = 1\n"),
        implement_reply(SERVER, "Y = 2\n"),
    )
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER, "--fresh").exit_code == 0
    (turn,) = scripted.requests[1].messages
    assert "Its outline (the whole file is on disk" in turn.full_text
    assert "- `def step_11(value: int) -> int`" in turn.full_text
    assert "return value + 11" not in turn.full_text
    # with history = "whole", a fresh conversation shows the content itself
    _config(repo, '[stages.implement]\nhistory = "whole"\n')
    assert run("implement", "--file", SERVER, "--fresh", "--force").exit_code == 0
    assert "return value + 11" in scripted.requests[2].messages[0].full_text


def test_user_edits_reach_the_next_request(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(implement_reply(COLLECTOR, "X = 1\n"), implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    (repo / COLLECTOR).write_text("X = 1\nLIMIT = 5  # the user's edit\n")
    assert run("implement", "--file", SERVER).exit_code == 0
    turn = scripted.last.messages[-1].full_text
    assert "+LIMIT = 5  # the user's edit" in turn
    assert "The user edited this file" in turn


def test_fresh_resets_the_conversation(task: Path, repo: Path, scripted: ScriptedProvider) -> None:
    scripted.enqueue(implement_reply(COLLECTOR, "X = 1\n"), implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER, "--fresh").exit_code == 0
    second = scripted.requests[1]
    assert len(second.messages) == 1
    turn = second.messages[0].full_text
    assert "## A fresh conversation" in turn
    assert f"- `{COLLECTOR}` (1 lines)" in turn
    assert "X = 1" in turn  # a fresh conversation gets the content of the files done
    log = json.loads(run("log", "--json").output)
    assert log["stages"]["implement"]["resets"] == 1


def test_reset_past_the_context_budget(task: Path, repo: Path, scripted: ScriptedProvider) -> None:
    _config(
        repo,
        (
            "[anchoring]\nreset_at_share = 0.5\n\n"
            '[[capabilities]]\nprovider = "anthropic"\nmatch = "claude-sonnet-5-5"\n'
            'honours = ["effort"]\ncontext_window = 12000\n'
        ),
    )
    scripted.enqueue(
        implement_reply(COLLECTOR, "X = 1\n" * 4000), implement_reply(SERVER, "Y = 1\n")
    )
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER).exit_code == 0
    assert len(scripted.requests[1].messages) == 1
    records = [json.loads(x) for x in (task / "transcript.jsonl").read_text().splitlines()]
    last = [r for r in records if r["stage"] == "implement"][-1]
    assert last["reanchor"] == "reset"
    assert "window" in last["reanchor_reason"]


def test_the_reset_budget_is_the_implement_models_own_window(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    # The global model has a large window; implement's own model a small one: its window rules.
    _config(
        repo,
        (
            "[anchoring]\nreset_at_share = 0.5\n\n"
            '[stages.implement]\nmodel = "small-local-coder"\n\n'
            '[[capabilities]]\nprovider = "anthropic"\nmatch = "small-local-coder"\n'
            'honours = ["effort"]\ncontext_window = 12000\n'
        ),
    )
    scripted.enqueue(
        implement_reply(COLLECTOR, "X = 1\n" * 4000), implement_reply(SERVER, "Y = 1\n")
    )
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER).exit_code == 0
    assert [r.model for r in scripted.requests] == ["small-local-coder"] * 2
    assert len(scripted.requests[1].messages) == 1  # reset: a fresh conversation
    records = [json.loads(x) for x in (task / "transcript.jsonl").read_text().splitlines()]
    assert [r for r in records if r["stage"] == "implement"][-1]["reanchor"] == "reset"


def test_check_implement_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    file = tmp_path / "reply.md"
    file.write_text(implement_reply("a.py", "x = (\n"))
    result = run("check", "implement", str(file), "--path", "a.py")
    assert result.exit_code == 1
    file.write_text(implement_reply("a.py", "x = 1\n"))
    assert run("check", "implement", str(file), "--path", "a.py").exit_code == 0


def test_prompt_for_implement(task: Path, repo: Path) -> None:
    result = run("prompt", "implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert f"## File to write: `{COLLECTOR}`" in result.output
    assert "## Error Handling Matrix" in result.output  # the spec travels with it
    assert "## Review Checklist" in result.output  # and the engineering standards
    assert not (task / "conversations").exists()  # nothing was saved
    missing = run("prompt", "implement")
    assert missing.exit_code == 2
    assert "needs --file PATH" in missing.stderr


# -- plan progress and `specflow next` ----------------------------------------------------------


def _plan(repo: Path) -> list[tuple[str, str]]:
    from specflow.contracts.models import SpecDoc
    from specflow.contracts.spec import check_spec, template_headings
    from specflow.stages.implement.plan import plan_progress
    from specflow.stages.prompts import Prompts
    from specflow.store.workspace import Workspace

    ws = Workspace(repo)
    task = ws.load(SLUG)
    headings = template_headings(Prompts(ws.dir).spec_template())
    doc = check_spec(ws.read_artifact(task, "spec"), headings).value
    assert isinstance(doc, SpecDoc)
    return [(e.path, e.line()) for e in plan_progress(repo, task, doc)]


def test_plan_states_and_next_through_a_whole_task(repo: Path, tmp_path: Path) -> None:
    from specflow.store.workspace import Workspace

    task_dir = _specced(repo, tmp_path, SPEC_REPLY)  # its UNKNOWN blocks collector.py
    uid = json.loads((task_dir / "task.json").read_text())["unknowns"][0]["id"]
    assert _plan(repo) == [
        (COLLECTOR, f"{COLLECTOR}: blocked by {uid}"),
        (SERVER, f"{SERVER}: pending"),
    ]
    # next: the first pending, unblocked file, exactly as implement --file would
    result = run("next", "--reply", _reply(tmp_path, SERVER, "Y = 1\n"))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"next: {SERVER} (0/2 files written)\n"
    assert f"Wrote {SERVER}. Review it before going on." in result.output
    assert (repo / SERVER).read_text() == "Y = 1\n"
    written = json.loads((task_dir / "task.json").read_text())["files"][0]["written"]
    assert _plan(repo)[1] == (SERVER, f"{SERVER}: written {written}")
    # next: only blocked files remain
    result = run("next")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: every remaining planned file is blocked by an open UNKNOWN ({COLLECTOR}):\n"
        f"  {uid}: the scrape interval in production (verify: read prometheus.yml)\n"
    )
    assert '`specflow resolve ID "what you found"`, then run `specflow spec`' in result.stderr
    assert run("resolve", uid, "15 seconds").exit_code == 0
    assert _plan(repo)[0] == (COLLECTOR, f"{COLLECTOR}: pending")
    # the spec does not carry the resolution yet: revise it first
    stale = run("next")
    assert stale.exit_code == 2
    assert "run `specflow spec` to revise the spec with your resolutions" in stale.stderr
    (tmp_path / "revised.md").write_text(SPEC_REPLY_NO_UNKNOWNS)
    assert run("spec", "--reply", str(tmp_path / "revised.md")).exit_code == 0
    assert run("next", "--reply", _reply(tmp_path, COLLECTOR, "X = 1\n")).exit_code == 0
    # the user edits a written file: changed since
    (repo / SERVER).write_text("Y = 2\n")
    assert _plan(repo)[1][1].startswith(f"{SERVER}: changed since (specflow wrote it ")
    # a PASS review covered the collector as written
    ws = Workspace(repo)
    task = ws.load(SLUG)
    record = next(f for f in task.files if f.path == COLLECTOR)
    stale = {COLLECTOR: record.sha256, SERVER: "0" * 64}
    assert task.mark_reviewed(stale) == [COLLECTOR]  # the server's content differs: not marked
    ws.save(task)
    assert _plan(repo)[0][1].startswith(f"{COLLECTOR}: reviewed (written ")
    result = run("next")
    assert result.exit_code == 0
    assert result.output == (
        "every planned file is written (2/2 files); review the change with `specflow review` "
        "before committing it.\n"
    )


def test_next_names_the_task_flag_for_a_task_that_is_not_current(
    repo: Path, tmp_path: Path
) -> None:
    _specced(repo, tmp_path, SPEC_REPLY)
    assert run("new", "Another task", "--name", "other").exit_code == 0
    result = run("next", "--task", SLUG, "--reply", _reply(tmp_path, SERVER, "Y = 1\n"))
    assert result.exit_code == 0, result.output
    result = run("next", "--task", SLUG)
    assert result.exit_code == 2
    assert "--task exporter`, then run `specflow spec --task exporter`" in result.stderr


def test_next_before_a_spec(repo: Path) -> None:
    assert run("new", "Exporter", "--name", SLUG).exit_code == 0
    result = run("next")
    assert result.exit_code == 2
    assert result.stderr == f"error: task `{SLUG}` is described; run `specflow scope` first\n"


def test_the_prompt_marks_later_files_so_they_are_not_created_early(task: Path, repo: Path) -> None:
    result = run("prompt", "implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert f"- `{COLLECTOR}` (this file)" in result.output
    assert f"- `{SERVER}` (later: do not create it now)" in result.output
