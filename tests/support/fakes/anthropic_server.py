"""A loopback server speaking the Anthropic Messages API: JSON and SSE, as SDK 2.x expects.

Wire format as the real API: POST /v1/messages; SSE events message_start, content_block_start,
ping, content_block_delta (text_delta), content_block_stop, message_delta (stop_reason, usage),
message_stop, each with an ``event:`` line; ``event: error`` for an error inside a stream;
a ``request-id`` header on every response; error bodies ``{"type": "error", "error": {...}}``.

Usage, in ``usage_mode = "auto"`` (the default), is computed the way the API does for prompt
caching: tokens are estimated as characters / 4; of the prefix up to each cache_control
breakpoint (system blocks, then messages, in order), the longest one this server has seen
before is reported as cache_read_input_tokens, the rest up to the last breakpoint as
cache_creation_input_tokens, and what follows as input_tokens. ``"plain"`` reports all input
as input_tokens.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from tests.support.fakes import (
    HTTPError,
    LoopbackServer,
    RecordedRequest,
    ReplyItem,
    Responder,
    StreamError,
    Text,
    _Handler,
    estimate_tokens,
    sse,
)

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
MAX_BREAKPOINTS = 4


class AnthropicServer(LoopbackServer):
    """Scripted Anthropic Messages API on 127.0.0.1. ``base_url`` goes to the SDK as is."""

    api_name = "anthropic-loopback"
    closing_events = 3  # content_block_stop, message_delta, message_stop

    def __init__(
        self,
        default: str | ReplyItem | Responder | None = None,
        *,
        usage_mode: Literal["auto", "plain"] = "auto",
        require_auth: bool = True,
    ) -> None:
        super().__init__(default)
        self.usage_mode = usage_mode
        self.require_auth = require_auth
        self._seen_prefixes: set[str] = set()

    # -- errors the real API sends whatever the script says -------------------------------

    def refuse(self, request: RecordedRequest) -> ReplyItem | None:
        if request.method != "POST" or request.path.split("?")[0] != "/v1/messages":
            return HTTPError(404, message=f"Not found: {request.method} {request.path}")
        if self.require_auth and not (
            request.headers.get("authorization") or request.headers.get("x-api-key")
        ):
            return HTTPError(401, message="x-api-key header is required")
        body = request.body
        if not isinstance(body, dict):
            return HTTPError(400, message="The request body is not valid JSON.")
        for key in ("model", "max_tokens", "messages"):
            if key not in body:
                return HTTPError(400, message=f"{key}: Field required")
        marks = sum(1 for block in _blocks(body) if "cache_control" in block)
        if marks > MAX_BREAKPOINTS:
            return HTTPError(
                400,
                message=f"A maximum of 4 blocks with cache_control may be provided. Found {marks}.",
            )
        return None

    def response_headers(self) -> dict[str, str]:
        return {"request-id": f"req_loopback_{self.next_id():06d}"}

    def error_body(self, status: int, message: str) -> Any:
        etype = ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": etype, "message": message or etype}}

    def malformed_stream(self) -> bytes:
        return b"event: message_start\ndata: {this is not json\n\n"

    # -- replies --------------------------------------------------------------------------

    def send_text(
        self, handler: _Handler, request: RecordedRequest, item: Text, stream: bool
    ) -> None:
        if stream:
            handler.start_stream({**self.response_headers(), **item.headers})
            for event in self.text_events(request, item):
                handler.send_chunk(event)
            handler.end_stream()
            return
        usage = self.usage_for(request, item)
        content: list[dict[str, Any]] = []
        if item.thinking:
            content.append({"type": "thinking", "thinking": item.thinking, "signature": "sig"})
        content.append({"type": "text", "text": item.text})
        message = {
            **self._message_head(request),
            "content": content,
            "stop_reason": item.stop_reason or "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
        handler.send_json(200, message, {**self.response_headers(), **item.headers})

    def text_events(self, request: RecordedRequest, item: Text) -> list[bytes]:
        """The whole SSE sequence of a reply, in the order the API sends it."""
        usage = self.usage_for(request, item)
        start_usage = {**usage, "output_tokens": 1}
        events = [
            sse(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        **self._message_head(request),
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": start_usage,
                    },
                },
            )
        ]
        index = 0
        if item.thinking:
            events += _thinking_block(index, item.thinking)
            index += 1
        events.append(
            sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        events.append(sse("ping", {"type": "ping"}))
        for piece in item.pieces():
            events.append(
                sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
            )
        events.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        events.append(
            sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": item.stop_reason or "end_turn", "stop_sequence": None},
                    "usage": usage,
                },
            )
        )
        events.append(sse("message_stop", {"type": "message_stop"}))
        return events

    def send_stream_error(
        self, handler: _Handler, request: RecordedRequest, item: StreamError
    ) -> None:
        # message_start, content_block_start, ping and the text deltas; then the error.
        events = self.text_events(request, Text(item.text))[: -self.closing_events]
        error = {"type": "error", "error": {"type": item.error_type, "message": item.message}}
        handler.start_stream(self.response_headers())
        for event in [*events, sse("error", error)]:
            handler.send_chunk(event)
        handler.end_stream()

    def _message_head(self, request: RecordedRequest) -> dict[str, Any]:
        return {
            "id": f"msg_loopback_{self.next_id():06d}",
            "type": "message",
            "role": "assistant",
            "model": request.body.get("model", "") if isinstance(request.body, dict) else "",
        }

    # -- usage ----------------------------------------------------------------------------

    def usage_for(self, request: RecordedRequest, item: Text) -> dict[str, int]:
        usage = {"output_tokens": max(1, estimate_tokens(item.text))}
        usage.update(self.input_usage(request))
        if item.usage:
            usage.update(item.usage)
        return usage

    def input_usage(self, request: RecordedRequest) -> dict[str, int]:
        """input / cache-read / cache-write tokens, as the API reports prompt caching."""
        body = request.body if isinstance(request.body, dict) else {}
        text = ""
        prefixes: list[str] = []
        for block in _blocks(body):
            text += block.get("text", "") if isinstance(block.get("text"), str) else ""
            if "cache_control" in block:
                prefixes.append(text)
        total = estimate_tokens(text)
        if self.usage_mode == "plain" or not prefixes:
            return {
                "input_tokens": total,
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0,
            }
        model = str(body.get("model", ""))
        keys = [hashlib.sha256(f"{model}\0{p}".encode()).hexdigest() for p in prefixes]
        read = 0
        with self._lock:
            for prefix, key in zip(prefixes, keys, strict=True):
                if key in self._seen_prefixes:
                    read = estimate_tokens(prefix)
            self._seen_prefixes.update(keys)
        cached = estimate_tokens(prefixes[-1])
        return {
            "input_tokens": total - cached,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": cached - read,
        }

    # -- ready-made errors ----------------------------------------------------------------

    @staticmethod
    def rate_limited(retry_after: float | str | None = None) -> HTTPError:
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        message = "Number of requests has exceeded your rate limit"
        return HTTPError(429, headers=headers, message=message)

    @staticmethod
    def overloaded() -> HTTPError:
        return HTTPError(529, message="Overloaded")

    @staticmethod
    def server_error() -> HTTPError:
        return HTTPError(500, message="Internal server error")

    @staticmethod
    def unauthorized() -> HTTPError:
        return HTTPError(401, message="invalid x-api-key")

    @staticmethod
    def forbidden() -> HTTPError:
        return HTTPError(403, message="Your API key does not have permission to use this resource")

    @staticmethod
    def bad_request(message: str) -> HTTPError:
        return HTTPError(400, message=message)

    @staticmethod
    def not_found(message: str) -> HTTPError:
        return HTTPError(404, message=message)


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The prompt's text blocks in order: system, then each message's content."""
    blocks: list[dict[str, Any]] = []
    system = body.get("system")
    if isinstance(system, str):
        blocks.append({"text": system})
    elif isinstance(system, list):
        blocks += [b for b in system if isinstance(b, dict)]
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        blocks.append({"text": f"\n\n{message.get('role', '')}: "})
        content = message.get("content")
        if isinstance(content, str):
            blocks.append({"text": content})
        elif isinstance(content, list):
            blocks += [b for b in content if isinstance(b, dict)]
    return blocks


def _thinking_block(index: int, thinking: str) -> list[bytes]:
    return [
        sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""},
            },
        ),
        sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "thinking_delta", "thinking": thinking},
            },
        ),
        sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "signature_delta", "signature": "sig"},
            },
        ),
        sse("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]
