"""The implement conversation of a task: the turns as sent and the token ledger, on disk.

It spans the task's files, so it is where the context grows; the anchoring policy reads its
ledger to decide when to remind or reset.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from specflow.errors import StateError
from specflow.providers.base import Message
from specflow.stages.anchoring import TokenLedger, estimate_tokens
from specflow.store.clock import now
from specflow.store.fsutil import atomic_write_text
from specflow.store.task import Task
from specflow.store.workspace import Workspace


class StoredMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    content: str


class Conversation(BaseModel):
    """The implement conversation of a task, as sent, plus its token ledger."""

    model_config = ConfigDict(extra="forbid")
    messages: list[StoredMessage] = Field(default_factory=list)
    ledger: TokenLedger = Field(default_factory=TokenLedger)
    started: str = Field(default_factory=now)

    def history(self) -> list[Message]:
        """The stored turns, with a cache breakpoint where the previous request had its last
        one (its newest user turn): that prefix was cached then and is read back now."""
        messages = [
            Message("user" if m.role == "user" else "assistant", m.content) for m in self.messages
        ]
        users = [i for i, m in enumerate(messages) if m.role == "user"]
        if users:
            last = messages[users[-1]]
            messages[users[-1]] = Message(last.role, last.content, cache=True)
        return messages

    def keep_exchange(
        self,
        sent: list[Message],
        reply_text: str,
        usage: tuple[int, int] | None,
        kept: str | None = None,
    ) -> None:
        """Keep the valid exchange only (failed attempts and the reminder are not carried
        on), the reply as *kept* (its file's outline) when given, and record its size: *usage*
        is (context, output) tokens from the provider, or None (a --reply file) to estimate
        them."""
        self.messages = [StoredMessage(role=m.role, content=m.content) for m in sent]
        self.messages.append(StoredMessage(role="assistant", content=kept or reply_text))
        if usage is None:
            context = sum(estimate_tokens(m.content) for m in self.messages[:-1])
            usage = (context + self.ledger.system_tokens, estimate_tokens(reply_text))
        context_tokens, output_tokens = usage
        if kept:
            # What joins the next request's context is the outline, not the reply.
            output_tokens = estimate_tokens(kept)
        self.ledger.record_reply(context_tokens, output_tokens)


def load_conversation(ws: Workspace, task: Task) -> Conversation:
    path = ws.conversation_path(task)
    if not path.is_file():
        return Conversation()
    try:
        return Conversation.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        raise StateError(
            f"{ws.rel(path)} is corrupt; delete it or run with --fresh to start a new "
            "implement conversation"
        ) from None


def save_conversation(ws: Workspace, task: Task, conversation: Conversation) -> None:
    atomic_write_text(ws.conversation_path(task), conversation.model_dump_json(indent=1) + "\n")
