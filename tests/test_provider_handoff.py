"""The handoff provider writes the prompt for a person to carry; the factory picks providers."""

from __future__ import annotations

from pathlib import Path

import pytest

from specflow.config import Config
from specflow.errors import UsageError
from specflow.providers.anthropic import AnthropicProvider
from specflow.providers.base import Decoding, HandoffWritten, Message, Request, SystemBlock
from specflow.providers.factory import make_provider
from specflow.providers.handoff import HandoffPromptWritten, HandoffProvider
from specflow.providers.openai_compat import OpenAICompatProvider


def scope_request(task_dir: Path | None, decoding: Decoding | None = None) -> Request:
    return Request(
        stage="scope",
        model="claude-sonnet-5-5",
        system=[
            SystemBlock("Rule 1: ask before assuming.\n", cache=True, label="rules"),
            SystemBlock("## Scoping Questions\nAsk 5 to 8.", label="instructions"),
        ],
        messages=[
            Message("user", "Prometheus exporter for the Oracle job table"),
            Message("assistant", "An earlier answer."),
            Message("user", "Try again."),
        ],
        max_tokens=16000,
        decoding=decoding or Decoding(temperature=0.8, effort="high"),
        task_dir=None if task_dir is None else task_dir / "handoff",  # the stage's handoff folder
    )


@pytest.fixture
def task_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / ".specflow" / "tasks" / "prometheus-exporter"
    folder.mkdir(parents=True)
    return folder


EXPECTED = """\
# specflow handoff: scope

No model is configured for specflow (or `--provider handoff` was given), so this file
holds the whole prompt of this stage for you to carry to any chat or coding agent:

1. Copy everything between the two `-------- 8< --------` lines and send it as one
   message. If your tool has a field for a system prompt, the SYSTEM parts can go there.
2. Set the recommended settings below where your tool lets you.
3. Save the model's whole answer, unchanged, to
   `.specflow/tasks/prometheus-exporter/handoff/scope.reply.md`.
4. Run the command at the end of this file: specflow checks the answer exactly as it
   checks a reply from a configured model.

## Recommended settings (`[stages.scope]`)

- temperature: 0.8
- effort: high
- maximum reply length: 16000 tokens

The same number can mean different things in different tools; where a setting does not
exist (many chats have no temperature), leave it out.

-------- 8< --------

===== SYSTEM (rules) =====

Rule 1: ask before assuming.

===== SYSTEM (instructions) =====

## Scoping Questions
Ask 5 to 8.

===== USER =====

Prometheus exporter for the Oracle job table

===== ASSISTANT =====

An earlier answer.

===== USER =====

Try again.

-------- 8< --------

## Continue

Save the answer to `.specflow/tasks/prometheus-exporter/handoff/scope.reply.md`, then run:

    specflow scope --reply .specflow/tasks/prometheus-exporter/handoff/scope.reply.md

(`--reply -` reads the answer from standard input instead.)
"""


def test_writes_the_prompt_file_and_raises_handoff_written(task_dir: Path) -> None:
    with pytest.raises(HandoffWritten) as caught:
        HandoffProvider().complete(scope_request(task_dir))
    signal = caught.value
    assert isinstance(signal, HandoffPromptWritten)
    assert signal.path == task_dir / "handoff" / "scope.prompt.md"
    assert signal.reply_path == task_dir / "handoff" / "scope.reply.md"
    assert signal.command == (
        "specflow scope --reply .specflow/tasks/prometheus-exporter/handoff/scope.reply.md"
    )
    assert signal.path.read_text() == EXPECTED
    # The prompt, and the folder's own .gitignore that keeps handoff files out of git.
    assert sorted(p.name for p in (task_dir / "handoff").iterdir()) == [
        ".gitignore",
        "scope.prompt.md",
    ]


def test_a_second_handoff_replaces_the_file(task_dir: Path) -> None:
    provider = HandoffProvider()
    with pytest.raises(HandoffWritten):
        provider.complete(scope_request(task_dir, Decoding(temperature=0.5)))
    with pytest.raises(HandoffWritten) as caught:
        provider.complete(scope_request(task_dir))
    assert caught.value.path.read_text() == EXPECTED


def test_the_continue_hint_shapes_the_command(task_dir: Path) -> None:
    def hint(request: Request) -> str:
        reply = f".specflow/tasks/prometheus-exporter/handoff/{request.stage}.reply.md"
        return f"specflow {request.stage} --file src/exporter/collector.py --reply {reply}"

    request = Request(
        stage="implement",
        model="m",
        system=[],
        messages=[Message("user", "Write it.")],
        max_tokens=32000,
        decoding=Decoding(temperature=0.1, effort="medium"),
        task_dir=None if task_dir is None else task_dir / "handoff",  # the stage's handoff folder
    )
    with pytest.raises(HandoffPromptWritten) as caught:
        HandoffProvider(continue_hint=hint).complete(request)
    command = (
        "specflow implement --file src/exporter/collector.py --reply "
        ".specflow/tasks/prometheus-exporter/handoff/implement.reply.md"
    )
    assert caught.value.command == command
    assert caught.value.path.read_text().endswith(
        f"\n    {command}\n\n(`--reply -` reads the answer from standard input instead.)\n"
    )


def test_every_configured_knob_is_recommended(task_dir: Path) -> None:
    decoding = Decoding(temperature=0.0, top_p=0.9, top_k=40, effort="max", thinking=4096)
    with pytest.raises(HandoffWritten) as caught:
        HandoffProvider().complete(scope_request(task_dir, decoding))
    text = caught.value.path.read_text()
    assert (
        "- temperature: 0.0\n- top_p: 0.9\n- top_k: 40\n- effort: max\n"
        "- thinking: on, with a budget of 4096 tokens\n- maximum reply length: 16000 tokens\n"
    ) in text


def test_adaptive_thinking_and_no_settings(task_dir: Path) -> None:
    with pytest.raises(HandoffWritten) as caught:
        HandoffProvider().complete(scope_request(task_dir, Decoding(thinking="adaptive")))
    assert "- thinking: adaptive (let the model decide how much to think)\n" in (
        caught.value.path.read_text()
    )
    empty = Decoding()
    with pytest.raises(HandoffWritten) as caught:
        HandoffProvider().complete(scope_request(task_dir, empty))
    assert (
        "- no decoding setting is configured for this stage; use your tool's defaults\n"
    ) in caught.value.path.read_text()


def test_a_path_with_spaces_is_quoted_in_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "my repo" / ".specflow" / "tasks" / "t"
    with pytest.raises(HandoffPromptWritten) as caught:
        HandoffProvider().complete(scope_request(folder))
    assert caught.value.command == (
        "specflow scope --reply 'my repo/.specflow/tasks/t/handoff/scope.reply.md'"
    )


def test_without_a_task_it_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        HandoffProvider().complete(scope_request(None))
    assert str(caught.value) == (
        "the handoff provider needs a task to write the scope prompt into; create one with "
        "`specflow new DESCRIPTION` or pick one with `specflow use SLUG`"
    )


# -- the factory ---------------------------------------------------------------------------


def test_auto_without_credentials_is_handoff() -> None:
    provider = make_provider(Config(), {})
    assert isinstance(provider, HandoffProvider)
    assert provider.name == "handoff"


def test_auto_with_a_key_is_anthropic() -> None:
    provider = make_provider(Config(), {"ANTHROPIC_API_KEY": "k"})
    assert isinstance(provider, AnthropicProvider)
    assert provider.base_url == "https://api.anthropic.com"


def test_openai_is_built_from_its_section() -> None:
    config = Config.model_validate(
        {"provider": "openai", "openai": {"base_url": "http://127.0.0.1:8080/v1"}}
    )
    provider = make_provider(config, {})
    assert isinstance(provider, OpenAICompatProvider)
    assert provider.base_url == "http://127.0.0.1:8080/v1"


def test_the_continue_hint_reaches_the_handoff_provider() -> None:
    def hint(request: Request) -> str:
        return "x"

    provider = make_provider(
        Config(provider="handoff"), {"ANTHROPIC_API_KEY": "k"}, continue_hint=hint
    )
    assert isinstance(provider, HandoffProvider)
    assert provider.continue_hint is hint
