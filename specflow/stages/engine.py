"""run_stage: call the provider, check the contract, re-ask with the exact violations.

A failed attempt is replaced in the conversation rather than stacked, so retry k costs
about the first request plus one failed reply and its violations. Every failed reply is
kept under attempts/; nothing is written as an artifact until a reply holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.contracts.base import ContractResult
from specflow.errors import CheckFailed, ProviderError
from specflow.gitx.secrets import redact_text
from specflow.providers.base import (
    Decoding,
    Message,
    Provider,
    Reply,
    Request,
    SystemBlock,
    TextCallback,
)
from specflow.stages.anchoring import estimate_tokens
from specflow.store.fsutil import atomic_write_text, ensure_git_ignored
from specflow.store.transcript import Exchange, append
from specflow.store.workspace import HANDOFF_IGNORE_WHY

Contract = Callable[[str], ContractResult[Any]]


@dataclass
class Prepared:
    """Everything a stage sends: system blocks, the earlier turns, and the new user turn."""

    stage: str
    system: list[SystemBlock]
    user_turn: str
    history: list[Message] = field(default_factory=list)
    reminder: str = ""  # appended to the newest user turn (re-anchoring)
    cache_turn: bool = False  # a cache breakpoint after the new turn (growing conversations)
    reanchor: str = "none"
    reanchor_reason: str = ""

    def messages(self) -> list[Message]:
        return [*self.history, Message("user", self.user_turn, self.cache_turn, self.reminder)]


@dataclass
class StageIO:
    """Where a run leaves its traces, and how it talks to the terminal."""

    transcript: Path
    keep_attempt: Callable[[str], Path]
    render_reask: Callable[[list[str], int, int], str]
    cost: Callable[[Reply], float] = lambda _reply: 0.0
    on_text: TextCallback | None = None
    on_attempt: Callable[[int, list[str]], None] | None = None
    task_dir: Path | None = None
    command: str = ""  # the command that re-runs the stage, for messages
    show_path: Callable[[Path], str] = str  # how paths appear in messages


@dataclass
class Outcome:
    text: str
    value: Any
    reply: Reply | None
    attempts: list[Path]
    messages: list[Message]  # the conversation as sent, ending with the valid reply


def run_stage(
    prepared: Prepared,
    provider: Provider,
    contract: Contract,
    *,
    model: str,
    decoding: Decoding,
    max_tokens: int,
    max_retries: int,
    io: StageIO,
) -> Outcome:
    """Ask until the reply meets *contract* or *max_retries* re-asks are spent."""
    base = prepared.messages()
    messages = base
    kept: list[Path] = []
    for attempt in range(1, max_retries + 2):
        request = Request(
            stage=prepared.stage,
            model=model,
            system=prepared.system,
            messages=messages,
            max_tokens=max_tokens,
            decoding=decoding,
            task_dir=io.task_dir,
        )
        reply = provider.complete(request, io.on_text)
        result = contract(reply.text)
        _record(io, prepared, provider, reply, attempt, result)
        _refuse_unusable(reply, io, kept, max_tokens)
        if result.ok:
            done = [*messages, Message("assistant", reply.text)]
            return Outcome(reply.text, result.value, reply, kept, done)
        kept.append(io.keep_attempt(reply.text))
        violations = [str(v) for v in result.violations]
        if attempt > max_retries:
            raise _exhausted(
                io.command or f"specflow {prepared.stage}",
                violations,
                io.show_path(kept[-1]),
                attempt,
            )
        if io.on_attempt is not None:
            io.on_attempt(attempt, violations)
        reask = io.render_reask(violations, attempt + 1, max_retries + 1)
        # Replace, not stack: only the latest failed reply and its violations go back.
        # The failed reply goes back as the model wrote it, but through the one redaction
        # path: a model can echo a value it was never shown (from its training data).
        failed = Message("assistant", redact_text(reply.text))
        messages = [*base, failed, Message("user", redact_text(reask))]
    raise AssertionError("unreachable")  # pragma: no cover


def check_reply_file(
    stage: str, text: str, contract: Contract, io: StageIO, source: str
) -> ContractResult[Any]:
    """Check a reply the user brought (--reply); a failing one is kept and reported."""
    result = contract(text)
    # No provider counted the tokens: estimate them from the handoff prompt and the reply.
    prompt = io.task_dir / f"{stage}.prompt.md" if io.task_dir else None
    sent = prompt.read_text(encoding="utf-8") if prompt is not None and prompt.is_file() else ""
    append(
        io.transcript,
        Exchange(
            stage=stage,
            provider="handoff",
            model="(reply file)",
            kind="reply-file",
            input_tokens=estimate_tokens(sent),
            output_tokens=estimate_tokens(text),
            estimated=True,
            contract_ok=result.ok,
            violations=[str(v) for v in result.violations],
            note=f"reply from {source}",
        ),
    )
    if not result.ok:
        kept = io.keep_attempt(text)
        violations = [str(v) for v in result.violations]
        error = _exhausted(io.command or f"specflow {stage}", violations, io.show_path(kept), None)
        if io.task_dir is None:
            raise error
        # A correction prompt ready to paste into the chat the reply came from.
        reask = io.task_dir / f"{stage}.reask.md"
        ensure_git_ignored(io.task_dir, HANDOFF_IGNORE_WHY)
        atomic_write_text(reask, redact_text(io.render_reask(violations, 0, 0)))
        raise CheckFailed(
            f"{error}\nA correction prompt that says exactly what to fix is in "
            f"{io.show_path(reask)}: send it in the chat that gave the reply, save the "
            "corrected answer and pass it with --reply again."
        )
    return result


def _record(
    io: StageIO,
    prepared: Prepared,
    provider: Provider,
    reply: Reply,
    attempt: int,
    result: ContractResult[Any],
) -> None:
    first = attempt == 1
    append(
        io.transcript,
        Exchange(
            stage=prepared.stage,
            provider=provider.name,
            model=reply.model,
            attempt=attempt,
            sent=reply.sent,
            withheld=reply.withheld,
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            cache_read_tokens=reply.usage.cache_read_tokens,
            cache_write_tokens=reply.usage.cache_write_tokens,
            cost_usd=round(io.cost(reply), 6),
            latency_s=round(reply.latency_s, 3),
            stop_reason=reply.stop_reason,
            request_id=reply.request_id,
            retries=reply.retries,
            contract_ok=result.ok,
            violations=[str(v) for v in result.violations],
            reanchor=prepared.reanchor if first else "none",
            reanchor_reason=prepared.reanchor_reason if first else "",
            reminder_tokens=estimate_tokens(prepared.reminder) if first else 0,
        ),
    )


def _refuse_unusable(reply: Reply, io: StageIO, kept: list[Path], max_tokens: int) -> None:
    """A refusal or a reply cut at max_tokens is kept and reported; re-asking won't fix it."""
    if reply.stop_reason == "refusal":
        path = io.keep_attempt(reply.text)
        kept.append(path)
        raise ProviderError(
            f"the model refused to answer (stop_reason `refusal`); its reply is kept in "
            f"{io.show_path(path)}. "
            "Rephrase the task or attached context and run the stage again."
        )
    if reply.stop_reason in ("max_tokens", "length"):
        path = io.keep_attempt(reply.text)
        kept.append(path)
        raise ProviderError(
            f"the reply was cut off at max_tokens ({max_tokens}); the partial reply is kept in "
            f"{io.show_path(path)}. Raise `max_tokens` for this stage in .specflow/config.toml "
            "and run again."
        )


def _exhausted(command: str, violations: list[str], last: str, attempts: int | None) -> CheckFailed:
    how = f"after {attempts} attempts" if attempts else "in the reply file"
    stage = command.split()[1] if len(command.split()) > 1 else command
    listed = "\n".join(f"  - {v}" for v in violations)
    return CheckFailed(
        f"the {stage} reply breaks its contract {how}:\n{listed}\n"
        f"The last reply is kept in {last}; fix it and pass it with "
        f"`{command} --reply {last}`, or run the stage again."
    )
