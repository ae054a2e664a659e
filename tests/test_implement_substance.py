"""The implement stage judged for substance, the edit form, the compact system prompt, stale
specs and the UNKNOWN gate by path (scripted provider and --reply files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git
from tests.support.helpers import run, specced_task
from tests.support.samples import CHECKLIST, SPEC_REPLY, SPEC_REPLY_NO_UNKNOWNS, implement_reply
from tests.support.scripted import ScriptedProvider, request_text

SLUG = "exporter"
COLLECTOR = "src/exporter/collector.py"
SERVER = "src/exporter/server.py"
REVIEW = "\n".join(f"- {name}: PASS — checked against the spec" for name in CHECKLIST)

# A long file (over EDIT_MIN_LINES), so the edit form is offered; every function distinct.
LONG = "".join(f"def step_{n}(value: int) -> int:\n    return value + {n}\n\n\n" for n in range(20))


@pytest.fixture
def task(repo: Path, tmp_path: Path) -> Path:
    return specced_task(tmp_path, SLUG, SPEC_REPLY_NO_UNKNOWNS)


def _commit(repo: Path, rel: str, content: str | bytes) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    git(repo, "add", rel)
    git(repo, "commit", "-q", "-m", f"add {rel}")


def edit_reply(path: str, *blocks: tuple[str, str], review: str = REVIEW) -> str:
    body = "".join(
        f"<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n" for search, replace in blocks
    )
    return f"## Edit: {path}\n\n```python\n{body}```\n\n## Self-Review\n\n{review}\n"


def _reask(scripted: ScriptedProvider) -> str:
    """The re-ask turn of the second request."""
    return scripted.requests[1].messages[-1].full_text


# -- 1. replies judged for substance -------------------------------------------------------------


def test_an_eliding_reply_is_asked_again_and_the_whole_one_written(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    elided = "def run() -> int:\n    # ... rest unchanged ...\n    return 1\n"
    whole = "def run() -> int:\n    return 1\n"
    scripted.enqueue(implement_reply(COLLECTOR, elided), implement_reply(COLLECTOR, whole))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 2
    assert "rest unchanged" in _reask(scripted)
    assert (repo / COLLECTOR).read_text() == whole


def test_a_fail_in_the_self_review_is_asked_again_not_written(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    failing = implement_reply(COLLECTOR, "X = 1\n").replace(
        "- Logging: PASS — checked against the spec",
        "- Logging: FAIL — the loop logs nothing — fix: log each failed scrape",
    )
    scripted.enqueue(failing, implement_reply(COLLECTOR, "X = 2\n"))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert "`Logging: FAIL — the loop logs nothing`" in _reask(scripted)
    assert (repo / COLLECTOR).read_text() == "X = 2\n"


def test_a_fail_reply_given_with_reply_is_refused(task: Path, repo: Path, tmp_path: Path) -> None:
    failing = implement_reply(COLLECTOR, "X = 1\n").replace(
        "- Logging: PASS — checked against the spec",
        "- Logging: FAIL — logs nothing — fix: add logging",
    )
    (tmp_path / "r.md").write_text(failing)
    result = run("implement", "--file", COLLECTOR, "--reply", str(tmp_path / "r.md"))
    assert result.exit_code == 1
    assert "self-review says" in result.stderr
    assert not (repo / COLLECTOR).exists()


def test_dropping_a_function_on_disk_is_asked_again(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _commit(
        repo, COLLECTOR, "def keep() -> int:\n    return 1\n\n\ndef other() -> int:\n    return 2\n"
    )
    dropped = "def keep() -> int:\n    return 3\n"
    both = "def keep() -> int:\n    return 3\n\n\ndef other() -> int:\n    return 2\n"
    scripted.enqueue(implement_reply(COLLECTOR, dropped), implement_reply(COLLECTOR, both))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert "drops `other`" in _reask(scripted)
    assert (repo / COLLECTOR).read_text() == both


PRINTING = "def report(count: int) -> None:\n    print(count)\n"


def test_print_in_library_code_is_asked_again(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    quiet = "import logging\n\n\ndef report(count: int) -> None:\n    logging.info(count)\n"
    scripted.enqueue(implement_reply(COLLECTOR, PRINTING), implement_reply(COLLECTOR, quiet))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert "print" in _reask(scripted)
    assert (repo / COLLECTOR).read_text() == quiet


def test_a_project_that_disables_a_rule_accepts_it(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    (repo / ".specflow" / "config.toml").write_text('[contracts]\ndisabled = ["python.print"]\n')
    scripted.enqueue(implement_reply(COLLECTOR, PRINTING))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert len(scripted.requests) == 1
    assert (repo / COLLECTOR).read_text() == PRINTING


def test_an_unknown_disabled_rule_is_a_config_error(task: Path, repo: Path) -> None:
    (repo / ".specflow" / "config.toml").write_text('[contracts]\ndisabled = ["python.prnt"]\n')
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 2
    assert "unknown rule id `python.prnt`" in result.stderr
    assert "python.print" in result.stderr


# -- 2. the edit form ------------------------------------------------------------------------------


def test_the_prompt_offers_edits_for_a_long_existing_file_only(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _commit(repo, COLLECTOR, LONG)
    _commit(repo, SERVER, "X = 1\n")
    scripted.enqueue(implement_reply(COLLECTOR, LONG), implement_reply(SERVER, "X = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert f"## Edit: {COLLECTOR}" in scripted.requests[0].messages[-1].full_text
    assert run("implement", "--file", SERVER).exit_code == 0
    assert "<<<<<<< SEARCH" not in scripted.requests[1].messages[-1].full_text


def test_one_edit_block_is_applied_and_shown_as_a_diff(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _commit(repo, COLLECTOR, LONG)
    scripted.enqueue(edit_reply(COLLECTOR, ("    return value + 3\n", "    return value + 30\n")))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert "-    return value + 3\n+    return value + 30\n" in result.output
    assert (repo / COLLECTOR).read_text() == LONG.replace("value + 3\n", "value + 30\n")
    # recorded as specflow's write: the next run does not take it for a user edit
    record = json.loads((task / "task.json").read_text())["files"][0]
    assert record["path"] == COLLECTOR


def test_the_conversation_keeps_the_edited_files_outline_not_the_blocks(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _commit(repo, COLLECTOR, LONG)
    scripted.enqueue(
        edit_reply(COLLECTOR, ("    return value + 3\n", "    return value + 30\n")),
        implement_reply(SERVER, "Y = 1\n"),
    )
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER).exit_code == 0
    kept = scripted.requests[1].messages[1].content
    assert kept.startswith(f"`{COLLECTOR}` is written: 80 lines, changed by edit blocks;")
    assert "- `def step_19(value: int) -> int`" in kept
    assert "<<<<<<< SEARCH" not in kept


def test_several_edit_blocks_apply_in_order(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _commit(repo, COLLECTOR, LONG)
    scripted.enqueue(
        edit_reply(
            COLLECTOR,
            ("    return value + 1\n", "    return value + 100\n"),
            ("    return value + 19\n", "    return value - 19\n"),
        )
    )
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    expected = LONG.replace("value + 1\n", "value + 100\n").replace("+ 19\n", "- 19\n")
    assert (repo / COLLECTOR).read_text() == expected


def test_a_block_matching_twice_is_asked_again(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _commit(repo, COLLECTOR, LONG + "DUP = 1\n\nDUP = 1\n")
    twice = edit_reply(COLLECTOR, ("DUP = 1\n", "DUP = 2\n"))
    good = edit_reply(COLLECTOR, ("    return value + 4\n", "    return value + 40\n"))
    scripted.enqueue(twice, good)
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert "edit block 1: SEARCH matches 2 places" in _reask(scripted)
    assert "add neighbouring lines" in _reask(scripted)
    assert "value + 40" in (repo / COLLECTOR).read_text()


def test_a_block_matching_nothing_is_asked_again_with_the_nearest_lines(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _commit(repo, COLLECTOR, LONG)
    missing = edit_reply(COLLECTOR, ("    return value + 5  # five\n", "    return 5\n"))
    scripted.enqueue(missing, implement_reply(COLLECTOR, LONG + "X = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    reask = _reask(scripted)
    assert "edit block 1: SEARCH matches nothing" in reask
    assert "return value + 5" in reask  # the nearest line that exists
    assert (repo / COLLECTOR).read_text() == LONG + "X = 1\n"


def test_an_edit_keeps_crlf_line_endings(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    crlf = LONG.replace("\n", "\r\n").encode()
    _commit(repo, COLLECTOR, crlf)
    scripted.enqueue(edit_reply(COLLECTOR, ("    return value + 2\n", "    return value * 2\n")))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert (repo / COLLECTOR).read_bytes() == crlf.replace(b"value + 2\r\n", b"value * 2\r\n")
    # written by specflow as it is on disk: not "changed since"
    status = run("status", "--json")
    assert "changed since" not in status.output


def test_an_edit_keeps_a_missing_final_newline(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    bare = LONG + "LAST = 1"
    _commit(repo, COLLECTOR, bare)
    scripted.enqueue(edit_reply(COLLECTOR, ("LAST = 1\n", "LAST = 2\n")))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert (repo / COLLECTOR).read_text() == LONG + "LAST = 2"


def test_an_edit_that_breaks_the_syntax_is_asked_again(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _commit(repo, COLLECTOR, LONG)
    broken = edit_reply(COLLECTOR, ("    return value + 6\n", "    return (value + 6\n"))
    good = edit_reply(COLLECTOR, ("    return value + 6\n", "    return (value + 6)\n"))
    scripted.enqueue(broken, good)
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert "Python syntax error" in _reask(scripted)
    assert "after the edits" in _reask(scripted)
    assert "return (value + 6)\n" in (repo / COLLECTOR).read_text()


def test_an_edit_of_a_missing_file_asks_for_the_whole_file(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(
        edit_reply(COLLECTOR, ("X = 1\n", "X = 2\n")), implement_reply(COLLECTOR, "X = 2\n")
    )
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert "does not exist yet, so there is nothing to edit" in _reask(scripted)
    assert (repo / COLLECTOR).read_text() == "X = 2\n"


def test_an_edit_over_user_changes_needs_force_and_keeps_a_backup(
    task: Path, repo: Path, tmp_path: Path
) -> None:
    _commit(repo, COLLECTOR, LONG)
    changed = LONG + "MINE = 1\n"
    (repo / COLLECTOR).write_text(changed)
    reply = tmp_path / "edit.md"
    reply.write_text(edit_reply(COLLECTOR, ("MINE = 1\n", "MINE = 2\n")))
    refused = run("implement", "--file", COLLECTOR, "--reply", str(reply))
    assert refused.exit_code == 2
    assert "uncommitted changes that specflow did not write" in refused.stderr
    forced = run("implement", "--file", COLLECTOR, "--force", "--reply", str(reply))
    assert forced.exit_code == 0, forced.output
    assert (repo / COLLECTOR).read_text() == LONG + "MINE = 2\n"
    (backup,) = (task / "backups").rglob("collector.py.*")
    assert backup.read_text() == changed


def test_check_implement_applies_an_edit_to_the_file_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.py").write_text(LONG)
    good = tmp_path / "good.md"
    good.write_text(edit_reply("big.py", ("    return value + 7\n", "    return value + 70\n")))
    assert run("check", "implement", str(good), "--path", "big.py").exit_code == 0
    assert (tmp_path / "big.py").read_text() == LONG  # checked, never written
    bad = tmp_path / "bad.md"
    bad.write_text(edit_reply("big.py", ("    return value + 99\n", "    return 0\n")))
    result = run("check", "implement", str(bad), "--path", "big.py")
    assert result.exit_code == 1
    assert "SEARCH matches nothing in `big.py`" in result.output
    # without --path, the file named by `## Edit:` is the one on disk
    assert run("check", "implement", str(good)).exit_code == 0


# -- 3. tight rules on every request --------------------------------------------------------------


def test_the_system_prompt_carries_the_checklist_not_the_standards(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    detail = "Keep logic in importable functions and classes"  # a line of ## Structure
    scripted.enqueue(implement_reply(COLLECTOR, "X = 1\n"), implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER).exit_code == 0
    for request in scripted.requests:
        system = "\n".join(block.text for block in request.system)
        assert "## Review Checklist" in system
        assert detail not in system
        assert sum(len(b.text) for b in request.system if b.label != "spec") <= 6000
        # neither file calls for ## Structure (prometheus_client is not a CLI): nowhere at all
        assert detail not in request_text(request)


def _implement_config(repo: Path, line: str) -> None:
    config = repo / ".specflow" / "config.toml"
    text = config.read_text() if config.exists() else ""
    config.write_text(text + f"\n[stages.implement]\n{line}\n")


def _full_standards(repo: Path) -> None:
    _implement_config(repo, 'standards = "whole"')


# Both files' plan lines call for the retries section; the collector's also for logging.
RETRYING_SPEC = SPEC_REPLY_NO_UNKNOWNS.replace(
    "runs the aggregate query and builds the gauges.",
    "runs the aggregate query with retries and logs each one.",
).replace("serves /metrics.", "serves /metrics; retries the bind.")
RETRIES = "\n### Retries and backoff\n\n- Retry only transient failures"
LOGGING = "\n### Logging\n\n- Use the standard logging framework"


@pytest.fixture
def retrying(repo: Path, tmp_path: Path) -> Path:
    return specced_task(tmp_path, SLUG, RETRYING_SPEC)


def test_each_file_carries_the_standards_sections_it_calls_for_once_per_conversation(
    retrying: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(implement_reply(COLLECTOR, "X = 1\n"), implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER).exit_code == 0
    first, second = scripted.requests
    opening = first.messages[-1].full_text
    assert "## Engineering standards for this file" in opening
    assert opening.count(RETRIES) == 1 and opening.count(LOGGING) == 1
    assert "## Concurrency" not in opening  # not called for by the collector's lines
    for request in (first, second):
        assert RETRIES not in "\n".join(block.text for block in request.system)
    # the server calls for retries too, which the conversation already carries: not again
    assert RETRIES not in second.messages[-1].full_text
    assert "## Engineering standards for this file" not in second.messages[-1].full_text
    assert request_text(second).count(RETRIES) == 1


def test_a_fresh_conversation_carries_a_section_again_and_checklist_carries_none(
    retrying: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    scripted.enqueue(
        implement_reply(COLLECTOR, "X = 1\n"),
        implement_reply(SERVER, "Y = 1\n"),
        implement_reply(SERVER, "Y = 2\n"),
    )
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER, "--fresh").exit_code == 0
    (turn,) = scripted.requests[1].messages
    assert turn.full_text.count(RETRIES) == 1 and LOGGING not in turn.full_text
    _implement_config(repo, 'standards = "checklist"')
    assert run("implement", "--file", SERVER, "--fresh", "--force").exit_code == 0
    assert "## Retries" not in request_text(scripted.requests[2])


def test_an_earlier_full_standards_setting_reads_as_whole(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _implement_config(repo, "full_standards = true")
    scripted.enqueue(implement_reply(COLLECTOR, "X = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    detail = "Keep logic in importable functions and classes"
    assert scripted.requests[0].messages[0].full_text.count(detail) == 1


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            'full_standards = "yes"',
            "full_standards takes true or false (got 'yes'); better, replace it with "
            'standards = "whole" (true) or "relevant" (false)',
        ),
        (
            'full_standards = true\nstandards = "relevant"',
            "full_standards was replaced by standards, which is also set: remove the "
            "full_standards line",
        ),
    ],
    ids=["not-a-boolean", "beside-standards"],
)
def test_a_full_standards_setting_that_cannot_be_read_says_what_to_write(
    repo: Path, task: Path, lines: str, expected: str
) -> None:
    _implement_config(repo, lines)
    result = run("status")
    assert result.exit_code == 2
    assert "`stages.implement`: " + expected in result.stderr


def test_full_standards_go_once_in_the_first_user_turn(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _full_standards(repo)
    detail = "Keep logic in importable functions and classes"
    scripted.enqueue(implement_reply(COLLECTOR, "X = 1\n"), implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER).exit_code == 0
    first, second = scripted.requests
    assert detail not in "\n".join(block.text for block in second.system)
    assert first.messages[0].full_text.count(detail) == 1  # once, in the first user turn
    assert "## Engineering standards" in first.messages[0].full_text
    assert detail not in second.messages[-1].full_text  # not again in the new turn
    assert request_text(second).count(detail) == 1  # only in the history


def test_a_fresh_conversation_carries_the_standards_again(
    task: Path, repo: Path, scripted: ScriptedProvider
) -> None:
    _full_standards(repo)
    detail = "Keep logic in importable functions and classes"
    scripted.enqueue(implement_reply(COLLECTOR, "X = 1\n"), implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    assert run("implement", "--file", SERVER, "--fresh").exit_code == 0
    (turn,) = scripted.requests[1].messages
    assert turn.full_text.count(detail) == 1
    assert "## A fresh conversation" in turn.full_text


# -- 4. resolve means revise ---------------------------------------------------------------


def test_implement_refuses_a_spec_older_than_its_resolutions(repo: Path, tmp_path: Path) -> None:
    specced_task(tmp_path, SLUG, SPEC_REPLY)
    task_dir = repo / ".specflow" / "tasks" / SLUG
    uid = json.loads((task_dir / "task.json").read_text())["unknowns"][0]["id"]
    assert run("resolve", uid, "15 seconds").exit_code == 0
    reply = tmp_path / "r.md"
    reply.write_text(implement_reply(SERVER, "Y = 1\n"))
    refused = run("implement", "--file", SERVER, "--reply", str(reply))
    assert refused.exit_code == 2
    assert "run `specflow spec` to revise the spec with your resolutions" in refused.stderr
    assert not (repo / SERVER).exists()
    assert run("next").exit_code == 2
    allowed = run("implement", "--file", SERVER, "--allow-stale-spec", "--reply", str(reply))
    assert allowed.exit_code == 0, allowed.output
    records = [json.loads(x) for x in (task_dir / "transcript.jsonl").read_text().splitlines()]
    (override,) = [r for r in records if r["kind"] == "override"]
    assert "--allow-stale-spec" in override["note"] and uid in override["note"]
    # a revision carries the resolutions: implement runs again without the flag
    (tmp_path / "revised.md").write_text(SPEC_REPLY_NO_UNKNOWNS)
    assert run("spec", "--reply", str(tmp_path / "revised.md")).exit_code == 0
    reply.write_text(implement_reply(COLLECTOR, "X = 1\n"))
    assert run("implement", "--file", COLLECTOR, "--reply", str(reply)).exit_code == 0


# -- 5. the UNKNOWN gate by path ------------------------------------------------------------


def test_an_unknown_naming_no_file_blocks_every_file_and_says_how_to_fix_it(
    repo: Path, tmp_path: Path
) -> None:
    spec = SPEC_REPLY.replace("the cache lifetime in `src/exporter/collector.py`", "the design")
    specced_task(tmp_path, SLUG, spec)
    reply = tmp_path / "r.md"
    reply.write_text(implement_reply(SERVER, "Y = 1\n"))
    result = run("implement", "--file", SERVER, "--reply", str(reply))
    assert result.exit_code == 2
    assert "names no planned file in `blocks:`, so it blocks every file" in result.stderr
    assert "name the files it blocks by path" in result.stderr


def test_an_unknown_naming_a_file_blocks_only_that_file(repo: Path, tmp_path: Path) -> None:
    specced_task(tmp_path, SLUG, SPEC_REPLY)  # blocks: ... `src/exporter/collector.py`
    reply = tmp_path / "r.md"
    reply.write_text(implement_reply(SERVER, "Y = 1\n"))
    assert run("implement", "--file", SERVER, "--reply", str(reply)).exit_code == 0
    reply.write_text(implement_reply(COLLECTOR, "X = 1\n"))
    blocked = run("implement", "--file", COLLECTOR, "--reply", str(reply))
    assert blocked.exit_code == 2
    assert "names no planned file" not in blocked.stderr


def test_check_implement_honours_the_projects_disabled_rules(task: Path, repo: Path) -> None:
    reply = repo / "reply.md"
    reply.write_text(implement_reply(COLLECTOR, PRINTING))
    assert run("check", "implement", str(reply), "--path", COLLECTOR).exit_code == 1
    (repo / ".specflow" / "config.toml").write_text('[contracts]\ndisabled = ["python.print"]\n')
    assert run("check", "implement", str(reply), "--path", COLLECTOR).exit_code == 0
    (repo / ".specflow" / "config.toml").write_text('[contracts]\ndisabled = ["nope"]\n')
    bad = run("check", "implement", str(reply), "--path", COLLECTOR)
    assert bad.exit_code == 2
    assert "unknown rule id `nope`" in bad.stderr
