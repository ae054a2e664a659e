"""Re-anchoring: token accounting and the decision to restate the rules or start afresh.

As a conversation grows (an implement session across files, follow-up scoping rounds, the
review of a large diff) the system prompt becomes a shrinking share of the context and sits
far from the tail, where the model attends most. Before each request the engine asks
``AnchorPolicy.decide`` whether to append a reminder of the rules to the newest user turn
("remind"), start a fresh conversation seeded with the spec, the rules and a summary of the
work done ("reset"), or do nothing ("none").

The accounting is exact wherever it can be: each reply's usage says how much context the
model read (uncached input + cache reads + cache writes) and how much it wrote. Only text not
yet sent is estimated. Everything here is pure and deterministic; the ledger is plain data the
engine persists with the task's conversation state (``model_dump()`` / ``model_validate()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specflow.config import AnchoringConfig

# Re-exported: the stages import the one estimate (specflow/tokens.py) from here.
from specflow.tokens import estimate_tokens as estimate_tokens

Action = Literal["none", "remind", "reset"]


class TokenLedger(BaseModel):
    """What one conversation has cost so far, in tokens, and how long since the rules were stated.

    Start one per conversation with the system prompt's estimated size:
    ``TokenLedger(system_tokens=estimate_tokens(system_text))``. After each reply call
    ``record_reply``; when a reminder is appended to the turn about to be sent call
    ``note_reminder``; when a fresh conversation replaces this one call ``note_reset``.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # The system prompt's size: estimated until a reply's usage shows it exactly.
    system_tokens: int = Field(default=0, ge=0)
    system_exact: bool = False
    # The context the model read on the last request: input + cache read + cache write.
    context_tokens: int = Field(default=0, ge=0)
    # The last reply's size; it joins the context of the next request.
    output_tokens: int = Field(default=0, ge=0)
    # Tokens added since the rules were last stated (by the system prompt, then by reminders).
    tokens_since_anchor: int = Field(default=0, ge=0)
    # Replies recorded in this conversation: 0 means nothing has been sent yet.
    replies: int = Field(default=0, ge=0)
    # A reminder rides at the tail of the turn being sent (see note_reminder).
    reminder_in_flight: bool = False
    # Totals for the task, kept across resets, for the transcript and status.
    reminders: int = Field(default=0, ge=0)
    resets: int = Field(default=0, ge=0)

    @property
    def started(self) -> bool:
        """Whether this conversation has had a request answered."""
        return self.replies > 0

    def projected_context(self, pending_tokens: int) -> int:
        """The context the next request will make the model read, *pending_tokens* included.

        Before anything is sent that is the system prompt plus the pending turn; after, the
        last request's context plus the reply (which the next request carries) plus the turn.
        """
        if not self.started:
            return self.system_tokens + pending_tokens
        return self.context_tokens + self.output_tokens + pending_tokens

    def record_reply(
        self,
        usage_context_tokens: int,
        output_tokens: int,
        *,
        exact_system_tokens: int | None = None,
    ) -> None:
        """Account for a reply from its usage (exact figures, no estimates).

        The conversation grew by what was sent beyond the previous context (the new user
        turn) plus the reply. If a reminder rode at the tail of that turn, only the reply
        comes after the restated rules. A context smaller than before (a failed attempt
        replaced rather than stacked) adds nothing for the turn.

        *exact_system_tokens* is the system prompt's exact size when this usage shows it:
        cache read + cache write of a request whose only cache breakpoints are in the system
        prompt (no message carries one). None or 0 (a prompt too short to cache) leaves the
        estimate in place.
        """
        if exact_system_tokens:
            self.system_tokens = exact_system_tokens
            self.system_exact = True
        before = self.context_tokens + self.output_tokens if self.started else self.system_tokens
        sent = max(0, usage_context_tokens - before)
        grown = output_tokens if self.reminder_in_flight else sent + output_tokens
        self.tokens_since_anchor += grown
        self.reminder_in_flight = False
        self.context_tokens = usage_context_tokens
        self.output_tokens = output_tokens
        self.replies += 1

    def note_reminder(self) -> None:
        """A reminder of the rules was appended to the turn about to be sent."""
        self.tokens_since_anchor = 0
        self.reminder_in_flight = True
        self.reminders += 1

    def note_reset(self, seed_tokens: int) -> None:
        """A fresh conversation replaces this one; it opens with *seed_tokens* (estimated).

        The seed is what the new conversation states before its first user turn: the system
        prompt with the rules, the spec and the summary of the work done. It states the
        rules, so the count since the anchor starts again at 0. The first user turn is
        counted as pending on the next ``decide``.
        """
        self.system_tokens = seed_tokens
        self.system_exact = False
        self.context_tokens = 0
        self.output_tokens = 0
        self.tokens_since_anchor = 0
        self.replies = 0
        self.reminder_in_flight = False
        self.resets += 1


@dataclass(frozen=True)
class AnchorDecision:
    """What to do before the next request, and why (a sentence for the transcript)."""

    action: Action
    reason: str
    projected_context: int
    system_share: float


class AnchorPolicy:
    """Decides, per request, whether to remind the model of the rules or start afresh.

    The rules, in order:

    1. ``force_reset`` -> reset, even when re-anchoring is disabled: the caller asked for a
       fresh conversation (a user flag, a provider that refused the context's length).
    2. Disabled in config -> none.
    3. Nothing sent yet in this conversation -> none. The system prompt has just stated the
       rules, so a reminder would repeat them; and a conversation with no history cannot be
       made smaller by starting it again, so no reset either.
    4. Projected context above ``reset_at_share`` of the model's window -> reset. Long before
       the window is full, attention to the distant system prompt degrades and every request
       re-reads the whole history; a fresh conversation with a summary is cheaper and sharper.
       The projection is the last request's context plus its reply plus the pending turn.
    5. More than ``remind_after_tokens`` added since the rules were last stated (pending turn
       included) -> remind: the rules are that far from the tail, where attention is strongest.
    6. System prompt below ``min_system_share`` of the projected context -> remind: the rules
       are drowned out by the history even when each turn is small.
    7. Otherwise none.

    Reset takes precedence over remind: a fresh conversation states the rules anyway.
    """

    def __init__(self, config: AnchoringConfig, context_window: int) -> None:
        if context_window < 1:
            raise ValueError(
                f"context_window must be a positive number of tokens (got {context_window}); "
                "check the model's entry in the capability table"
            )
        self.config = config
        self.context_window = context_window

    def decide(
        self, ledger: TokenLedger, pending_tokens: int, force_reset: bool = False
    ) -> AnchorDecision:
        """The action for the next request, whose new user turn is *pending_tokens* long."""
        projected = ledger.projected_context(pending_tokens)
        share = ledger.system_tokens / projected if projected else 1.0

        def decision(action: Action, reason: str) -> AnchorDecision:
            return AnchorDecision(action, reason, projected, share)

        if force_reset:
            return decision("reset", "a fresh conversation was requested")
        if not self.config.enabled:
            return decision("none", "re-anchoring is off ([anchoring] enabled = false)")
        over_budget = projected / self.context_window > self.config.reset_at_share
        if not ledger.started:
            return decision("none", self._first_request_reason(projected, over_budget))
        if over_budget:
            return decision("reset", self._budget_sentence(projected))
        since = ledger.tokens_since_anchor + pending_tokens
        reasons: list[str] = []
        if since > self.config.remind_after_tokens:
            reasons.append(self._since_sentence(since))
        if share < self.config.min_system_share:
            reasons.append(self._share_sentence(share))
        if reasons:
            return decision("remind", "; ".join(reasons))
        within = f"{self._since_sentence(since)}; {self._share_sentence(share)}"
        return decision("none", f"within thresholds: {within}")

    def _first_request_reason(self, projected: int, over_budget: bool) -> str:
        reason = "first request of the conversation: the system prompt has just stated the rules"
        if over_budget:
            # Worth a line in the transcript: the request may not fit, and a reset cannot help.
            reason += (
                f"; {self._budget_sentence(projected)}, but a fresh conversation "
                "would be no smaller"
            )
        return reason

    def _since_sentence(self, since: int) -> str:
        threshold = self.config.remind_after_tokens
        return f"{since:,} tokens since the rules were last stated (threshold {threshold:,})"

    def _share_sentence(self, share: float) -> str:
        minimum = _threshold_percent(self.config.min_system_share)
        return f"system prompt is {_percent(share)} of the context (minimum {minimum})"

    def _budget_sentence(self, projected: int) -> str:
        window = self.context_window
        used = _percent(projected / window)
        reset_at = _threshold_percent(self.config.reset_at_share)
        return (
            f"context would be {projected:,} tokens, {used} of the {window:,}-token window "
            f"(reset at {reset_at})"
        )


def _percent(fraction: float) -> str:
    """A measured share as a whole percentage, rounded down (34.9% reads "34%", not "35%")."""
    return f"{math.floor(fraction * 100 + 1e-9)}%"


def _threshold_percent(fraction: float) -> str:
    """A configured share as written: 0.35 -> "35%", 0.555 -> "55.5%"."""
    return f"{round(fraction * 100, 2):g}%"
