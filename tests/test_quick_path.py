"""The quick path: `new --quick`, the scope's third form, `spec --quick` and `scope --full`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specflow.contracts.quick import check_quick, sentence_count
from specflow.contracts.registry import ContractContext, check, contract_for
from specflow.contracts.spec import check_spec, template_headings
from specflow.resources import packaged_folder
from tests.conftest import git
from tests.fakes import Text
from tests.fakes.anthropic_server import AnthropicServer
from tests.helpers import run
from tests.samples import SCOPE_REPLY, implement_reply

TARGET = "src/pages.py"

QUICK_REPLY = """\
## Quick Path

The fix is an off-by-one in one function. Nothing outside `src/pages.py` calls it differently.

## File

`src/pages.py`

## Directives

1. In `paginate()`, compute the last page as `(total + size - 1) // size`, not `total // size`.
2. Keep the module's public API unchanged.
"""


def _headings() -> list[str]:
    return template_headings((Path(packaged_folder("templates")) / "spec-template.md").read_text())


def _committed(repo: Path) -> None:
    """src/pages.py as a committed user file (implement may then replace it)."""
    (repo / TARGET).write_text("def paginate(total, size):\n    return total // size\n")
    git(repo, "add", TARGET)
    git(repo, "commit", "-qm", "pages")


def _state(repo: Path, slug: str) -> str:
    data = json.loads((repo / f".specflow/tasks/{slug}/task.json").read_text())
    return str(data["state"])


# -- the contract of the third form ------------------------------------------------------------


def test_a_valid_quick_reply() -> None:
    result = check("scope", QUICK_REPLY)
    assert result.ok, result.violations
    assert result.value.file == TARGET
    assert len(result.value.directives) == 2
    assert result.value.why.startswith("The fix is an off-by-one")


def test_more_than_one_file_is_refused() -> None:
    reply = QUICK_REPLY.replace(
        "`src/pages.py`\n\n## Dir", "`src/pages.py`, `src/api.py`\n\n## Dir"
    )
    messages = [str(v) for v in check_quick(reply).violations]
    assert messages == [
        "`## File` names 2 files (`src/pages.py`, `src/api.py`, line 5); the quick path is for "
        "one file, otherwise answer with the questions form (`## Scoping Questions`) instead"
    ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Fetch the rate from the REST endpoint before paginating.", "REST"),
        ("Cache the page count in Redis.", "Redis"),
        ("Publish a page event to Kafka.", "Kafka"),
        ("Read the total from the database.", "database"),
    ],
)
def test_an_integration_named_is_refused(text: str, named: str) -> None:
    reply = QUICK_REPLY.replace("2. Keep the module's public API unchanged.", f"2. {text}")
    messages = [str(v) for v in check_quick(reply).violations]
    assert len(messages) == 1
    assert "`## Directives` names" in messages[0] and f"(`{named}`, line 12)" in messages[0]
    assert "no external integration" in messages[0]


@pytest.mark.parametrize(
    "text",
    [
        "Keep the module's public API unchanged.",  # "API" alone is not an integration
        "Rename `http_timeout` to `timeout_s` in the signature.",  # code is not prose
        "Use `requests.get` nowhere; the function stays pure.",
        "Make the loop rapid by hoisting `len(items)` out of it.",
    ],
)
def test_near_misses_of_the_integration_rule_pass(text: str) -> None:
    reply = QUICK_REPLY.replace("2. Keep the module's public API unchanged.", f"2. {text}")
    assert check_quick(reply).ok, check_quick(reply).violations


def test_a_why_of_three_sentences_is_refused_and_abbreviations_do_not_count() -> None:
    three = QUICK_REPLY.replace("differently.", "differently. It is small.")
    assert "has 3 sentences" in str(check_quick(three).violations[0])
    assert sentence_count("Fix it, e.g. in `a.py`. Only there.") == 2


@pytest.mark.parametrize(("count", "ok"), [(0, False), (1, True), (5, True), (6, False)])
def test_directive_count(count: int, ok: bool) -> None:
    items = "\n".join(f"{n}. Change line {n} of `paginate()` to use `size`." for n in range(count))
    reply = QUICK_REPLY.split("## Directives")[0] + "## Directives\n\n" + items + "\n"
    result = check_quick(reply)
    assert result.ok is ok
    if not ok:
        assert "the quick path allows 1–5" in str(result.violations[-1])


def test_the_scope_contract_refuses_the_quick_form_after_full() -> None:
    declined = contract_for("scope", ContractContext(allow_quick=False))
    assert "declined with `specflow scope --full`" in str(declined(QUICK_REPLY).violations[0])
    assert declined(SCOPE_REPLY).ok
    assert check("scope", SCOPE_REPLY).ok  # the two usual forms are unchanged


# -- the user-forced form: specflow new --quick ------------------------------------------------


def test_new_quick_writes_a_minimal_spec_and_implement_runs(repo: Path, tmp_path: Path) -> None:
    (repo / "src").mkdir()
    _committed(repo)
    result = run("new", "Fix the off-by-one in paginate()", "--quick", "--file", TARGET)
    assert result.exit_code == 0, result.output
    slug = "fix-the-off-by-one-in-paginate"
    assert "Next: specflow implement --file src/pages.py" in result.output
    assert _state(repo, slug) == "specced"
    spec = (repo / f".specflow/tasks/{slug}/spec.md").read_text()
    doc = check_spec(spec, _headings())
    assert doc.ok and doc.value.file_plan == [TARGET]
    assert "## Intent\n\nFix the off-by-one in paginate()\n" in spec
    assert "- `src/pages.py` (change) — the change the Intent describes." in spec
    assert "- Everything not needed for the description." in spec
    assert "## Error Handling Matrix\n\nN/A — quick task (declared quick with" in spec
    assert "## Implementation Directives\n\nN/A — quick task" in spec
    assert "specced" in run("status").output
    assert run("show").output == spec
    reply = tmp_path / "reply.md"
    reply.write_text(implement_reply(TARGET, "def paginate(total, size):\n    return 1\n"))
    done = run("implement", "--file", TARGET, "--reply", str(reply))
    assert done.exit_code == 0, done.output
    assert _state(repo, slug) == "implementing"


def test_new_quick_marks_a_new_file_create(repo: Path) -> None:
    result = run("new", "Add a slugify helper", "--quick", "--file", "a.py", "--file", "b.py")
    assert result.exit_code == 0, result.output
    spec = (repo / ".specflow/tasks/add-a-slugify-helper/spec.md").read_text()
    assert "- `a.py` (create)" in spec and "- `b.py` (create)" in spec


def test_more_than_two_files_is_refused_and_no_task_is_created(repo: Path) -> None:
    args = ["--file", "a.py", "--file", "b.py", "--file", "c.py"]
    result = run("new", "Three files", "--quick", *args)
    assert result.exit_code == 2
    assert "--quick takes at most 2 files (got 3)" in result.output
    assert "run the full workflow" in result.output
    assert not (repo / ".specflow/tasks").exists() or not any((repo / ".specflow/tasks").iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quick"], "--quick needs the file it changes"),
        (["--file", "a.py"], "--file belongs to --quick"),
        (["--quick", "--file", "../outside.py"], "outside the repository"),
    ],
)
def test_quick_usage_errors(repo: Path, args: list[str], message: str) -> None:
    result = run("new", "A task", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (repo / ".specflow/tasks/a-task").exists()


# -- the model-proposed form -------------------------------------------------------------------


def test_the_model_proposes_the_quick_path_and_the_user_accepts(
    repo: Path, claude: AnthropicServer, tmp_path: Path
) -> None:
    (repo / "src").mkdir()
    _committed(repo)
    assert run("new", "Fix the last page of paginate()", "--name", "fix").exit_code == 0
    claude.script(Text(QUICK_REPLY))
    result = run("scope")
    assert result.exit_code == 0, result.output
    assert "the model proposes the quick path for src/pages.py" in result.output
    system = json.dumps(claude.requests[0].body["system"])
    assert "it touches exactly one file, names no external integration" in system
    assert _state(repo, "fix") == "scoped"
    refused = run("spec")
    assert refused.exit_code == 2
    assert "accept it with `specflow spec --quick`" in refused.output
    accepted = run("spec", "--quick")
    assert accepted.exit_code == 0, accepted.output
    assert len(claude.requests) == 1  # no model call for the minimal spec
    spec = (repo / ".specflow/tasks/fix/spec.md").read_text()
    assert check_spec(spec, _headings()).ok
    assert "1. In `paginate()`, compute the last page as" in spec
    assert "accepted with `specflow spec --quick`: The fix is an off-by-one" in spec
    assert _state(repo, "fix") == "specced"
    reply = tmp_path / "reply.md"
    reply.write_text(implement_reply(TARGET, "def paginate(total, size):\n    return 1\n"))
    assert run("implement", "--file", TARGET, "--reply", str(reply)).exit_code == 0


def test_scope_full_declines_the_quick_path(repo: Path, claude: AnthropicServer) -> None:
    assert run("new", "Fix the last page of paginate()", "--name", "fix").exit_code == 0
    claude.script(Text(QUICK_REPLY))
    assert run("scope").exit_code == 0
    claude.script(Text(QUICK_REPLY), Text(SCOPE_REPLY))
    result = run("scope", "--full")
    assert result.exit_code == 0, result.output
    assert "questions" in result.output
    full_system = json.dumps(claude.requests[1].body["system"])
    assert "do not reply with `## Quick Path`" in full_system
    reask = json.dumps(claude.requests[2].body["messages"])
    assert "declined with `specflow scope --full`" in reask
    assert run("spec", "--quick").exit_code == 2  # scope.md now holds questions
    assert (repo / ".specflow/tasks/fix/answers.md").is_file()


def test_spec_quick_without_a_proposal(repo: Path) -> None:
    assert run("new", "A task").exit_code == 0
    result = run("spec", "--quick")
    assert result.exit_code == 2
    assert "has no quick-path proposal to accept" in result.output


def test_the_decline_is_remembered_by_a_later_plain_scope(
    repo: Path, claude: AnthropicServer
) -> None:
    assert run("new", "Fix the last page of paginate()", "--name", "fix").exit_code == 0
    claude.script(Text(SCOPE_REPLY))
    assert run("scope", "--full").exit_code == 0
    task = json.loads((repo / ".specflow/tasks/fix/task.json").read_text())
    assert task["quick_declined"] is True
    claude.script(Text(QUICK_REPLY), Text(SCOPE_REPLY))
    result = run("scope")  # no --full: the task still declines the quick path
    assert result.exit_code == 0, result.output
    system = json.dumps(claude.requests[1].body["system"])
    assert "do not reply with `## Quick Path`" in system
    assert "The quick-path form (`## Quick Path`) is not allowed" in system
    assert "declined with `specflow scope --full`" in json.dumps(
        claude.requests[2].body["messages"]
    )
    prompt = run("prompt", "scope")
    assert "do not reply with `## Quick Path`" in prompt.output


def test_a_declined_task_refuses_a_quick_reply_file(repo: Path, tmp_path: Path) -> None:
    assert run("new", "Fix the last page of paginate()", "--name", "fix").exit_code == 0
    handoff = run("scope", "--full")  # no model configured: the prompt is handed off
    assert handoff.exit_code == 0, handoff.output
    reply = tmp_path / "reply.md"
    reply.write_text(QUICK_REPLY)
    result = run("scope", "--reply", str(reply))  # the continue command has no --full
    assert result.exit_code == 1
    assert "declined with `specflow scope --full`" in result.stderr
    assert not (repo / ".specflow/tasks/fix/scope.md").exists()


def test_the_contract_partial_names_the_third_form_only_when_allowed(repo: Path) -> None:
    assert run("new", "Fix the last page of paginate()", "--name", "fix").exit_code == 0
    allowed = run("prompt", "scope").output
    assert "Reply in one of three forms" in allowed
    assert "Quick-path form, only for a task that touches exactly one file" in allowed
    assert "`## Directives` (1–5 numbered, concrete directives)" in allowed
    assert run("scope", "--full").exit_code == 0  # handed off; the decline is recorded
    declined = run("prompt", "scope").output
    assert "Reply in one of two forms" in declined
    assert "Quick-path form" not in declined


@pytest.mark.parametrize("description", ["```", "## Open Items", "+ a list item", "> quoted"])
def test_a_description_that_looks_like_markdown_stays_the_intent(
    repo: Path, description: str
) -> None:
    result = run("new", description, "--quick", "--file", "app.py")
    assert result.exit_code == 0, result.output
    spec = next((repo / ".specflow/tasks").glob("*/spec.md")).read_text()
    assert f"## Intent\n\n\\{description}\n" in spec
