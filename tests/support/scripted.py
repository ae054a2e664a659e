"""An in-process provider that answers from a script: llm's MockModel idea.

It implements specflow's Provider protocol without a socket or an SDK, so engine, stage,
re-ask and anchoring tests run fast and see exactly what the stage sent. Enqueue replies
(text, or a ScriptedReply for a stop reason or exact usage); every Request is recorded.
The loopback servers in fakes/ remain the way to test the providers themselves.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from specflow.providers.base import Reply, Request, TextCallback, Usage
from specflow.stages.anchoring import estimate_tokens


@dataclass(frozen=True)
class ScriptedReply:
    text: str
    stop_reason: str = "end_turn"
    usage: Usage | None = None  # None: estimated from the request and the text


class ScriptExhausted(AssertionError):
    """The stage asked for more replies than the test enqueued."""


@dataclass
class ScriptedProvider:
    name: str = "scripted"
    script: deque[ScriptedReply] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)

    def enqueue(self, *replies: str | ScriptedReply) -> ScriptedProvider:
        for reply in replies:
            self.script.append(reply if isinstance(reply, ScriptedReply) else ScriptedReply(reply))
        return self

    def complete(self, request: Request, on_text: TextCallback | None = None) -> Reply:
        self.requests.append(request)
        if not self.script:
            raise ScriptExhausted(
                f"request {len(self.requests)} ({request.stage}) found no scripted reply; "
                "enqueue one more"
            )
        scripted = self.script.popleft()
        if on_text is not None and scripted.text:
            on_text(scripted.text)
        usage = scripted.usage or Usage(
            input_tokens=context_tokens(request), output_tokens=estimate_tokens(scripted.text)
        )
        return Reply(scripted.text, scripted.stop_reason, usage, request.model)

    @property
    def last(self) -> Request:
        assert self.requests, "no request was sent"
        return self.requests[-1]


def context_tokens(request: Request) -> int:
    """The estimated size of everything *request* sends: system blocks and messages."""
    sent = [b.text for b in request.system] + [m.full_text for m in request.messages]
    return sum(estimate_tokens(text) for text in sent)


def request_text(request: Request) -> str:
    """The whole request as one string, to assert on what reached the model."""
    parts = [b.text for b in request.system] + [m.full_text for m in request.messages]
    return "\n".join(parts)
