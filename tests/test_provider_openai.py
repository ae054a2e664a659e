"""The OpenAI-compatible provider, driven through the real SDK against the loopback server."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

import pytest

from specflow.config import CapabilityEntry, OpenAIConfig
from specflow.errors import ProviderError, ProviderUnreachable
from specflow.providers.base import Decoding, Message, Request, SystemBlock
from specflow.providers.capabilities import load_table
from specflow.providers.openai_compat import OpenAICompatProvider
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
from tests.support.fakes.openai_server import OpenAIServer

KEY = "sk-local-secret-9876543210"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __call__(self, text: str) -> None:
        self.events.append(("text", text))

    def restart(self, reason: str) -> None:
        self.events.append(("restart", reason))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(openai_server: OpenAIServer, sleeps: list[float]) -> Callable[..., OpenAICompatProvider]:
    def build(
        env: dict[str, str] | None = None,
        table: list[CapabilityEntry] | None = None,
        **config: object,
    ) -> OpenAICompatProvider:
        settings = {"base_url": openai_server.base_url, **config}
        return OpenAICompatProvider(
            OpenAIConfig.model_validate(settings),
            load_table([]) if table is None else table,
            {} if env is None else env,
            sleep=sleeps.append,
        )

    return build


def request(
    *,
    model: str = "qwen2.5-coder:14b",
    stage: str = "implement",
    decoding: Decoding | None = None,
    max_tokens: int = 2000,
) -> Request:
    return Request(
        stage=stage,
        model=model,
        system=[
            SystemBlock("Follow the rules.", cache=True, label="rules"),
            SystemBlock("Write one file.", label="instructions"),
        ],
        messages=[Message("user", "Write collector.py", cache=True)],
        max_tokens=max_tokens,
        decoding=decoding if decoding is not None else Decoding(temperature=0.1, effort="medium"),
    )


def body(recorded: RecordedRequest) -> dict[str, object]:
    assert isinstance(recorded.body, dict)
    return recorded.body


def test_streams_deltas_and_joins_the_system_blocks(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    openai_server.script(
        Text("def collect():\n    pass\n", chunks=["def collect():\n", "    pass\n"])
    )
    seen = Recorder()
    reply = make().complete(request(), seen)
    assert seen.events == [("text", "def collect():\n"), ("text", "    pass\n")]
    assert reply.text == "def collect():\n    pass\n"
    assert reply.stop_reason == "end_turn"
    assert reply.model == "qwen2.5-coder:14b"
    assert reply.request_id is not None and reply.request_id.startswith("req-loopback-")
    sent = body(openai_server.requests[0])
    assert sent["messages"] == [
        {"role": "system", "content": "Follow the rules.\n\nWrite one file."},
        {"role": "user", "content": "Write collector.py"},
    ]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 2000
    assert b"cache_control" not in openai_server.requests[0].raw


def test_usage_comes_from_the_final_chunk(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    openai_server.script(
        Text(
            "ok",
            usage={
                "prompt_tokens": 120,
                "completion_tokens": 7,
                "prompt_tokens_details": {"cached_tokens": 100},  # type: ignore[dict-item]
            },
        )
    )
    usage = make().complete(request()).usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (20, 100, 7)
    assert usage.cache_write_tokens == 0


def test_length_is_reported_as_max_tokens(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    openai_server.script(Text("cut", stop_reason="length"))
    assert make().complete(request()).stop_reason == "max_tokens"


def test_sampling_knobs_are_sent_and_effort_is_withheld(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    decoding = Decoding(temperature=0.8, top_p=0.95, top_k=40, effort="high", thinking="adaptive")
    reply = make().complete(request(stage="scope", decoding=decoding))
    sent = body(openai_server.requests[0])
    assert (sent["temperature"], sent["top_p"], sent["top_k"]) == (0.8, 0.95, 40)
    assert "effort" not in sent and "thinking" not in sent and "reasoning_effort" not in sent
    assert reply.sent == {"temperature": 0.8, "top_p": 0.95, "top_k": 40}
    assert reply.withheld == {
        "effort": "qwen2.5-coder:14b does not use effort; it honours temperature, top_p, top_k",
        "thinking": "qwen2.5-coder:14b does not use thinking; it honours temperature, top_p, top_k",
    }


def test_a_user_row_can_stop_top_k(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    row = CapabilityEntry(provider="openai", match="gpt-*", honours=["temperature", "top_p"])
    decoding = Decoding(temperature=0.3, top_k=40)
    reply = make(table=load_table([row])).complete(request(model="gpt-local", decoding=decoding))
    assert b"top_k" not in openai_server.requests[0].raw
    assert reply.withheld == {
        "top_k": "gpt-local does not use top_k; it honours temperature, top_p"
    }


def test_without_a_key_a_placeholder_is_sent(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    make().complete(request())
    assert openai_server.requests[0].headers["authorization"] == "Bearer not-needed"


def test_the_key_comes_from_the_configured_variable(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    openai_server.require_key = KEY
    make(env={"VLLM_KEY": KEY}, api_key_env="VLLM_KEY").complete(request())
    assert openai_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_a_refused_key_points_at_the_variable(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider], sleeps: list[float]
) -> None:
    openai_server.require_key = "the-right-key"
    with pytest.raises(ProviderError) as caught:
        make(env={"VLLM_KEY": KEY}, api_key_env="VLLM_KEY").complete(request())
    assert str(caught.value) == (
        f"the API key was refused by {openai_server.base_url} (HTTP 401: Incorrect API key "
        "provided). The key comes from the environment variable VLLM_KEY (named by `[openai] "
        "api_key_env`; it is set); set it to a key the server accepts."
    )
    assert KEY not in str(caught.value)
    assert sleeps == []
    assert len(openai_server.requests) == 1


def test_a_missing_key_says_a_placeholder_was_sent(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    openai_server.script(OpenAIServer.unauthorized())
    with pytest.raises(ProviderError) as caught:
        make().complete(request())
    assert "(named by `[openai] api_key_env`; it is not set, so a placeholder was sent)" in str(
        caught.value
    )
    assert "OPENAI_API_KEY" in str(caught.value)


def test_a_400_naming_top_k_names_the_config_key(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    openai_server.script(OpenAIServer.bad_request("Unrecognized request argument: top_k"))
    with pytest.raises(ProviderError) as caught:
        make().complete(request(decoding=Decoding(top_k=40)))
    assert str(caught.value) == (
        f"the server at {openai_server.base_url} refused the request (HTTP 400 "
        "invalid_request_error: Unrecognized request argument: top_k). `top_k` comes from "
        "`[stages.implement] top_k` in .specflow/config.toml: change or remove it there, or add "
        "a [[capabilities]] row for this model that leaves it out of `honours`."
    )


def test_a_missing_model_names_the_model_setting(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider]
) -> None:
    openai_server.script(OpenAIServer.not_found('model "llama9" not found, try pulling it first'))
    with pytest.raises(ProviderError) as caught:
        make().complete(request(model="llama9"))
    assert str(caught.value).endswith(
        "The model comes from `model` (.specflow/config.toml, SPECFLOW_MODEL or --model): "
        "check the model id."
    )


def test_429_honours_retry_after(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider], sleeps: list[float]
) -> None:
    openai_server.script(OpenAIServer.rate_limited(retry_after=2), Text("ok"))
    reply = make().complete(request())
    assert reply.text == "ok"
    assert reply.retries == 1
    assert sleeps == [2.0]


@pytest.mark.parametrize(
    "failure",
    [OpenAIServer.server_error(), HTTPError(502, body="Bad Gateway"), Reset(), Malformed()],
    ids=["500", "502-text", "reset", "malformed"],
)
def test_transient_failures_are_retried(
    openai_server: OpenAIServer,
    make: Callable[..., OpenAICompatProvider],
    sleeps: list[float],
    failure: HTTPError | Reset | Malformed,
) -> None:
    openai_server.script(failure, Text("recovered"))
    reply = make().complete(request())
    assert reply.text == "recovered"
    assert len(sleeps) == 1 and 0.375 <= sleeps[0] <= 0.5


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Drop("half of a file that never ends"), "the connection dropped mid-stream"),
        (Drop("cut short", clean=True), "the stream ended before the reply finished"),
        (
            StreamError("partial", "server_error", "model crashed"),
            "error event in the stream: server_error: model crashed",
        ),
    ],
    ids=["dropped", "cut-short", "error-event"],
)
def test_a_broken_stream_is_retried_and_partial_text_discarded(
    openai_server: OpenAIServer,
    make: Callable[..., OpenAICompatProvider],
    failure: Drop | StreamError,
    reason: str,
) -> None:
    openai_server.script(failure, Text("whole file"))
    seen = Recorder()
    reply = make().complete(request(), seen)
    assert reply.text == "whole file"
    restarts = [value for kind, value in seen.events if kind == "restart"]
    assert len(restarts) == 1 and restarts[0].startswith(reason)
    after = seen.events.index(("restart", restarts[0]))
    assert "".join(value for _, value in seen.events[after + 1 :]) == "whole file"


def test_a_slow_server_is_unreachable_after_retries(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider], sleeps: list[float]
) -> None:
    openai_server.default = Delay(5.0)
    with pytest.raises(ProviderUnreachable) as caught:
        make(timeout_s=0.2, max_retries=1).complete(request())
    assert str(caught.value) == (
        f"could not reach the OpenAI-compatible server at {openai_server.base_url} after 2 "
        "attempts (last: no reply within 0.2 s). Check that the server is running and serving "
        "that address (`[openai] base_url`; Ollama's is http://localhost:11434/v1), and raise "
        "`[openai] timeout_s` if replies take longer than 0.2 s."
    )
    assert len(openai_server.requests) == 2


def test_exhausted_retries_report_the_last_failure(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider], sleeps: list[float]
) -> None:
    openai_server.default = OpenAIServer.server_error()
    with pytest.raises(ProviderError) as caught:
        make(max_retries=3).complete(request())
    assert type(caught.value) is ProviderError
    assert str(caught.value) == (
        f"the server at {openai_server.base_url} failed 4 attempts in a row (last: HTTP 500 "
        "server_error: The server had an error while processing your request). Try again "
        "later, or raise `[openai] max_retries`."
    )
    assert len(sleeps) == 3


def test_the_server_answers_plain_json_when_not_streaming(openai_server: OpenAIServer) -> None:
    openai_server.script(Text("plain JSON"))
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    request = urllib.request.Request(
        openai_server.base_url + "/chat/completions",
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        completion = json.loads(response.read())
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"] == {"role": "assistant", "content": "plain JSON"}
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert completion["usage"] == {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}


def test_a_dropped_stream_is_reported_as_a_dropped_stream(
    openai_server: OpenAIServer, make: Callable[..., OpenAICompatProvider], sleeps: list[float]
) -> None:
    openai_server.default = Drop("half of a file that never ends")
    with pytest.raises(ProviderUnreachable) as caught:
        make(max_retries=1).complete(request())
    message = str(caught.value)
    assert message.startswith(
        f"the server at {openai_server.base_url} dropped the reply stream mid-way on the last "
        "of 2 attempts (the connection dropped mid-stream"
    )
    assert "could not reach" not in message
