"""The seam between stages and models: Request in, Reply out, text streamed as it arrives.

Nothing here imports a model SDK; each provider module imports its own, lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Role = Literal["user", "assistant"]
TextCallback = Callable[[str], None]


@dataclass(frozen=True)
class SystemBlock:
    """A piece of the system prompt. ``cache=True`` puts a cache breakpoint after it."""

    text: str
    cache: bool = False
    label: str = ""  # "rules", "spec", "instructions": for the handoff file and transcript


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    cache: bool = False  # a cache breakpoint after `content` (stable conversation prefix)
    # Text sent after `content`, outside the cached part: a reminder for this turn only, so
    # the next request, which carries the turn without it, still matches the cached prefix.
    tail: str = ""

    @property
    def full_text(self) -> str:
        return f"{self.content.rstrip()}\n\n{self.tail}" if self.tail else self.content


@dataclass(frozen=True)
class Decoding:
    """A stage's decoding profile as configured; the capability table decides what is sent."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    effort: str | None = None
    thinking: str | int = "off"

    def configured(self) -> dict[str, Any]:
        """The knobs the user set, by name (thinking "off" counts as not set)."""
        values: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "effort": self.effort,
            "thinking": None if self.thinking == "off" else self.thinking,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Request:
    stage: str
    model: str
    system: list[SystemBlock]
    messages: list[Message]
    max_tokens: int
    decoding: Decoding = field(default_factory=Decoding)
    # The folder the handoff provider writes its prompt into: the store's handoff folder of
    # the stage (Workspace.handoff_dir), chosen by the stage, never joined by the provider.
    task_dir: Path | None = None


@dataclass
class Usage:
    input_tokens: int = 0  # uncached input
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def context_tokens(self) -> int:
        """Everything the model read: uncached input + cache reads + cache writes."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def billed_input(self) -> float:
        """Input tokens weighted the way they are billed (writes 1.25x, reads 0.1x)."""
        return self.input_tokens + 1.25 * self.cache_write_tokens + 0.1 * self.cache_read_tokens


@dataclass
class Reply:
    text: str
    stop_reason: str | None
    usage: Usage
    model: str
    request_id: str | None = None
    latency_s: float = 0.0
    retries: int = 0  # transport-level retries the provider made
    sent: dict[str, Any] = field(default_factory=dict)  # decoding settings actually sent
    withheld: dict[str, str] = field(default_factory=dict)  # knob -> why it was not sent


class Provider(Protocol):
    """A model endpoint. ``complete`` streams text to *on_text* and returns the whole reply.

    Raises ProviderError (or ProviderUnreachable) from specflow.errors on failure, and
    HandoffWritten when the prompt was handed to the user instead of a model.
    """

    name: str

    def complete(self, request: Request, on_text: TextCallback | None = None) -> Reply: ...


class HandoffWritten(Exception):  # noqa: N818 - a signal, not an error
    """The handoff provider wrote the prompt to *path*; the user continues with --reply."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path
