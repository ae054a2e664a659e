"""The Anthropic provider, driven through the real SDK against the loopback Messages API."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable

import pytest

from specflow.config import AnthropicConfig
from specflow.errors import ConfigError, ProviderError, ProviderUnreachable
from specflow.providers import anthropic as anthropic_provider
from specflow.providers.anthropic import AnthropicProvider
from specflow.providers.base import Decoding, Message, Reply, Request, SystemBlock
from specflow.providers.capabilities import load_table
from tests.support.fakes import (
    Delay,
    Drop,
    HTTPError,
    Malformed,
    RecordedRequest,
    Reset,
    StreamError,
    Text,
)
from tests.support.fakes.anthropic_server import AnthropicServer

KEY = "sk-ant-test-secret-0123456789"
ENV = {"ANTHROPIC_API_KEY": KEY}


class Recorder:
    """An on_text consumer that also hears about restarts, like the terminal printer."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __call__(self, text: str) -> None:
        self.events.append(("text", text))

    def restart(self, reason: str) -> None:
        self.events.append(("restart", reason))

    @property
    def texts(self) -> list[str]:
        return [value for kind, value in self.events if kind == "text"]

    @property
    def restarts(self) -> list[str]:
        return [value for kind, value in self.events if kind == "restart"]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(
    anthropic_server: AnthropicServer, sleeps: list[float]
) -> Callable[..., AnthropicProvider]:
    def build(env: dict[str, str] | None = None, **config: object) -> AnthropicProvider:
        settings = {"base_url": anthropic_server.base_url, **config}
        return AnthropicProvider(
            AnthropicConfig.model_validate(settings),
            load_table([]),
            ENV if env is None else env,
            sleep=sleeps.append,
        )

    return build


def request(
    *,
    model: str = "claude-sonnet-5-5",
    stage: str = "scope",
    decoding: Decoding | None = None,
    system: list[SystemBlock] | None = None,
    messages: list[Message] | None = None,
    max_tokens: int = 4000,
) -> Request:
    return Request(
        stage=stage,
        model=model,
        system=system if system is not None else [SystemBlock("Follow the rules.", label="rules")],
        messages=messages if messages is not None else [Message("user", "Scope this task.")],
        max_tokens=max_tokens,
        decoding=decoding if decoding is not None else Decoding(temperature=0.8, effort="high"),
    )


def body(recorded: RecordedRequest) -> dict[str, object]:
    assert isinstance(recorded.body, dict)
    return recorded.body


def assert_no_secret(exc: BaseException) -> None:
    """Neither the key nor an Authorization header appears anywhere in the error chain."""
    seen: BaseException | None = exc
    while seen is not None:
        assert KEY not in str(seen) and KEY not in repr(seen)
        assert "Bearer" not in str(seen)
        seen = seen.__cause__ or seen.__context__


# -- streaming ---------------------------------------------------------------------------


def test_streams_text_deltas_in_order_and_returns_the_whole_reply(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    anthropic_server.script(Text("Hello, streamed world", chunks=["Hel", "lo, ", "streamed world"]))
    seen = Recorder()
    reply = make().complete(request(), seen)
    assert seen.events == [("text", "Hel"), ("text", "lo, "), ("text", "streamed world")]
    assert reply.text == "Hello, streamed world"
    assert reply.stop_reason == "end_turn"
    assert reply.model == "claude-sonnet-5-5"
    assert reply.request_id is not None and reply.request_id.startswith("req_loopback_")
    assert reply.retries == 0
    assert reply.latency_s > 0
    assert reply.usage.output_tokens == 6  # 21 characters / 4, rounded up
    assert body(anthropic_server.requests[0])["stream"] is True


def test_works_without_a_callback_and_skips_thinking_text(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    anthropic_server.script(Text("The answer.", thinking="Let me think about this."))
    seen = Recorder()
    assert make().complete(request(), seen).text == "The answer."
    assert "".join(seen.texts) == "The answer."
    assert make().complete(request()).text == "Hello from the loopback server."


def test_reports_max_tokens_stop_reason(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    anthropic_server.script(Text("cut", stop_reason="max_tokens"))
    assert make().complete(request()).stop_reason == "max_tokens"


# -- prompt caching ----------------------------------------------------------------------


def cached_request() -> Request:
    return request(
        system=[
            SystemBlock("RULES " * 200, cache=True, label="rules"),
            SystemBlock("SPEC " * 400, cache=True, label="spec"),
            SystemBlock("Ask 5 to 8 questions.", label="instructions"),
        ],
        messages=[
            Message("user", "First file please.", cache=True),
            Message("assistant", "Here it is."),
            Message("user", "Next file."),
        ],
    )


def test_cache_breakpoints_go_on_marked_system_blocks_and_messages(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    make().complete(cached_request())
    sent = body(anthropic_server.requests[0])
    ephemeral = {"type": "ephemeral"}
    assert sent["system"] == [
        {"type": "text", "text": "RULES " * 200, "cache_control": ephemeral},
        {"type": "text", "text": "SPEC " * 400, "cache_control": ephemeral},
        {"type": "text", "text": "Ask 5 to 8 questions."},
    ]
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "First file please.", "cache_control": ephemeral}],
        },
        {"role": "assistant", "content": "Here it is."},
        {"role": "user", "content": "Next file."},
    ]


def test_a_repeated_prefix_is_billed_as_cache_reads(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    provider = make()
    first = provider.complete(cached_request()).usage
    second = provider.complete(cached_request()).usage
    assert first.cache_read_tokens == 0
    assert first.cache_write_tokens > 0
    assert second.cache_read_tokens == first.cache_write_tokens
    assert second.cache_write_tokens == 0
    assert second.input_tokens == first.input_tokens
    assert second.context_tokens == first.context_tokens


def test_no_cache_control_when_prompt_caching_is_off(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    make(prompt_caching=False).complete(cached_request())
    assert b"cache_control" not in anthropic_server.requests[0].raw
    assert body(anthropic_server.requests[0])["messages"][0] == {  # type: ignore[index]
        "role": "user",
        "content": "First file please.",
    }


def test_at_most_four_breakpoints_dropping_the_earliest_message_ones(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    system = [SystemBlock(f"block {i}", cache=True) for i in range(2)]
    messages = [
        Message("user" if i % 2 == 0 else "assistant", f"turn {i}", cache=True) for i in range(5)
    ]
    make().complete(request(system=system, messages=messages))
    sent = body(anthropic_server.requests[0])
    assert all("cache_control" in block for block in sent["system"])  # type: ignore[attr-defined]
    marked = [isinstance(m["content"], list) for m in sent["messages"]]  # type: ignore[attr-defined]
    assert marked == [False, False, False, True, True]


# -- decoding knobs ----------------------------------------------------------------------


def test_current_model_gets_effort_and_never_a_sampling_parameter(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    decoding = Decoding(temperature=0.8, top_p=0.9, top_k=40, effort="high")
    reply = make().complete(request(decoding=decoding))
    recorded = anthropic_server.requests[0]
    for name in (b"temperature", b"top_p", b"top_k"):
        assert name not in recorded.raw
    assert body(recorded)["output_config"] == {"effort": "high"}
    assert "thinking" not in body(recorded)
    assert reply.sent == {"effort": "high"}
    assert reply.withheld["temperature"] == (
        "claude-sonnet-5-5 does not use temperature; effort is its knob"
    )
    assert set(reply.withheld) == {"temperature", "top_p", "top_k"}


@pytest.mark.parametrize(
    ("thinking", "expected"),
    [("adaptive", {"type": "adaptive"}), (2048, {"type": "enabled", "budget_tokens": 2048})],
)
def test_thinking_is_sent_to_models_that_take_it(
    anthropic_server: AnthropicServer,
    make: Callable[..., AnthropicProvider],
    thinking: str | int,
    expected: dict[str, object],
) -> None:
    make().complete(request(model="claude-opus-5-5", decoding=Decoding(thinking=thinking)))
    assert body(anthropic_server.requests[0])["thinking"] == expected


def test_older_model_gets_temperature_but_not_top_p_with_it(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    decoding = Decoding(temperature=0.2, top_p=0.9, top_k=40, effort="medium")
    reply = make().complete(request(model="claude-haiku-4-5", stage="implement", decoding=decoding))
    sent = body(anthropic_server.requests[0])
    assert sent["temperature"] == 0.2
    assert sent["top_k"] == 40
    assert "top_p" not in sent
    assert "output_config" not in sent
    assert reply.sent == {"temperature": 0.2, "top_k": 40}
    assert reply.withheld == {
        "top_p": "claude-haiku-4-5 refuses temperature and top_p together; temperature was "
        "kept (it comes first in [stages.implement])",
        "effort": "claude-haiku-4-5 does not use effort; it honours temperature, top_p, top_k",
    }


def test_a_deprecated_model_is_logged_not_raised(
    anthropic_server: AnthropicServer,
    make: Callable[..., AnthropicProvider],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Which models the SDK calls deprecated changes with every release, so the test makes its
    # own: `messages.create` warns for a model id chosen here, as the SDK does for its list
    # (a DeprecationWarning raised inside `create`), then sends the request as usual.
    import anthropic.resources.messages as sdk_messages

    retired = "claude-test-retired-1"
    message = f"The model '{retired}' is deprecated and will reach end-of-life on 2026-01-05."
    original = sdk_messages.Messages.create

    def create(self: object, *args: object, **kwargs: object) -> object:
        if kwargs.get("model") == retired:
            warnings.warn(message, DeprecationWarning, stacklevel=3)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sdk_messages.Messages, "create", create)
    monkeypatch.setattr(anthropic_provider, "_logged", set())
    # pytest turns warnings into errors here: the SDK's DeprecationWarning must not escape.
    with caplog.at_level(logging.WARNING, logger="specflow.providers.anthropic"):
        make().complete(request(model=retired, decoding=Decoding(temperature=0.3)))
        reply = make().complete(request(model=retired, decoding=Decoding(temperature=0.3)))
    assert reply.text == "Hello from the loopback server."
    assert [record.getMessage() for record in caplog.records] == [message]  # once per run
    assert len(anthropic_server.requests) == 2
    assert body(anthropic_server.requests[0])["model"] == retired


def test_without_the_warning_nothing_is_logged(
    anthropic_server: AnthropicServer,
    make: Callable[..., AnthropicProvider],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(anthropic_provider, "_logged", set())
    with caplog.at_level(logging.WARNING, logger="specflow.providers.anthropic"):
        make().complete(request(model="claude-test-current-1"))
    assert caplog.records == []


# -- credentials -------------------------------------------------------------------------


def test_the_api_key_reaches_the_server_as_a_bearer_header(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    make().complete(request())
    headers = anthropic_server.requests[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["anthropic-version"]


def test_an_auth_token_and_the_base_url_come_from_the_environment(
    anthropic_server: AnthropicServer, sleeps: list[float]
) -> None:
    env = {"ANTHROPIC_AUTH_TOKEN": "token-abc", "ANTHROPIC_BASE_URL": anthropic_server.base_url}
    provider = AnthropicProvider(AnthropicConfig(), load_table([]), env, sleep=sleeps.append)
    assert provider.base_url == anthropic_server.base_url
    provider.complete(request())
    assert anthropic_server.requests[0].headers["authorization"] == "Bearer token-abc"


def test_config_base_url_wins_over_the_environment(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    provider = make(env={**ENV, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"})
    provider.complete(request())
    assert len(anthropic_server.requests) == 1


def test_without_credentials_it_says_where_they_come_from(
    make: Callable[..., AnthropicProvider],
) -> None:
    with pytest.raises(ConfigError) as caught:
        make(env={}).complete(request())
    assert str(caught.value) == (
        'provider "anthropic" needs credentials, and neither ANTHROPIC_API_KEY nor '
        "ANTHROPIC_AUTH_TOKEN is set. Set one of them, or use `--provider handoff` to write the "
        "prompt to a file for any chat or agent."
    )


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (AnthropicServer.unauthorized(), 401, "invalid x-api-key"),
        (
            AnthropicServer.forbidden(),
            403,
            "Your API key does not have permission to use this resource",
        ),
    ],
)
def test_a_refused_key_fails_at_once_with_where_credentials_come_from(
    anthropic_server: AnthropicServer,
    make: Callable[..., AnthropicProvider],
    sleeps: list[float],
    error: HTTPError,
    status: int,
    text: str,
) -> None:
    anthropic_server.script(error)
    with pytest.raises(ProviderError) as caught:
        make().complete(request())
    assert type(caught.value) is ProviderError
    assert caught.value.exit_code == 3
    assert str(caught.value) == (
        f"the API key was refused (HTTP {status}: {text}). Anthropic credentials come from "
        "ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN (this run used ANTHROPIC_API_KEY); set a "
        "valid key, or use `--provider handoff` to work without one."
    )
    assert len(anthropic_server.requests) == 1
    assert sleeps == []
    assert_no_secret(caught.value)


def test_a_key_echoed_by_the_server_is_redacted(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    anthropic_server.script(AnthropicServer.bad_request(f"malformed header Bearer{KEY}"))
    with pytest.raises(ProviderError) as caught:
        make().complete(request())
    assert "malformed header Bearer[redacted]" in str(caught.value)
    assert KEY not in str(caught.value)


# -- errors that name a setting ----------------------------------------------------------


def test_a_400_naming_temperature_names_the_config_key(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.script(
        AnthropicServer.bad_request("temperature: Extra inputs are not permitted")
    )
    with pytest.raises(ProviderError) as caught:
        make().complete(request(model="claude-haiku-4-5", stage="spec"))
    assert str(caught.value) == (
        "the Anthropic API refused the request (HTTP 400 invalid_request_error: temperature: "
        "Extra inputs are not permitted (request id req_loopback_000001)). `temperature` comes "
        "from `[stages.spec] temperature` in .specflow/config.toml: change or remove it there, "
        "or add a [[capabilities]] row for this model that leaves it out of `honours`."
    )
    assert sleeps == []
    assert len(anthropic_server.requests) == 1


def test_a_400_naming_the_thinking_budget_names_the_thinking_key(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    anthropic_server.script(
        AnthropicServer.bad_request("`max_tokens` must be greater than `thinking.budget_tokens`")
    )
    with pytest.raises(ProviderError) as caught:
        make().complete(request(stage="implement", decoding=Decoding(effort="high", thinking=2048)))
    assert str(caught.value).endswith(
        "`max_tokens` comes from `[stages.implement] max_tokens`; `thinking` comes from "
        "`[stages.implement] thinking`; `budget_tokens` comes from `[stages.implement] "
        "thinking` in .specflow/config.toml: change or remove it there, or add a "
        "[[capabilities]] row for this model that leaves it out of `honours`."
    )


def test_an_unknown_model_names_the_model_setting(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    anthropic_server.script(AnthropicServer.not_found("model: claude-nope"))
    with pytest.raises(ProviderError) as caught:
        make().complete(request(model="claude-nope"))
    assert str(caught.value).endswith(
        "(HTTP 404 not_found_error: model: claude-nope (request id req_loopback_000001)). The "
        "model comes from `model` (.specflow/config.toml, SPECFLOW_MODEL or --model): check the "
        "model id."
    )


# -- retries -----------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.script(AnthropicServer.rate_limited(retry_after=3), Text("after the wait"))
    seen = Recorder()
    reply = make().complete(request(), seen)
    assert reply.text == "after the wait"
    assert reply.retries == 1
    assert sleeps == [3.0]
    assert seen.restarts == [
        "HTTP 429 rate_limit_error: Number of requests has exceeded your rate limit (request id "
        "req_loopback_000001); retrying in 3.0 s (retry 1 of 4)"
    ]


def test_retry_after_is_capped(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.script(AnthropicServer.rate_limited(retry_after=600), Text("ok"))
    assert make(retry_after_cap_s=5).complete(request()).text == "ok"
    assert sleeps == [5.0]


def test_retry_after_ms_is_honoured(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.script(HTTPError(429, headers={"retry-after-ms": "1500"}), Text("ok"))
    make().complete(request())
    assert sleeps == [1.5]


@pytest.mark.parametrize(
    "failure",
    [
        AnthropicServer.overloaded(),
        AnthropicServer.server_error(),
        HTTPError(503, body="<html>Service Unavailable</html>"),
        Reset(),
        Malformed(),
    ],
    ids=["529", "500", "503-html", "reset", "malformed"],
)
def test_transient_failures_are_retried_with_backoff(
    anthropic_server: AnthropicServer,
    make: Callable[..., AnthropicProvider],
    sleeps: list[float],
    failure: HTTPError | Reset | Malformed,
) -> None:
    anthropic_server.script(failure, failure, Text("third time lucky"))
    reply = make().complete(request())
    assert reply.text == "third time lucky"
    assert reply.retries == 2
    assert len(anthropic_server.requests) == 3
    # Exponential: 0.5 s then 1 s, each up to a quarter shorter (jitter).
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Drop("This reply is cut off half-way through"), "the connection dropped mid-stream"),
        (Drop("Cut short by a proxy", clean=True), "the stream ended before message_stop"),
        (
            StreamError("Partial text before the error"),
            "error event in the stream: overloaded_error: Overloaded",
        ),
    ],
    ids=["dropped", "cut-short", "error-event"],
)
def test_a_broken_stream_is_retried_from_the_start_and_partial_text_discarded(
    anthropic_server: AnthropicServer,
    make: Callable[..., AnthropicProvider],
    failure: Drop | StreamError,
    reason: str,
) -> None:
    anthropic_server.script(failure, Text("The complete answer."))
    seen = Recorder()
    reply = make().complete(request(), seen)
    assert reply.text == "The complete answer."
    assert reply.retries == 1
    kinds = [kind for kind, _ in seen.events]
    restart_at = kinds.index("restart")
    assert seen.events[:restart_at] and all(k == "text" for k in kinds[:restart_at])
    assert "".join(text for _, text in seen.events[restart_at + 1 :]) == "The complete answer."
    assert seen.restarts[0].startswith(reason)
    assert len(anthropic_server.requests) == 2


def test_an_invalid_request_error_event_is_not_retried(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.script(StreamError("x", "invalid_request_error", "prompt is too long"))
    with pytest.raises(ProviderError) as caught:
        make().complete(request())
    assert str(caught.value) == (
        "the Anthropic API refused the request (error event in the stream: "
        "invalid_request_error: prompt is too long)."
    )
    assert sleeps == []


def test_exhausted_retries_report_the_last_failure(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.default = AnthropicServer.overloaded()
    with pytest.raises(ProviderError) as caught:
        make(max_retries=2).complete(request())
    assert type(caught.value) is ProviderError
    assert str(caught.value) == (
        f"the Anthropic API at {anthropic_server.base_url} failed 3 attempts in a row (last: "
        "HTTP 529 overloaded_error: Overloaded (request id req_loopback_000003)). Try again "
        "later, or raise `[anthropic] max_retries`."
    )
    assert len(sleeps) == 2
    assert_no_secret(caught.value)


def test_malformed_replies_every_time_say_so(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    anthropic_server.default = Malformed()
    with pytest.raises(ProviderError) as caught:
        make(max_retries=1).complete(request())
    assert str(caught.value).startswith(
        f"the Anthropic API at {anthropic_server.base_url} failed 2 attempts in a row (last: "
        "the API sent a reply specflow could not read ("
    )


def test_a_reply_slower_than_the_timeout_is_unreachable_after_retries(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.default = Delay(5.0)
    with pytest.raises(ProviderUnreachable) as caught:
        make(timeout_s=0.2, max_retries=1).complete(request())
    assert str(caught.value) == (
        f"could not reach the Anthropic API at {anthropic_server.base_url} after 2 attempts "
        "(last: no reply within 0.2 s). Check the network connection and any proxy, that "
        "`[anthropic] base_url` or ANTHROPIC_BASE_URL points at the API, and raise "
        "`[anthropic] timeout_s` if replies take longer than 0.2 s."
    )
    assert caught.value.exit_code == 3
    assert len(anthropic_server.requests) == 2
    assert len(sleeps) == 1
    assert_no_secret(caught.value)


def test_a_slow_reply_then_a_quick_one_recovers(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    anthropic_server.script(Delay(5.0), Text("quick"))
    assert make(timeout_s=0.2).complete(request()).text == "quick"


def test_nothing_listening_is_unreachable(sleeps: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    provider = AnthropicProvider(
        AnthropicConfig(base_url=base_url, max_retries=2), load_table([]), ENV, sleep=sleeps.append
    )
    with pytest.raises(ProviderUnreachable) as caught:
        provider.complete(request())
    assert str(caught.value).startswith(
        f"could not reach the Anthropic API at {base_url} after 3 attempts (last: connection "
        "failed: "
    )
    assert len(sleeps) == 2
    assert_no_secret(caught.value)


def test_a_scripted_callable_drives_a_long_session(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    def answer(recorded: RecordedRequest) -> str:
        return f"reply to {len(body(recorded)['messages'])} messages"  # type: ignore[arg-type]

    anthropic_server.default = answer
    provider = make()
    history: list[Message] = []
    replies: list[Reply] = []
    for turn in range(3):
        history = [*history, Message("user", f"turn {turn}")]
        reply = provider.complete(request(messages=history))
        replies.append(reply)
        history = [*history, Message("assistant", reply.text)]
    assert [r.text for r in replies] == [
        "reply to 1 messages",
        "reply to 3 messages",
        "reply to 5 messages",
    ]


def test_importing_the_provider_does_not_import_the_sdk() -> None:
    code = (
        "import sys, specflow.providers.anthropic, specflow.providers.factory, "
        "specflow.providers.capabilities; "
        "print('anthropic' in sys.modules, 'openai' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_the_recorded_body_is_what_the_sdk_sent(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider]
) -> None:
    make().complete(request(max_tokens=1234))
    recorded = anthropic_server.requests[0]
    assert recorded.method == "POST"
    assert recorded.path == "/v1/messages"
    assert json.loads(recorded.raw) == recorded.body
    assert body(recorded)["max_tokens"] == 1234
    assert body(recorded)["model"] == "claude-sonnet-5-5"


def test_the_server_answers_plain_json_when_not_streaming(
    anthropic_server: AnthropicServer,
) -> None:
    anthropic_server.script(Text("plain JSON", thinking="hmm"))
    payload = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    request = urllib.request.Request(
        anthropic_server.base_url + "/v1/messages",
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json", "x-api-key": "k"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        message = json.loads(response.read())
        assert response.headers["request-id"].startswith("req_loopback_")
    assert message["type"] == "message"
    assert message["content"] == [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "plain JSON"},
    ]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"] == {
        "output_tokens": 3,
        "input_tokens": 3,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }


def test_the_server_refuses_what_the_api_refuses(anthropic_server: AnthropicServer) -> None:
    def post(payload: dict[str, object], headers: dict[str, str]) -> tuple[int, object]:
        request = urllib.request.Request(
            anthropic_server.base_url + "/v1/messages",
            data=json.dumps(payload).encode(),
            headers={"content-type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read())

    ok = {"model": "m", "max_tokens": 10, "messages": []}
    assert post(ok, {}) == (
        401,
        {
            "type": "error",
            "error": {"type": "authentication_error", "message": "x-api-key header is required"},
        },
    )
    assert post({"model": "m"}, {"x-api-key": "k"})[0] == 400
    marked = {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
    too_many = {**ok, "system": [marked] * 5}
    status, error = post(too_many, {"x-api-key": "k"})
    assert status == 400
    assert error["error"]["message"] == (  # type: ignore[index]
        "A maximum of 4 blocks with cache_control may be provided. Found 5."
    )
    assert anthropic_server.pending == 0


def test_a_400_blames_only_the_parameter_that_was_sent(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.script(
        AnthropicServer.bad_request("temperature and top_p cannot both be specified")
    )
    with pytest.raises(ProviderError) as caught:
        make().complete(request(model="claude-haiku-4-5", stage="spec"))
    message = str(caught.value)
    assert "`temperature` comes from `[stages.spec] temperature`" in message
    assert "top_p` comes from" not in message  # the request carried no top_p


def test_a_dropped_stream_is_reported_as_a_dropped_stream(
    anthropic_server: AnthropicServer, make: Callable[..., AnthropicProvider], sleeps: list[float]
) -> None:
    anthropic_server.default = Drop("cut off half-way")
    with pytest.raises(ProviderUnreachable) as caught:
        make(max_retries=1).complete(request())
    message = str(caught.value)
    assert message.startswith(
        f"the Anthropic API at {anthropic_server.base_url} dropped the reply stream mid-way "
        "on the last of 2 attempts (the connection dropped mid-stream"
    )
    assert "The server was reached" in message
    assert "could not reach" not in message
    assert_no_secret(caught.value)
