"""One redaction path through every stage: a key in a context file, in the file being
implemented, in a file already written or in the spec never reaches the model, describe.md,
a printed prompt, a handoff prompt, transcript.jsonl or attempts/; a reply that would put a
placeholder over the real value is refused; handoff/ stays out of git.

The keys are built at run time (a real family's shape, random body), never written in the
repository.
"""

from __future__ import annotations

import secrets
import string
import subprocess
from pathlib import Path

import pytest

from specflow.gitx.secrets import redact_text
from specflow.store.transcript import Exchange, append
from specflow.store.workspace import Workspace
from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run, specced_task
from tests.support.samples import (
    SCOPE_FOUR_QUESTIONS,
    SCOPE_REPLY,
    SPEC_REPLY_NO_UNKNOWNS,
    implement_reply,
)

SLUG = "exporter"
COLLECTOR = "src/exporter/collector.py"
SERVER = "src/exporter/server.py"
PLACEHOLDER = "«secret:github-token:"


def fake_key() -> str:
    """A GitHub token of the real shape with a random body: found by the scanner, valid nowhere."""
    alphabet = string.ascii_letters + string.digits
    return "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))


def files_holding(folder: Path, value: str) -> list[str]:
    """Every file under *folder* whose bytes contain *value*."""
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and value.encode() in path.read_bytes()
    )


def _new_with_context(repo: Path, key: str) -> Path:
    (repo / "settings.py").write_text(f'GITHUB_TOKEN = "{key}"\nTIMEOUT = 30\n')
    result = run("new", "Prometheus exporter", "--name", SLUG, "--context", "settings.py")
    assert result.exit_code == 0, result.output
    return repo / ".specflow" / "tasks" / SLUG


def _commit(repo: Path, rel: str, text: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text)
    git(repo, "add", rel)
    git(repo, "commit", "-qm", f"add {rel}")


# -- describe ----------------------------------------------------------------------------------


def test_a_context_key_is_stored_and_printed_as_a_placeholder(repo: Path) -> None:
    key = fake_key()
    task = _new_with_context(repo, key)
    describe = (task / "describe.md").read_text()
    assert key not in describe
    assert f'GITHUB_TOKEN = "{PLACEHOLDER}' in describe
    assert "TIMEOUT = 30" in describe  # the rest of the file is kept as it was
    printed = run("prompt", "scope")
    assert printed.exit_code == 0, printed.output
    assert key not in printed.output
    assert PLACEHOLDER in printed.output
    assert files_holding(repo / ".specflow", key) == []


def test_a_key_pasted_into_describe_md_is_redacted_when_rendered(repo: Path) -> None:
    key = fake_key()
    task = _new_with_context(repo, "no secret here")
    describe = task / "describe.md"
    describe.write_text(describe.read_text().replace("no secret here", key))
    edited = describe.read_text().replace("Prometheus exporter", f"Exporter; token {key}")
    describe.write_text(edited)
    printed = run("prompt", "scope")
    assert printed.exit_code == 0, printed.output
    assert key not in printed.output
    assert printed.output.count(PLACEHOLDER) == 2  # the context file and the description


def test_a_context_file_without_secrets_is_kept_verbatim(repo: Path) -> None:
    # The near miss: an environment reference and a hash are not secrets.
    text = 'import os\nTOKEN = os.environ["GITHUB_TOKEN"]\nDIGEST = "' + "ab12" * 16 + '"\n'
    (repo / "settings.py").write_text(text)
    assert run("new", "Exporter", "--name", SLUG, "--context", "settings.py").exit_code == 0
    assert text in (repo / ".specflow" / "tasks" / SLUG / "describe.md").read_text()


# -- every stage against the loopback API ---------------------------------------------------


def test_no_key_reaches_the_api_or_specflow_files(
    repo: Path, tmp_path: Path, claude: AnthropicServer
) -> None:
    context_key, target_key, done_key, spec_key = (fake_key() for _ in range(4))
    keys = (context_key, target_key, done_key, spec_key)
    task = _new_with_context(repo, context_key)
    # A failed scope reply that echoes a key is kept under attempts/ (redacted), then the
    # re-ask holds.
    claude.script(Text(SCOPE_FOUR_QUESTIONS + f"\n{context_key}\n"), Text(SCOPE_REPLY))
    assert run("scope").exit_code == 0
    for n in range(1, 6):
        assert run("answer", str(n), f"answer {n}").exit_code == 0
    claude.script(Text(SPEC_REPLY_NO_UNKNOWNS))
    assert run("spec").exit_code == 0
    spec = task / "spec.md"
    spec.write_text(
        spec.read_text().replace(
            "- `ORACLE_DSN` from the environment; required.",
            f"- `ORACLE_DSN` from the environment; required.\n- fallback token `{spec_key}`",
        )
    )
    _commit(repo, COLLECTOR, f'TOKEN = "{target_key}"\n')
    env_code = 'import os\n\nTOKEN = os.environ["GITHUB_TOKEN"]\n'
    claude.script(Text(implement_reply(COLLECTOR, env_code)))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert (repo / COLLECTOR).read_text() == env_code
    # The user adds a key to the written file; the next file's request replays its change.
    (repo / COLLECTOR).write_text(env_code + f'BACKUP = "{done_key}"\n')
    claude.script(Text(implement_reply(SERVER, "PORT = 9100\n")))
    assert run("implement", "--file", SERVER, "--fresh").exit_code == 0

    assert len(claude.requests) == 5
    for request in claude.requests:
        assert not [k for k in keys if k.encode() in request.raw]
    scope_request, _reask, spec_request, first_file, second_file = (
        r.raw.decode() for r in claude.requests
    )
    assert "«secret:github-token:" in scope_request
    assert "«secret:github-token:" in spec_request
    assert 'BACKUP = \\"«secret:github-token:' in second_file  # the replayed edit
    assert 'TOKEN = \\"«secret:github-token:' in first_file  # the file being implemented
    assert first_file.count("«secret:github-token:") >= 2  # and the spec
    (attempt,) = (task / "attempts").iterdir()
    assert PLACEHOLDER in attempt.read_text()  # the echoed key, redacted
    for key in (context_key, target_key, done_key):
        assert files_holding(repo / ".specflow", key) == []
    # The spec key is only where the user typed it.
    assert files_holding(repo / ".specflow", spec_key) == [f"tasks/{SLUG}/spec.md"]


# -- the refusal ---------------------------------------------------------------------------


@pytest.fixture
def specced(repo: Path, tmp_path: Path) -> Path:
    return specced_task(tmp_path, SLUG, SPEC_REPLY_NO_UNKNOWNS)


def test_a_placeholder_over_a_real_value_is_refused(
    specced: Path, repo: Path, tmp_path: Path
) -> None:
    key = fake_key()
    original = f'"""Collector."""\nTOKEN = "{key}"\nLIMIT = 5\n'
    _commit(repo, COLLECTOR, original)
    # What the model saw, changed elsewhere: the placeholder stays on line 2.
    code = redact_text(original, COLLECTOR).replace("LIMIT = 5", "LIMIT = 10")
    reply = tmp_path / "reply.md"
    reply.write_text(implement_reply(COLLECTOR, code))
    result = run("implement", "--file", COLLECTOR, "--reply", str(reply))
    assert result.exit_code == 2
    assert f"{COLLECTOR}:2" in result.stderr
    assert "Move the secret into configuration first" in result.stderr
    assert "Traceback" not in result.output
    assert (repo / COLLECTOR).read_text() == original  # the value is not lost
    (kept,) = (specced / "attempts").iterdir()
    assert kept.read_text() == implement_reply(COLLECTOR, code)
    assert str(kept.relative_to(repo)) in result.stderr
    assert files_holding(repo / ".specflow", key) == []


def test_a_reply_that_moves_the_secret_to_configuration_is_written(
    specced: Path, repo: Path, tmp_path: Path
) -> None:
    # The near miss: the value's line is replaced, no placeholder stands for it.
    key = fake_key()
    _commit(repo, COLLECTOR, f'TOKEN = "{key}"\n')
    code = 'import os\n\nTOKEN = os.environ["GITHUB_TOKEN"]\n'
    reply = tmp_path / "reply.md"
    reply.write_text(implement_reply(COLLECTOR, code))
    result = run("implement", "--file", COLLECTOR, "--reply", str(reply))
    assert result.exit_code == 0, result.output
    assert (repo / COLLECTOR).read_text() == code


# -- handoff ----------------------------------------------------------------------------------


def test_handoff_prompts_are_redacted_and_ignored_by_git(repo: Path, tmp_path: Path) -> None:
    key, target_key = fake_key(), fake_key()
    task = _new_with_context(repo, key)
    handoff = task / "handoff"
    handoff.mkdir()  # as a task created before the handoff folder had its .gitignore
    assert run("scope").exit_code == 0
    prompt = (handoff / "scope.prompt.md").read_text()
    assert key not in prompt
    assert PLACEHOLDER in prompt
    assert (handoff / ".gitignore").read_text().endswith("\n*\n")

    (tmp_path / "scope.md").write_text(SCOPE_REPLY)
    assert run("scope", "--reply", str(tmp_path / "scope.md")).exit_code == 0
    for n in range(1, 6):
        assert run("answer", str(n), f"answer {n}").exit_code == 0
    (tmp_path / "spec.md").write_text(SPEC_REPLY_NO_UNKNOWNS)
    assert run("spec", "--reply", str(tmp_path / "spec.md")).exit_code == 0
    _commit(repo, COLLECTOR, f'TOKEN = "{target_key}"\n')
    assert run("implement", "--file", COLLECTOR).exit_code == 0
    implement_prompt = (handoff / "implement.prompt.md").read_text()
    assert target_key not in implement_prompt
    assert PLACEHOLDER in implement_prompt

    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert ".specflow/tasks/exporter/describe.md" in status  # task files are the user's
    assert "handoff" not in status
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(handoff / "implement.prompt.md")], cwd=repo
    )
    assert ignored.returncode == 0
    for value in (key, target_key):
        assert files_holding(repo / ".specflow", value) == []


# -- the store's own writes --------------------------------------------------------------------


def test_transcript_texts_are_redacted(repo: Path) -> None:
    key = fake_key()
    path = repo / "transcript.jsonl"
    record = Exchange(
        stage="implement",
        provider="-",
        model="-",
        note=f"token {key}",
        violations=[f"line 3: `TOKEN = '{key}'` quoted"],
    )
    append(path, record)
    written = path.read_text()
    assert key not in written
    assert written.count(PLACEHOLDER) == 2
    # The near miss: a record without a secret is written as it is.
    plain = Exchange(stage="scope", provider="-", model="-", note="reply from reply.md")
    append(path, plain)
    assert path.read_text().splitlines()[1] == plain.model_dump_json()


def test_attempts_are_redacted(repo: Path) -> None:
    key = fake_key()
    ws = Workspace(repo)
    kept = ws.keep_attempt(repo / "home", "scope", f"the token is {key}\nplain line\n")
    text = kept.read_text()
    assert key not in text
    assert text.startswith("the token is «secret:github-token:")
    assert text.endswith("\nplain line\n")


def test_the_handoff_provider_redacts_whatever_it_is_given(repo: Path) -> None:
    # A request built by code that forgot to redact: the prompt file still holds no value.
    from specflow.providers.base import (
        Decoding,
        HandoffWritten,
        Message,
        Request,
        SystemBlock,
    )
    from specflow.providers.handoff import HandoffProvider

    key = fake_key()
    folder = repo / ".specflow" / "tasks" / SLUG / "handoff"
    request = Request(
        stage="scope",
        model="claude-sonnet-5-5",
        system=[SystemBlock("Rules.\n", label="rules")],
        messages=[Message("user", f"the token is {key}; keep the rest")],
        max_tokens=1000,
        decoding=Decoding(),
        task_dir=folder,
    )
    with pytest.raises(HandoffWritten):
        HandoffProvider().complete(request)
    text = (folder / "scope.prompt.md").read_text()
    assert key not in text
    assert "the token is «secret:github-token:" in text
    assert "; keep the rest" in text


def test_replies_answers_and_titles_are_stored_redacted(repo: Path, tmp_path: Path) -> None:
    """A value in an accepted reply, an answer or the description never lands in a task file
    or its folder name (a rejected reply's attempt was redacted already)."""
    key = fake_key()
    assert run("new", f"Rotate the {key} token", "--quick", "--file", "app.py").exit_code == 0
    spec_md = next((repo / ".specflow/tasks").glob("*/spec.md"))
    assert key.lower() not in spec_md.parent.name.lower()
    assert files_holding(repo / ".specflow", key) == []
    assert PLACEHOLDER in spec_md.read_text()
    assert run("new", "Prometheus exporter", "--name", SLUG).exit_code == 0
    scope = tmp_path / "scope.md"
    scope.write_text(SCOPE_REPLY.replace("Which Oracle version", f"Is {key} the Oracle version"))
    assert run("scope", "--reply", str(scope)).exit_code == 0
    assert run("answer", "2", f"the token is {key}").exit_code == 0
    assert files_holding(repo / ".specflow", key) == []
    assert PLACEHOLDER in (repo / ".specflow/tasks" / SLUG / "answers.md").read_text()


def test_an_allowed_value_reaches_the_handoff_prompt_as_it_is(repo: Path) -> None:
    """The handoff prompt is redacted with the project's allowlist, as the API path is."""
    import json

    key, other = fake_key(), fake_key()
    (repo / "fixture.py").write_text(f'ALLOWED = "{key}"\n')
    scan = json.loads(run("secrets", "scan", "fixture.py", "--json").stdout)
    (finding_id,) = [f["id"] for f in scan["findings"]]
    assert run("secrets", "allow", finding_id, "--reason", "a revoked fixture").exit_code == 0
    (repo / "fixture.py").write_text(f'ALLOWED = "{key}"\nOTHER = "{other}"\n')
    assert run("new", "Exporter", "--name", SLUG, "--context", "fixture.py").exit_code == 0
    assert run("scope").exit_code == 0
    prompt = (repo / ".specflow/tasks" / SLUG / "handoff/scope.prompt.md").read_text()
    assert key in prompt  # allowed: left as it is
    assert other not in prompt and PLACEHOLDER in prompt  # near miss: not allowed
