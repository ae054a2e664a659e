"""The re-anchoring policy: crafted token sequences in, remind/reset/none decisions out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from specflow.config import AnchoringConfig
from specflow.providers.base import Request
from specflow.stages.anchoring import AnchorDecision, AnchorPolicy, TokenLedger, estimate_tokens
from tests.support.helpers import run, specced_task
from tests.support.samples import SPEC_REPLY_NO_UNKNOWNS, implement_reply
from tests.support.scripted import ScriptedProvider

WINDOW = 200_000


def policy(**overrides: object) -> AnchorPolicy:
    # Pinned, not the defaults: the expected reasons below are worked out for these values.
    settings = {"remind_after_tokens": 8000, "min_system_share": 0.35, "reset_at_share": 0.6}
    return AnchorPolicy(
        AnchoringConfig.model_validate({**settings, **overrides}), context_window=WINDOW
    )


def after_first_turn() -> TokenLedger:
    """A 6,000-token system prompt, then one turn: 3,000 tokens sent, 2,500 back."""
    ledger = TokenLedger(system_tokens=6000)
    ledger.record_reply(9000, 2500)
    return ledger


# --- estimate_tokens -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100), ("é" * 8, 2)],
)
def test_estimate_tokens_is_a_quarter_of_the_characters_rounded_up(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


# --- the ledger ----------------------------------------------------------------------------


def test_first_reply_counts_what_follows_the_system_prompt() -> None:
    ledger = after_first_turn()
    assert ledger.context_tokens == 9000
    assert ledger.output_tokens == 2500
    assert ledger.tokens_since_anchor == 3000 + 2500
    assert ledger.replies == 1
    assert ledger.started


def test_later_replies_count_the_new_turn_and_the_reply() -> None:
    ledger = after_first_turn()
    ledger.record_reply(9000 + 2500 + 1200, 800)  # previous context + reply + a 1,200 turn
    assert ledger.tokens_since_anchor == 5500 + 1200 + 800
    assert ledger.context_tokens == 12_700
    assert ledger.output_tokens == 800


def test_a_shrunken_context_adds_only_the_reply() -> None:
    # A failed attempt replaced rather than stacked: the context is smaller than before.
    ledger = after_first_turn()
    ledger.record_reply(7000, 400)
    assert ledger.tokens_since_anchor == 5500 + 400
    assert ledger.context_tokens == 7000


def test_exact_system_size_replaces_the_estimate() -> None:
    ledger = TokenLedger(system_tokens=6000)
    ledger.record_reply(9000, 2500, exact_system_tokens=5800)
    assert ledger.system_tokens == 5800
    assert ledger.system_exact
    assert ledger.tokens_since_anchor == 9000 - 5800 + 2500


@pytest.mark.parametrize("unknown", [None, 0])  # 0: a prompt too short to be cached
def test_no_exact_system_size_keeps_the_estimate(unknown: int | None) -> None:
    ledger = TokenLedger(system_tokens=6000)
    ledger.record_reply(9000, 2500, exact_system_tokens=unknown)
    assert ledger.system_tokens == 6000
    assert not ledger.system_exact


def test_a_reminder_resets_the_count_and_only_the_reply_follows_it() -> None:
    ledger = after_first_turn()
    ledger.note_reminder()
    assert ledger.tokens_since_anchor == 0
    assert ledger.reminders == 1
    # The reminder rode at the tail of the 3,000-token turn: only the reply came after it.
    ledger.record_reply(14_500, 2500)
    assert ledger.tokens_since_anchor == 2500
    assert not ledger.reminder_in_flight
    # The next turn without a reminder counts in full again.
    ledger.record_reply(20_000, 2500)
    assert ledger.tokens_since_anchor == 2500 + 3000 + 2500


def test_a_reset_starts_a_new_conversation_and_keeps_the_totals() -> None:
    ledger = after_first_turn()
    ledger.record_reply(9000, 100, exact_system_tokens=5800)
    ledger.note_reminder()
    ledger.note_reset(7000)
    assert ledger == TokenLedger(system_tokens=7000, reminders=1, resets=1)
    assert not ledger.started


def test_projected_context_before_and_after_the_first_reply() -> None:
    ledger = TokenLedger(system_tokens=6000)
    assert ledger.projected_context(3000) == 9000
    ledger.record_reply(9000, 2500)
    assert ledger.projected_context(3000) == 14_500


def test_ledger_round_trips_through_a_dict_and_json() -> None:
    ledger = after_first_turn()
    ledger.record_reply(14_500, 2500, exact_system_tokens=5900)
    ledger.note_reminder()
    data = ledger.model_dump()
    assert TokenLedger.model_validate(data) == ledger
    assert TokenLedger.model_validate(json.loads(json.dumps(data))) == ledger
    assert TokenLedger.model_validate_json(ledger.model_dump_json()) == ledger


def test_ledger_rejects_an_unknown_key() -> None:
    with pytest.raises(ValidationError, match="context_tokenz\n  Extra inputs are not permitted"):
        TokenLedger.model_validate({"context_tokenz": 1})


@pytest.mark.parametrize("key", ["system_tokens", "context_tokens", "tokens_since_anchor"])
def test_ledger_rejects_a_negative_count(key: str) -> None:
    with pytest.raises(ValidationError, match=f"{key}\n  Input should be greater than or equal"):
        TokenLedger.model_validate({key: -1})


def test_ledger_rejects_a_negative_usage() -> None:
    ledger = after_first_turn()
    with pytest.raises(ValidationError, match="context_tokens"):
        ledger.record_reply(-5, 10)


# --- the policy: remind ----------------------------------------------------------------------


def test_no_reminder_at_the_threshold() -> None:
    decision = policy().decide(after_first_turn(), pending_tokens=2500)
    assert decision == AnchorDecision(
        action="none",
        reason="within thresholds: 8,000 tokens since the rules were last stated "
        "(threshold 8,000); system prompt is 42% of the context (minimum 35%)",
        projected_context=14_000,
        system_share=6000 / 14_000,
    )


def test_a_reminder_one_token_past_the_threshold() -> None:
    decision = policy().decide(after_first_turn(), pending_tokens=2501)
    assert decision.action == "remind"
    assert decision.reason == "8,001 tokens since the rules were last stated (threshold 8,000)"
    assert decision.projected_context == 14_001


def test_after_a_reminder_the_count_starts_again() -> None:
    tokens_only = policy(min_system_share=0.0)
    ledger = after_first_turn()
    assert tokens_only.decide(ledger, 3000).action == "remind"
    ledger.note_reminder()
    ledger.record_reply(14_500, 2500)
    decision = tokens_only.decide(ledger, 3000)
    assert decision.action == "none"
    assert decision.reason == (
        "within thresholds: 5,500 tokens since the rules were last stated (threshold 8,000); "
        "system prompt is 30% of the context (minimum 0%)"
    )


def test_a_reminder_when_the_system_prompt_share_falls_below_the_minimum() -> None:
    ledger = TokenLedger(
        system_tokens=6000,
        context_tokens=16_000,
        output_tokens=500,
        tokens_since_anchor=1000,
        replies=3,
    )
    at_minimum = policy().decide(ledger, 500)  # 6,000 / 17,000 = 35.3%
    assert at_minimum.action == "none"
    below = policy().decide(ledger, 1200)  # 6,000 / 17,700 = 33.9%
    assert below.action == "remind"
    assert below.reason == "system prompt is 33% of the context (minimum 35%)"
    assert below.system_share == pytest.approx(0.33898, abs=1e-5)


def test_both_reminder_reasons_are_given() -> None:
    ledger = TokenLedger(
        system_tokens=6000,
        context_tokens=20_000,
        output_tokens=2500,
        tokens_since_anchor=5500,
        replies=2,
    )
    decision = policy().decide(ledger, 3000)
    assert decision.action == "remind"
    assert decision.reason == (
        "8,500 tokens since the rules were last stated (threshold 8,000); "
        "system prompt is 23% of the context (minimum 35%)"
    )


def test_shares_are_rounded_down_and_thresholds_shown_as_configured() -> None:
    ledger = TokenLedger(system_tokens=2900, context_tokens=9000, output_tokens=500, replies=1)
    decision = policy(min_system_share=0.555).decide(ledger, 500)  # exactly 29%
    assert decision.reason == "system prompt is 29% of the context (minimum 55.5%)"


def test_the_first_request_is_never_reminded() -> None:
    ledger = TokenLedger(system_tokens=1000)
    decision = policy(remind_after_tokens=0, min_system_share=1.0).decide(ledger, 9000)
    assert decision == AnchorDecision(
        action="none",
        reason="first request of the conversation: the system prompt has just stated the rules",
        projected_context=10_000,
        system_share=0.1,
    )


def test_the_first_request_after_a_reset_is_never_reminded() -> None:
    ledger = after_first_turn()
    ledger.note_reset(7000)
    assert policy(remind_after_tokens=0).decide(ledger, 9000).action == "none"


# --- the policy: reset ---------------------------------------------------------------------


def test_a_reset_past_the_budget_takes_precedence_over_a_reminder() -> None:
    ledger = TokenLedger(
        system_tokens=6000,
        context_tokens=120_000,
        output_tokens=2500,
        tokens_since_anchor=20_000,
        replies=20,
    )
    decision = policy().decide(ledger, 8500)
    assert decision == AnchorDecision(
        action="reset",
        reason="context would be 131,000 tokens, 65% of the 200,000-token window (reset at 60%)",
        projected_context=131_000,
        system_share=6000 / 131_000,
    )


def test_a_reset_only_beyond_the_budget() -> None:
    ledger = TokenLedger(system_tokens=6000, context_tokens=110_000, output_tokens=5000, replies=9)
    assert policy().decide(ledger, 5000).action == "remind"  # 120,000: at the budget, 5% share
    assert policy().decide(ledger, 5001).action == "reset"


def test_the_first_request_is_not_reset_even_past_the_budget() -> None:
    ledger = TokenLedger(system_tokens=1000)
    decision = policy().decide(ledger, 130_000)
    assert decision.action == "none"
    assert decision.reason == (
        "first request of the conversation: the system prompt has just stated the rules; "
        "context would be 131,000 tokens, 65% of the 200,000-token window (reset at 60%), "
        "but a fresh conversation would be no smaller"
    )


@pytest.mark.parametrize("ledger", [TokenLedger(system_tokens=6000), after_first_turn()])
def test_force_reset(ledger: TokenLedger) -> None:
    decision = policy().decide(ledger, 100, force_reset=True)
    assert decision.action == "reset"
    assert decision.reason == "a fresh conversation was requested"


def test_disabled_decides_nothing_but_a_forced_reset() -> None:
    ledger = TokenLedger(
        system_tokens=100,
        context_tokens=190_000,
        output_tokens=2500,
        tokens_since_anchor=90_000,
        replies=30,
    )
    disabled = policy(enabled=False)
    decision = disabled.decide(ledger, 3000)
    assert decision.action == "none"
    assert decision.reason == "re-anchoring is off ([anchoring] enabled = false)"
    assert disabled.decide(ledger, 3000, force_reset=True).action == "reset"


def test_a_context_window_must_be_positive() -> None:
    with pytest.raises(ValueError) as err:
        AnchorPolicy(AnchoringConfig(), context_window=0)
    assert str(err.value) == (
        "context_window must be a positive number of tokens (got 0); "
        "check the model's entry in the capability table"
    )


def test_decisions_are_deterministic_and_leave_the_ledger_alone() -> None:
    ledger = after_first_turn()
    before = ledger.model_copy()
    assert policy().decide(ledger, 3000) == policy().decide(ledger, 3000)
    assert ledger == before


# --- a simulated implement session ---------------------------------------------------------


def simulate(anchoring: AnchoringConfig, files: int = 10) -> tuple[list[str], TokenLedger]:
    """Implement *files* files, one turn each, the way the engine drives the policy.

    System prompt 6,000 tokens; each file turn sends 3,000 tokens (any reminder included) and
    gets 2,500 back; the window is 200,000. The provider's usage is modelled independently of
    the ledger: the context it reports is the conversation so far plus the new turn. A reset
    starts a fresh conversation seeded with 7,000 tokens (the system prompt and a 1,000-token
    summary of the files done), and the turn that triggered it is sent there.
    """
    system, turn_in, turn_out, seed = 6000, 3000, 2500, 7000
    anchor = AnchorPolicy(anchoring, context_window=WINDOW)
    ledger = TokenLedger(system_tokens=system)
    conversation = system
    actions: list[str] = []
    for _ in range(files):
        decision = anchor.decide(ledger, turn_in)
        actions.append(decision.action)
        if decision.action == "reset":
            ledger.note_reset(seed)
            conversation = seed
            assert anchor.decide(ledger, turn_in).action == "none"  # a fresh first request
        elif decision.action == "remind":
            ledger.note_reminder()
        context = conversation + turn_in
        ledger.record_reply(context, turn_out)
        conversation = context + turn_out
    return actions, ledger


def test_a_ten_file_session_with_the_defaults() -> None:
    # Projected context at turn k: 9,000 + 5,500 * (k - 1); since-anchor includes the turn.
    #
    #  turn  projected  since  system share  action
    #   1      9,000      -        67%       none    first request: the system prompt just spoke
    #   2     14,500    8,500      41%       remind  8,500 > 8,000 tokens since the rules
    #   3     20,000    5,500      30%       remind  share 30% < 35% (only the 2,500 reply
    #                                                followed the reminder, + 3,000 pending)
    #   4     25,500    5,500      23%       remind  share
    #   ...                                          every later turn: share keeps falling
    #  10     58,500    5,500      10%       remind  share; 58,500 is 29% of the window, far
    #                                                below the 60% reset budget: no reset
    actions, ledger = simulate(AnchoringConfig(min_system_share=0.35))
    assert actions == ["none"] + ["remind"] * 9
    assert (ledger.reminders, ledger.resets) == (9, 0)


def test_a_ten_file_session_reminded_by_tokens_alone() -> None:
    # With the share rule off, the token count alone sets the rhythm. After a reminder only
    # the 2,500-token reply follows the rules; an unreminded turn adds 3,000 + 2,500.
    #
    #  turn  since at decision          action
    #   1    -                          none (first request); since becomes 3,000 + 2,500
    #   2    5,500 + 3,000 = 8,500      remind; since becomes 2,500
    #   3    2,500 + 3,000 = 5,500      none;   since becomes 8,000
    #   4    8,000 + 3,000 = 11,000     remind; since becomes 2,500
    #   5..10                           the same two-turn rhythm: none, remind, ...
    actions, ledger = simulate(AnchoringConfig(min_system_share=0.0))
    assert actions == ["none"] + ["remind", "none"] * 4 + ["remind"]
    assert (ledger.reminders, ledger.resets) == (5, 0)


def test_a_ten_file_session_that_outgrows_its_budget() -> None:
    # reset_at_share 0.25: the budget is 50,000 tokens of the 200,000 window.
    #
    #  turn  projected  action
    #   1      9,000    none    first request
    #   2     14,500    remind  8,500 tokens since the rules
    #   3-8   20,000 .. 47,500  remind  system share 30% .. 12% < 35%
    #   9     53,000    reset   53,000 > 50,000 (a reminder is due too; reset wins). The
    #                           turn goes to a fresh conversation: 7,000 seed + 3,000 turn,
    #                           2,500 back; since becomes 3,000 + 2,500
    #  10     15,500    remind  5,500 + 3,000 = 8,500 > 8,000 (share 7,000/15,500 = 45% is fine)
    actions, ledger = simulate(AnchoringConfig(reset_at_share=0.25, min_system_share=0.35))
    assert actions == ["none"] + ["remind"] * 7 + ["reset", "remind"]
    assert (ledger.reminders, ledger.resets) == (8, 1)
    assert ledger.context_tokens == 7000 + 3000 + 2500 + 3000


# --- the policy's decisions on the wire (scripted provider) ---------------------------------


def _implement_session(
    repo: Path, tmp_path: Path, scripted: ScriptedProvider, anchoring: str, files: int
) -> list[Request]:
    specced_task(tmp_path, "exporter", SPEC_REPLY_NO_UNKNOWNS)
    (repo / ".specflow" / "config.toml").write_text(anchoring)
    paths = ["src/exporter/collector.py", "src/exporter/server.py"][:files]
    scripted.enqueue(*(implement_reply(p, f"X{n} = {n}\n") for n, p in enumerate(paths)))
    for path in paths:
        result = run("implement", "--file", path, "--allow-unplanned")
        assert result.exit_code == 0, result.output
    return scripted.requests


def test_a_reminder_rides_at_the_tail_of_the_second_request(
    repo: Path, tmp_path: Path, scripted: ScriptedProvider
) -> None:
    first, second = _implement_session(
        repo,
        tmp_path,
        scripted,
        "[anchoring]\nremind_after_tokens = 1\nmin_system_share = 0.0\n",
        2,
    )
    assert all(not m.tail for m in first.messages)
    assert [m.role for m in second.messages] == ["user", "assistant", "user"]
    assert second.messages[-1].tail.startswith("<specflow-reminder>")
    assert "src/exporter/server.py" in second.messages[-1].tail
    assert not second.messages[0].tail  # the stored turn is sent without its old reminder


def test_no_reminder_below_the_threshold(
    repo: Path, tmp_path: Path, scripted: ScriptedProvider
) -> None:
    _first, second = _implement_session(
        repo, tmp_path, scripted, "[anchoring]\nremind_after_tokens = 1000000\n", 2
    )
    assert all(not m.tail for m in second.messages)
    assert len(second.messages) == 3  # the conversation carries on


def test_the_ledger_records_the_scripted_usage(
    repo: Path, tmp_path: Path, scripted: ScriptedProvider
) -> None:
    (first,) = _implement_session(repo, tmp_path, scripted, "", 1)
    stored = json.loads(
        (repo / ".specflow/tasks/exporter/conversations/implement.json").read_text()
    )
    reply = implement_reply("src/exporter/collector.py", "X0 = 0\n")
    assert stored["messages"][-1] == {"role": "assistant", "content": reply}
    sent = sum(estimate_tokens(b.text) for b in first.system) + sum(
        estimate_tokens(m.full_text) for m in first.messages
    )
    # the exact usage the provider reported, not specflow's own estimate of the request
    assert stored["ledger"]["replies"] == 1
    assert stored["ledger"]["context_tokens"] == sent
    assert stored["ledger"]["output_tokens"] == estimate_tokens(reply)
