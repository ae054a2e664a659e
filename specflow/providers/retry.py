"""Retries shared by the network providers, done by specflow rather than the SDKs.

The SDKs retry HTTP errors but not a stream that breaks half-way or an error event inside a
stream, and they sleep on their own clock. specflow builds its SDK clients with
``max_retries=0`` and retries every transient failure here, the same way: from the start of
the request, after an exponential backoff with jitter (or the server's ``retry-after``, up to
a cap), with an injectable sleep so tests run instantly.

Restart signal: when an attempt fails and will be retried, the text it streamed is thrown
away. If the ``on_text`` callback has a ``restart(reason: str)`` method (the terminal printer
does), it is called before every retry, so the consumer can clear partial output and say why.
Only the text of the attempt that succeeds is returned in the Reply.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from specflow.config import CapabilityEntry
from specflow.errors import ProviderError, ProviderUnreachable
from specflow.providers.base import Reply, Request, TextCallback
from specflow.providers.capabilities import lookup, plan_decoding

T = TypeVar("T")

# Error types an Anthropic-style stream reports that will not pass on a retry.
PERMANENT_STREAM_ERRORS = frozenset(
    {"invalid_request_error", "authentication_error", "permission_error", "not_found_error"}
)

# Parameters an API error may name, and the stage setting behind each.
_PARAMETER_KEYS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "effort": "effort",
    "thinking": "thinking",
    "budget_tokens": "thinking",
    "max_tokens": "max_tokens",
}
_PARAMETER = re.compile(r"\b(" + "|".join(_PARAMETER_KEYS) + r")\b")
_MODEL = re.compile(r"\bmodel\b\s*[:\"'`]|[\"'`]model[\"'`]")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait: ``max_retries`` retries after the first attempt."""

    max_retries: int
    retry_after_cap_s: float
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay(self, retry: int, retry_after: float | None, jitter: float) -> float:
        """Seconds before retry number *retry* (0-based); *jitter* is uniform in [0, 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap_s)
        backoff = min(self.base_delay_s * (2.0**retry), self.max_delay_s)
        # Up to a quarter off, so that clients that failed together do not retry together.
        return backoff * (1.0 - 0.25 * jitter)


class TransientFailure(Exception):  # noqa: N818 - a signal inside the retry loop
    """One attempt failed in a way that may pass; the request is retried from the start.

    *unreachable* marks connection errors, timeouts and dropped streams: when retries run
    out they become ProviderUnreachable (the review gate may fail open on those).
    """

    def __init__(
        self,
        summary: str,
        *,
        unreachable: bool = False,
        retry_after: float | None = None,
        dropped: bool = False,
    ) -> None:
        super().__init__(summary)
        self.summary = summary
        self.unreachable = unreachable or dropped
        self.retry_after = retry_after
        # The server was reached and began a reply, then the stream broke: not "unreachable"
        # in what the user is told, though the gate treats both alike.
        self.dropped = dropped


def dropped_stream(failure: TransientFailure, where: str, attempts: int) -> ProviderUnreachable:
    """The error for retries that ran out on a stream broken mid-reply."""
    return ProviderUnreachable(
        f"{where} dropped the reply stream mid-way on the last of {attempts} attempts "
        f"({failure.summary}). The server was reached; a proxy or load balancer that cuts long "
        "responses, or an unstable connection, is the usual cause. Try again."
    )


def with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    on_text: object,
    exhausted: Callable[[TransientFailure, int], ProviderError],
    jitter: Callable[[], float] = random.random,
) -> tuple[T, int]:
    """Run *attempt* until it returns; returns (its result, the number of retries made).

    A TransientFailure is retried up to ``policy.max_retries`` times; after that,
    ``exhausted(last failure, attempts made)`` is raised. Any other exception propagates.
    """
    retries = 0
    while True:
        try:
            return attempt(), retries
        except TransientFailure as failure:
            if retries >= policy.max_retries:
                raise exhausted(failure, retries + 1) from None
            wait = policy.delay(retries, failure.retry_after, jitter())
            retries += 1
            notify_restart(
                on_text,
                f"{failure.summary}; retrying in {wait:.1f} s "
                f"(retry {retries} of {policy.max_retries})",
            )
            sleep(wait)


def notify_restart(on_text: object, reason: str) -> None:
    """Tell a consumer with a ``restart(reason)`` method that streamed text is discarded."""
    restart = getattr(on_text, "restart", None)
    if callable(restart):
        restart(reason)


def parse_retry_after(
    headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, then ``retry-after``)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now(), 0.0)


def redact(text: str, secrets: Iterable[str]) -> str:
    """*text* with every secret replaced, for any message that may quote a server or SDK.

    Strings shorter than 8 characters are left alone: no real key is that short, and replacing
    them would mangle ordinary words (a test key "k" inside "chunked").
    """
    for secret in secrets:
        if len(secret) >= 8:
            text = text.replace(secret, "[redacted]")
    return text


def describe_cause(exc: BaseException) -> str:
    """The low-level reason behind an SDK's generic "Connection error." (refused, reset...)."""
    cause = exc.__cause__ or exc.__context__
    text = str(cause) if cause is not None and str(cause) else str(exc)
    return text.rstrip(".")


def error_parts(body: object) -> tuple[str | None, str | None]:
    """(error type, message) from an error body in the Anthropic or OpenAI shape."""
    if isinstance(body, Mapping):
        inner: Any = body.get("error", body)
        if isinstance(inner, Mapping):
            etype, message = inner.get("type"), inner.get("message")
            return (
                etype if isinstance(etype, str) else None,
                message if isinstance(message, str) else None,
            )
        if isinstance(inner, str):
            return None, inner
    if isinstance(body, str) and body.strip():
        return None, body.strip()
    return None, None


def setting_hint(
    message: str, stage: str, *, status: int = 400, sent: Collection[str] | None = None
) -> str:
    """Which setting of specflow's config set the parameter an API error names, if any.

    With *sent* (the decoding settings the request carried), a parameter the message names
    but the request did not carry ("temperature and top_p cannot both be set", when only
    temperature was sent) is not blamed.
    """
    named: list[str] = []
    for match in _PARAMETER.finditer(message):
        if match.group(1) not in named:
            named.append(match.group(1))
    if sent is not None:
        carried = [n for n in named if _PARAMETER_KEYS[n] in sent or n == "max_tokens"]
        named = carried or named
    if named:
        sources = "; ".join(
            f"`{name}` comes from `[stages.{stage}] {_PARAMETER_KEYS[name]}`" for name in named
        )
        fix = "change or remove it there"
        if any(_PARAMETER_KEYS[name] != "max_tokens" for name in named):
            fix += ", or add a [[capabilities]] row for this model that leaves it out of `honours`"
        return f" {sources} in .specflow/config.toml: {fix}."
    if status == 404 or _MODEL.search(message):
        return (
            " The model comes from `model` (.specflow/config.toml, SPECFLOW_MODEL or --model): "
            "check the model id."
        )
    return ""


class RetryingProvider:
    """What the network providers share: plan the decoding, then retry a streamed request.

    A subclass says how to build the request body (`_params`), open a client (`_connect`), make
    one attempt (`_attempt`) and word a failure once retries run out (`_exhausted`).
    """

    name: str
    table: list[CapabilityEntry]
    # The row the run resolved once (providers/capabilities.resolve_model); a provider built
    # without one (a test's, a library user's) looks the request's model up in its table.
    capability: CapabilityEntry | None = None
    _policy: RetryPolicy
    _sleep: Callable[[float], None]

    def complete(self, request: Request, on_text: TextCallback | None = None) -> Reply:
        """Send *request*, stream its text to *on_text*, and return the whole reply."""
        sent, withheld = plan_decoding(
            request.decoding, self._capability(request), request.stage, model=request.model
        )
        params = self._params(request, sent)
        started = time.monotonic()
        with self._connect() as client:
            reply, retries = with_retries(
                lambda: self._attempt(client, params, request, on_text),
                self._policy,
                sleep=self._sleep,
                on_text=on_text,
                exhausted=self._exhausted,
            )
        reply.latency_s = time.monotonic() - started
        reply.retries = retries
        reply.sent = sent
        reply.withheld = withheld
        return reply

    def _sent(self, request: Request) -> set[str]:
        """The decoding settings *request* carried, for naming what an error blames."""
        return set(plan_decoding(request.decoding, self._capability(request), request.stage)[0])

    def _capability(self, request: Request) -> CapabilityEntry:
        if self.capability is not None:
            return self.capability
        return lookup(self.name, request.model, self.table)

    def _params(self, request: Request, sent: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _connect(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _attempt(
        self, client: Any, params: dict[str, Any], request: Request, on_text: TextCallback | None
    ) -> Reply:
        raise NotImplementedError

    def _exhausted(self, failure: TransientFailure, attempts: int) -> ProviderError:
        raise NotImplementedError
