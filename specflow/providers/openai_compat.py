"""Local and self-hosted models behind an OpenAI-compatible server (Ollama, llama.cpp server,
vLLM, LM Studio), through the official ``openai`` SDK's chat completions, streamed.

This is the only module that imports ``openai``, and only inside functions. Retries are
specflow's (providers/retry.py), the same as for Anthropic: the client has ``max_retries=0``.

Stop reasons are reported in the Anthropic vocabulary so the stages read one set:
"stop" -> "end_turn", "length" -> "max_tokens", "content_filter" -> "refusal".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from specflow.config import CapabilityEntry, OpenAIConfig
from specflow.errors import ProviderError, ProviderUnreachable
from specflow.providers.base import Reply, Request, TextCallback, Usage
from specflow.providers.capabilities import check_temperature
from specflow.providers.retry import (
    RetryingProvider,
    RetryPolicy,
    TransientFailure,
    describe_cause,
    dropped_stream,
    error_parts,
    parse_retry_after,
    redact,
    setting_hint,
)

if TYPE_CHECKING:
    import openai

# Local servers ignore the key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"
RETRY_STATUSES = frozenset({408, 429})
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal"}


class OpenAICompatProvider(RetryingProvider):
    """Chat completions on an OpenAI-compatible endpoint, streamed."""

    name = "openai"

    def __init__(
        self,
        config: OpenAIConfig,
        table: list[CapabilityEntry],
        env: Mapping[str, str],
        sleep: Callable[[float], None] = time.sleep,
        capability: CapabilityEntry | None = None,
    ) -> None:
        self.config = config
        self.table = table
        self.capability = capability
        self.base_url = config.base_url
        self._key = env.get(config.api_key_env, "").strip() if config.api_key_env else ""
        self._sleep = sleep
        self._policy = RetryPolicy(config.max_retries, config.retry_after_cap_s)

    def _params(self, request: Request, sent: Mapping[str, Any]) -> dict[str, Any]:
        # Refuse what the model would answer with a 400 (resolve_model checks it first;
        # this covers a provider used on its own).
        check_temperature(
            request.stage, sent.get("temperature"), self._capability(request), request.model
        )
        return build_params(request, sent)

    def _connect(self) -> openai.OpenAI:
        return self._client()

    def _client(self) -> openai.OpenAI:
        import openai

        timeout = openai.Timeout(self.config.timeout_s, connect=min(self.config.timeout_s, 10.0))
        return openai.OpenAI(
            api_key=self._key or PLACEHOLDER_KEY,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=0,
        )

    def _attempt(
        self,
        client: openai.OpenAI,
        params: dict[str, Any],
        request: Request,
        on_text: TextCallback | None,
    ) -> Reply:
        """One request from the start; transient failures raise TransientFailure."""
        import openai

        try:
            stream = client.chat.completions.create(**params, stream=True)
        except openai.APIStatusError as exc:
            raise self._status_failure(exc, request) from None
        except openai.APITimeoutError:
            raise self._timeout() from None
        except openai.APIConnectionError as exc:
            raise TransientFailure(
                f"connection failed: {self._describe_cause(exc)}", unreachable=True
            ) from None
        collector = _ChunkCollector(request.model, on_text)
        with stream:
            request_id = stream.response.headers.get("x-request-id")
            try:
                for chunk in stream:
                    collector.feed(chunk)
            except openai.APITimeoutError:
                raise self._timeout() from None
            except openai.APIConnectionError as exc:
                raise TransientFailure(
                    f"the connection dropped mid-stream ({self._describe_cause(exc)})",
                    dropped=True,
                ) from None
            except openai.APIError as exc:  # an error object inside the stream
                etype, message = error_parts(exc.body)
                text = self._redact(message or exc.message)
                raise TransientFailure(
                    f"error event in the stream: {etype or 'error'}: {text}"
                ) from None
            except ValueError as exc:  # JSON that does not parse
                raise TransientFailure(
                    f"the server sent a reply specflow could not read ({self._redact(str(exc))})"
                ) from None
        return collector.reply(request_id or collector.chunk_id)

    def _timeout(self) -> TransientFailure:
        return TransientFailure(f"no reply within {self.config.timeout_s:g} s", unreachable=True)

    def _status_failure(self, exc: openai.APIStatusError, request: Request) -> Exception:
        status = exc.status_code
        etype, message = error_parts(exc.body)
        text = self._redact(message or exc.message)
        summary = f"HTTP {status}" + (f" {etype}" if etype else "") + f": {text}"
        if status in RETRY_STATUSES or status >= 500:
            return TransientFailure(summary, retry_after=parse_retry_after(exc.response.headers))
        if status in (401, 403):
            return ProviderError(self._refused(status, text))
        return ProviderError(
            f"the server at {self.base_url} refused the request ({summary})."
            + setting_hint(text, request.stage, status=status, sent=self._sent(request))
        )

    def _refused(self, status: int, text: str) -> str:
        env = self.config.api_key_env
        state = "it is set" if self._key else "it is not set, so a placeholder was sent"
        return (
            f"the API key was refused by {self.base_url} (HTTP {status}: {text}). The key comes "
            f"from the environment variable {env} (named by `[openai] api_key_env`; {state}); "
            "set it to a key the server accepts."
        )

    def _exhausted(self, failure: TransientFailure, attempts: int) -> ProviderError:
        if failure.dropped:
            return dropped_stream(failure, f"the server at {self.base_url}", attempts)
        if failure.unreachable:
            return ProviderUnreachable(
                f"could not reach the OpenAI-compatible server at {self.base_url} after "
                f"{attempts} attempts (last: {failure.summary}). Check that the server is "
                "running and serving that address (`[openai] base_url`; Ollama's is "
                "http://localhost:11434/v1), and raise `[openai] timeout_s` if replies take "
                f"longer than {self.config.timeout_s:g} s."
            )
        return ProviderError(
            f"the server at {self.base_url} failed {attempts} attempts in a row "
            f"(last: {failure.summary}). Try again later, or raise `[openai] max_retries`."
        )

    def _describe_cause(self, exc: BaseException) -> str:
        return self._redact(describe_cause(exc))

    def _redact(self, text: str) -> str:
        return redact(text, [self._key])


def build_params(request: Request, sent: Mapping[str, Any]) -> dict[str, Any]:
    """The chat-completions body: one system message, the turns, and the honoured knobs."""
    messages: list[dict[str, str]] = []
    system = "\n\n".join(block.text for block in request.system)
    if system:
        messages.append({"role": "system", "content": system})
    messages += [{"role": m.role, "content": m.full_text} for m in request.messages]
    params: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "max_tokens": request.max_tokens,
        "stream_options": {"include_usage": True},
    }
    for knob in ("temperature", "top_p"):
        if knob in sent:
            params[knob] = sent[knob]
    if "top_k" in sent:
        # Not a chat-completions field; Ollama, llama.cpp and vLLM read it from the body.
        params["extra_body"] = {"top_k": sent["top_k"]}
    return params


class _ChunkCollector:
    """Folds the chunks of one streamed attempt into text, usage and finish reason."""

    def __init__(self, model: str, on_text: TextCallback | None) -> None:
        self.model = model
        self.on_text = on_text
        self.parts: list[str] = []
        self.usage = Usage()
        self.finish_reason: str | None = None
        self.chunk_id: str | None = None

    def feed(self, chunk: Any) -> None:
        self.chunk_id = self.chunk_id or getattr(chunk, "id", None)
        self.model = getattr(chunk, "model", None) or self.model
        for choice in getattr(chunk, "choices", None) or []:
            text = getattr(choice.delta, "content", None) if choice.delta else None
            if text:
                self.parts.append(text)
                if self.on_text is not None:
                    self.on_text(text)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._take_usage(usage)

    def _take_usage(self, usage: Any) -> None:
        prompt = getattr(usage, "prompt_tokens", 0) or 0
        details = getattr(usage, "prompt_tokens_details", None)
        cached = (getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
        self.usage = Usage(
            input_tokens=prompt - cached,
            output_tokens=getattr(usage, "completion_tokens", 0) or 0,
            cache_read_tokens=cached,
        )

    def reply(self, request_id: str | None) -> Reply:
        if self.finish_reason is None:
            # The body ended without a finish reason: the stream was cut short.
            raise TransientFailure("the stream ended before the reply finished", unreachable=True)
        return Reply(
            text="".join(self.parts),
            stop_reason=STOP_REASONS.get(self.finish_reason, self.finish_reason),
            usage=self.usage,
            model=self.model,
            request_id=request_id,
        )
