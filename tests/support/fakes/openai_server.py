"""A loopback server speaking the OpenAI chat-completions API, as Ollama, llama.cpp server,
vLLM and LM Studio serve it.

POST /v1/chat/completions: a ``chat.completion`` JSON body, or with ``stream`` an SSE stream of
``chat.completion.chunk`` events (data lines only, no ``event:`` lines), a final chunk with
``usage`` when ``stream_options.include_usage`` is set, and ``data: [DONE]``. An error inside
a stream is a data line holding ``{"error": {...}}``. Usage estimates tokens as characters / 4.
"""

from __future__ import annotations

import time
from typing import Any

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
    401: "invalid_request_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "server_error",
}


class OpenAIServer(LoopbackServer):
    """Scripted OpenAI-compatible server on 127.0.0.1; ``base_url`` ends in /v1."""

    api_name = "openai-loopback"
    path_prefix = "/v1"
    closing_events = 3  # the finish chunk, the usage chunk, [DONE]

    def closing_count(self, request: RecordedRequest) -> int:
        options = request.body.get("stream_options") if isinstance(request.body, dict) else None
        with_usage = isinstance(options, dict) and options.get("include_usage")
        return self.closing_events if with_usage else self.closing_events - 1

    def __init__(
        self,
        default: str | ReplyItem | Responder | None = None,
        *,
        require_key: str | None = None,
    ) -> None:
        super().__init__(default)
        self.require_key = require_key  # None: any key or none, as local servers do

    def refuse(self, request: RecordedRequest) -> ReplyItem | None:
        if request.method != "POST" or request.path.split("?")[0] != "/v1/chat/completions":
            return HTTPError(404, message=f"Not found: {request.method} {request.path}")
        if self.require_key is not None:
            if request.headers.get("authorization") != f"Bearer {self.require_key}":
                return HTTPError(401, message="Incorrect API key provided")
        body = request.body
        if not isinstance(body, dict) or "model" not in body or "messages" not in body:
            return HTTPError(400, message="model and messages are required")
        return None

    def response_headers(self) -> dict[str, str]:
        return {"x-request-id": f"req-loopback-{self.next_id():06d}"}

    def error_body(self, status: int, message: str) -> Any:
        etype = ERROR_TYPES.get(status, "server_error")
        return {"error": {"message": message or etype, "type": etype, "param": None, "code": None}}

    def malformed_stream(self) -> bytes:
        return b"data: {this is not json\n\n"

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
        completion = {
            **self._head(request, "chat.completion"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": item.text},
                    "finish_reason": item.stop_reason or "stop",
                }
            ],
            "usage": self.usage_for(request, item),
        }
        handler.send_json(200, completion, {**self.response_headers(), **item.headers})

    def text_events(self, request: RecordedRequest, item: Text) -> list[bytes]:
        head = self._head(request, "chat.completion.chunk")
        events = [self._chunk(head, {"role": "assistant", "content": ""}, None)]
        events += [self._chunk(head, {"content": piece}, None) for piece in item.pieces()]
        events.append(self._chunk(head, {}, item.stop_reason or "stop"))
        options = request.body.get("stream_options") if isinstance(request.body, dict) else None
        if isinstance(options, dict) and options.get("include_usage"):
            events.append(
                sse(None, {**head, "choices": [], "usage": self.usage_for(request, item)})
            )
        events.append(sse(None, "[DONE]"))
        return events

    def send_stream_error(
        self, handler: _Handler, request: RecordedRequest, item: StreamError
    ) -> None:
        head = self._head(request, "chat.completion.chunk")
        events = [self._chunk(head, {"role": "assistant", "content": ""}, None)]
        pieces = Text(item.text).pieces()
        events += [self._chunk(head, {"content": piece}, None) for piece in pieces]
        error = {"error": {"message": item.message, "type": item.error_type, "code": None}}
        handler.start_stream(self.response_headers())
        for event in [*events, sse(None, error)]:
            handler.send_chunk(event)
        handler.end_stream()

    def _head(self, request: RecordedRequest, kind: str) -> dict[str, Any]:
        model = request.body.get("model", "") if isinstance(request.body, dict) else ""
        return {
            "id": f"chatcmpl-loopback-{self.next_id():06d}",
            "object": kind,
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_loopback",
        }

    @staticmethod
    def _chunk(head: dict[str, Any], delta: dict[str, Any], finish: str | None) -> bytes:
        return sse(
            None,
            {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]},
        )

    def usage_for(self, request: RecordedRequest, item: Text) -> dict[str, Any]:
        body = request.body if isinstance(request.body, dict) else {}
        prompt = "".join(
            m.get("content", "") if isinstance(m.get("content"), str) else ""
            for m in body.get("messages") or []
            if isinstance(m, dict)
        )
        usage: dict[str, Any] = {
            "prompt_tokens": estimate_tokens(prompt),
            "completion_tokens": max(1, estimate_tokens(item.text)),
        }
        if item.usage:
            usage.update(item.usage)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return usage

    # -- ready-made errors ----------------------------------------------------------------

    @staticmethod
    def rate_limited(retry_after: float | str | None = None) -> HTTPError:
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        return HTTPError(429, headers=headers, message="Rate limit reached")

    @staticmethod
    def server_error() -> HTTPError:
        return HTTPError(500, message="The server had an error while processing your request")

    @staticmethod
    def unauthorized() -> HTTPError:
        return HTTPError(401, message="Incorrect API key provided")

    @staticmethod
    def bad_request(message: str) -> HTTPError:
        return HTTPError(400, message=message)

    @staticmethod
    def not_found(message: str) -> HTTPError:
        return HTTPError(404, message=message)
