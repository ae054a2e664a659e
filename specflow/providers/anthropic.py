"""Claude through the official ``anthropic`` SDK (2.x): streaming, prompt caching, and only
the decoding settings the capability table says the model honours.

This is the only module that imports ``anthropic`` (and its transport, ``httpx2``), and it does
so inside functions: importing this module costs nothing until a request is made.

Retries are specflow's (see providers/retry.py): the SDK client is built with
``max_retries=0`` so that HTTP errors, connection errors, timeouts, a stream dropped half-way
and an error event inside a stream are all retried the same way, from the start.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from specflow.config import AnthropicConfig, CapabilityEntry
from specflow.environment import CREDENTIAL_VARS
from specflow.errors import ConfigError, ProviderError, ProviderUnreachable
from specflow.providers.base import Message, Reply, Request, SystemBlock, TextCallback, Usage
from specflow.providers.capabilities import SAMPLING_KNOBS, check_temperature
from specflow.providers.retry import (
    PERMANENT_STREAM_ERRORS,
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
    import anthropic

DEFAULT_BASE_URL = "https://api.anthropic.com"
MAX_CACHE_BREAKPOINTS = 4  # the Messages API refuses more cache_control blocks than this
RETRY_STATUSES = frozenset({408, 429})

log = logging.getLogger(__name__)


class AnthropicProvider(RetryingProvider):
    """The Anthropic Messages API, streamed. Never logs or writes the key."""

    name = "anthropic"

    def __init__(
        self,
        config: AnthropicConfig,
        table: list[CapabilityEntry],
        env: Mapping[str, str],
        sleep: Callable[[float], None] = time.sleep,
        capability: CapabilityEntry | None = None,
    ) -> None:
        self.config = config
        self.table = table
        self.capability = capability
        self.base_url = config.base_url or env.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        self._credential = _credential(env)
        self._sleep = sleep
        self._policy = RetryPolicy(config.max_retries, config.retry_after_cap_s)

    def _params(self, request: Request, sent: Mapping[str, Any]) -> dict[str, Any]:
        # Refuse what the model would answer with a 400 (resolve_model checks it first;
        # this covers a provider used on its own).
        check_temperature(
            request.stage, sent.get("temperature"), self._capability(request), request.model
        )
        return build_params(request, sent, caching=self.config.prompt_caching)

    def _connect(self) -> anthropic.Anthropic:
        return self._client(self._require_credential())

    def _require_credential(self) -> tuple[str, str]:
        if self._credential is None:
            raise ConfigError(
                'provider "anthropic" needs credentials, and neither ANTHROPIC_API_KEY nor '
                "ANTHROPIC_AUTH_TOKEN is set. Set one of them, or use `--provider handoff` to "
                "write the prompt to a file for any chat or agent."
            )
        return self._credential

    def _client(self, credential: tuple[str, str]) -> anthropic.Anthropic:
        import anthropic
        import httpx2

        name, value = credential
        # Explicit credentials and base URL: the SDK then reads neither the environment nor
        # any profile from the user's home directory.
        api_key, auth_token = (value, None) if name == "ANTHROPIC_API_KEY" else (None, value)
        timeout = httpx2.Timeout(self.config.timeout_s, connect=min(self.config.timeout_s, 10.0))
        return anthropic.Anthropic(
            api_key=api_key,
            auth_token=auth_token,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=0,
        )

    def _attempt(
        self,
        client: anthropic.Anthropic,
        params: dict[str, Any],
        request: Request,
        on_text: TextCallback | None,
    ) -> Reply:
        """One request from the start; transient failures raise TransientFailure."""
        stream = self._open(client, params, request)
        return self._read(stream, _StreamCollector(request.model, on_text))

    def _open(
        self, client: anthropic.Anthropic, params: dict[str, Any], request: Request
    ) -> anthropic.Stream[Any]:
        """Send the request; up to the response headers (HTTP errors surface here)."""
        import anthropic

        try:
            with warnings.catch_warnings(record=True) as caught:
                # The SDK warns about deprecated models; say it once in the log instead of
                # letting a warning filter turn it into a crash.
                warnings.simplefilter("always")
                stream: anthropic.Stream[Any] = client.messages.create(**params, stream=True)
        except anthropic.APITimeoutError:
            raise self._timeout() from None
        except anthropic.APIConnectionError as exc:
            raise TransientFailure(
                f"connection failed: {self._describe_cause(exc)}", unreachable=True
            ) from None
        except anthropic.APIStatusError as exc:
            raise self._status_failure(exc, request) from None
        _log_once([str(warning.message) for warning in caught])
        return stream

    def _read(self, stream: anthropic.Stream[Any], collector: _StreamCollector) -> Reply:
        """Read the SSE events; a break, an error event or bad JSON is transient."""
        import anthropic
        import httpx2

        with stream:
            request_id = stream.response.headers.get("request-id")
            try:
                for event in stream:
                    collector.feed(event)
            except anthropic.APIStatusError as exc:
                raise self._stream_error(exc) from None
            except httpx2.TimeoutException:
                raise self._timeout() from None
            except httpx2.TransportError as exc:
                raise TransientFailure(
                    f"the connection dropped mid-stream ({self._redact(str(exc))})",
                    dropped=True,
                ) from None
            except ValueError as exc:  # JSON that does not parse
                raise TransientFailure(
                    f"the API sent a reply specflow could not read ({self._redact(str(exc))})"
                ) from None
        return collector.reply(request_id)

    def _timeout(self) -> TransientFailure:
        return TransientFailure(f"no reply within {self.config.timeout_s:g} s", unreachable=True)

    def _status_failure(self, exc: anthropic.APIStatusError, request: Request) -> Exception:
        """An HTTP error status: retry 408, 429 and 5xx; explain the others and stop."""
        status = exc.status_code
        etype, message = error_parts(exc.body)
        text = self._redact(message or exc.message)
        summary = f"HTTP {status}" + (f" {etype}" if etype else "") + f": {text}"
        if exc.request_id:
            summary += f" (request id {exc.request_id})"
        if status in RETRY_STATUSES or status >= 500:
            headers = exc.response.headers
            return TransientFailure(summary, retry_after=parse_retry_after(headers))
        if status in (401, 403):
            return ProviderError(self._refused(status, text))
        return ProviderError(
            f"the Anthropic API refused the request ({summary})."
            + setting_hint(text, request.stage, status=status, sent=self._sent(request))
        )

    def _refused(self, status: int, text: str) -> str:
        used = self._credential[0] if self._credential else "no credential"
        return (
            f"the API key was refused (HTTP {status}: {text}). Anthropic credentials come from "
            f"ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN (this run used {used}); set a valid "
            "key, or use `--provider handoff` to work without one."
        )

    def _stream_error(self, exc: anthropic.APIStatusError) -> Exception:
        """An ``event: error`` inside a 200 stream: overloads pass, bad requests do not."""
        etype, message = error_parts(exc.body)
        text = self._redact(message or exc.message)
        summary = f"error event in the stream: {etype or 'error'}: {text}"
        if etype in PERMANENT_STREAM_ERRORS:
            return ProviderError(f"the Anthropic API refused the request ({summary}).")
        return TransientFailure(summary)

    def _exhausted(self, failure: TransientFailure, attempts: int) -> ProviderError:
        if failure.dropped:
            return dropped_stream(failure, f"the Anthropic API at {self.base_url}", attempts)
        if failure.unreachable:
            return ProviderUnreachable(
                f"could not reach the Anthropic API at {self.base_url} after {attempts} "
                f"attempts (last: {failure.summary}). Check the network connection and any "
                "proxy, that `[anthropic] base_url` or ANTHROPIC_BASE_URL points at the API, "
                "and raise `[anthropic] timeout_s` if replies take longer than "
                f"{self.config.timeout_s:g} s."
            )
        return ProviderError(
            f"the Anthropic API at {self.base_url} failed {attempts} attempts in a row "
            f"(last: {failure.summary}). Try again later, or raise `[anthropic] max_retries`."
        )

    def _describe_cause(self, exc: BaseException) -> str:
        return self._redact(describe_cause(exc))

    def _redact(self, text: str) -> str:
        return redact(text, [self._credential[1]] if self._credential else [])


_logged: set[str] = set()


def _log_once(messages: list[str]) -> None:
    for message in messages:
        if message not in _logged:
            _logged.add(message)
            log.warning("%s", message)


def _credential(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(variable name, value) of the first credential set, API key before auth token."""
    for name in CREDENTIAL_VARS:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def build_params(request: Request, sent: Mapping[str, Any], *, caching: bool) -> dict[str, Any]:
    """The Messages API body for *request*, with only the settings in *sent*."""
    marks = _breakpoints(request.system, request.messages) if caching else set()
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": [_message(m, ("message", i) in marks) for i, m in enumerate(request.messages)],
    }
    if request.system:
        params["system"] = [
            _text_block(b.text, ("system", i) in marks) for i, b in enumerate(request.system)
        ]
    if "effort" in sent:
        params["output_config"] = {"effort": sent["effort"]}
    if "thinking" in sent:
        params["thinking"] = _thinking(sent["thinking"])
    sampling = {knob: sent[knob] for knob in SAMPLING_KNOBS if knob in sent}
    if sampling:
        # SDK 2.x has no sampling parameters; models that still honour them take them here.
        params["extra_body"] = sampling
    return params


def _breakpoints(system: list[SystemBlock], messages: list[Message]) -> set[tuple[str, int]]:
    """Where cache_control goes: every block marked cache=True, at most four.

    Past four, the earliest message breakpoints go first: the system prefix (rules, spec)
    is shared across conversations, and a later message breakpoint covers the earlier ones.
    """
    sys_marks = [("system", i) for i, b in enumerate(system) if b.cache]
    msg_marks = [("message", i) for i, m in enumerate(messages) if m.cache]
    room = max(MAX_CACHE_BREAKPOINTS - len(sys_marks), 0)
    kept = sys_marks[-MAX_CACHE_BREAKPOINTS:] + (msg_marks[-room:] if room else [])
    return set(kept)


def _text_block(text: str, cache: bool) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": text}
    if cache:
        block["cache_control"] = {"type": "ephemeral"}
    return block


def _message(message: Message, cache: bool) -> dict[str, Any]:
    if not cache and not message.tail:
        return {"role": message.role, "content": message.content}
    blocks = [_text_block(message.content, cache)]
    if message.tail:
        blocks.append(_text_block(message.tail, False))
    return {"role": message.role, "content": blocks}


def _thinking(value: Any) -> dict[str, Any]:
    if value == "adaptive":
        return {"type": "adaptive"}
    return {"type": "enabled", "budget_tokens": int(value)}


class _StreamCollector:
    """Folds the SSE events of one attempt into text, usage and stop reason."""

    def __init__(self, model: str, on_text: TextCallback | None) -> None:
        self.model = model
        self.on_text = on_text
        self.parts: list[str] = []
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.stopped = False

    def feed(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "message_start":
            self.model = getattr(event.message, "model", None) or self.model
            self._take_usage(event.message.usage)
        elif kind == "content_block_delta":
            delta = event.delta
            if getattr(delta, "type", None) == "text_delta" and delta.text:
                self.parts.append(delta.text)
                if self.on_text is not None:
                    self.on_text(delta.text)
        elif kind == "message_delta":
            self.stop_reason = getattr(event.delta, "stop_reason", None) or self.stop_reason
            if getattr(event, "usage", None) is not None:
                self._take_usage(event.usage)
        elif kind == "message_stop":
            self.stopped = True

    def _take_usage(self, usage: Any) -> None:
        """message_start carries the input side; message_delta the final output count."""
        for ours, theirs in (
            ("input_tokens", "input_tokens"),
            ("output_tokens", "output_tokens"),
            ("cache_read_tokens", "cache_read_input_tokens"),
            ("cache_write_tokens", "cache_creation_input_tokens"),
        ):
            value = getattr(usage, theirs, None)
            if isinstance(value, int):
                setattr(self.usage, ours, value)

    def reply(self, request_id: str | None) -> Reply:
        if not self.stopped:
            # A clean end of the body without message_stop: the stream was cut short.
            raise TransientFailure("the stream ended before message_stop", unreachable=True)
        return Reply(
            text="".join(self.parts),
            stop_reason=self.stop_reason,
            usage=self.usage,
            model=self.model,
            request_id=request_id,
        )
