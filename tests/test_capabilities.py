"""The capability table: lookup, what each stage sends and withholds, cost, `models` report."""

from __future__ import annotations

import json

import pytest

from specflow.config import CapabilityEntry, Config
from specflow.providers.base import Decoding, Usage
from specflow.providers.capabilities import (
    FALLBACK_MATCH,
    estimate_cost,
    is_fallback,
    load_table,
    lookup,
    plan_decoding,
    stage_report,
)
from specflow.providers.factory import resolve_provider_name

CURRENT = [
    "claude-sonnet-5-5",
    "claude-opus-5-5",
    "claude-haiku-5-5",
    "claude-sonnet-5",
    "claude-opus-5",
    "claude-fable-5-2",
    "claude-mythos-5-1",
    "claude-mythos-preview",
    "claude-opus-4-6",
    "claude-opus-4-7",
    "claude-opus-4-8",
    "claude-sonnet-4-6",
]
OLDER = [
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-5",
    "claude-opus-4-5-20251101",
    "claude-3-7-sonnet-latest",
]


@pytest.fixture
def table() -> list[CapabilityEntry]:
    return load_table([])


@pytest.mark.parametrize("model", CURRENT)
def test_current_claude_models_take_effort_and_thinking_not_sampling(
    table: list[CapabilityEntry], model: str
) -> None:
    cap = lookup("anthropic", model, table)
    assert cap.honours == ["effort", "thinking"]
    assert cap.exclusive == []


@pytest.mark.parametrize("model", OLDER)
def test_older_claude_models_take_sampling_but_not_temperature_with_top_p(
    table: list[CapabilityEntry], model: str
) -> None:
    cap = lookup("anthropic", model, table)
    assert cap.honours == ["temperature", "top_p", "top_k"]
    assert cap.exclusive == [["temperature", "top_p"]]


@pytest.mark.parametrize(
    ("model", "prices"),
    [
        ("claude-sonnet-5-5", (3.0, 15.0, 3.75, 0.30)),
        ("claude-opus-4-7", (5.0, 25.0, 6.25, 0.50)),
        ("claude-haiku-4-5", (1.0, 5.0, 1.25, 0.10)),
    ],
)
def test_list_prices_per_million_tokens(
    table: list[CapabilityEntry], model: str, prices: tuple[float, ...]
) -> None:
    cap = lookup("anthropic", model, table)
    assert (cap.price_input, cap.price_output, cap.price_cache_write, cap.price_cache_read) == (
        prices
    )


def test_any_openai_compatible_model_takes_all_sampling_knobs_and_costs_nothing(
    table: list[CapabilityEntry],
) -> None:
    cap = lookup("openai", "qwen2.5-coder:14b", table)
    assert cap.match == "*"
    assert cap.honours == ["temperature", "top_p", "top_k"]
    assert cap.price_input == cap.price_output == 0.0


def test_user_rows_come_before_the_packaged_ones() -> None:
    mine = CapabilityEntry(
        provider="anthropic", match="claude-sonnet-5*", honours=["effort"], context_window=1000
    )
    table = load_table([mine])
    assert table[0] is mine
    assert lookup("anthropic", "claude-sonnet-5-5", table) is mine
    assert lookup("anthropic", "claude-opus-5-5", table).honours == ["effort", "thinking"]


def test_a_row_for_one_provider_does_not_match_another(table: list[CapabilityEntry]) -> None:
    assert lookup("openai", "claude-sonnet-5-5", table).match == "*"


def test_handoff_uses_the_row_of_the_configured_model(table: list[CapabilityEntry]) -> None:
    assert lookup("handoff", "claude-sonnet-5-5", table).match == "claude-sonnet-5*"
    assert lookup("handoff", "qwen2.5-coder:14b", table).match == "*"


def test_an_unknown_model_gets_a_fallback_that_sends_nothing(
    table: list[CapabilityEntry],
) -> None:
    cap = lookup("anthropic", "claude-nova-9", table)
    assert is_fallback(cap)
    assert cap.match == FALLBACK_MATCH
    assert cap.honours == []
    sent, withheld = plan_decoding(
        Decoding(temperature=0.3, effort="high"), cap, "spec", model="claude-nova-9"
    )
    assert sent == {}
    reason = (
        "claude-nova-9 is not in the capability table, so no decoding setting is sent; "
        "add a [[capabilities]] row for it to .specflow/config.toml"
    )
    assert withheld == {"temperature": reason, "effort": reason}


def test_current_model_sends_effort_and_thinking_and_withholds_sampling(
    table: list[CapabilityEntry],
) -> None:
    cap = lookup("anthropic", "claude-sonnet-5-5", table)
    decoding = Decoding(temperature=0.8, top_p=0.9, top_k=40, effort="high", thinking="adaptive")
    sent, withheld = plan_decoding(decoding, cap, "scope", model="claude-sonnet-5-5")
    assert sent == {"effort": "high", "thinking": "adaptive"}
    assert withheld == {
        "temperature": "claude-sonnet-5-5 does not use temperature; effort is its knob",
        "top_p": "claude-sonnet-5-5 does not use top_p; effort is its knob",
        "top_k": "claude-sonnet-5-5 does not use top_k; effort is its knob",
    }


def test_older_model_keeps_temperature_and_withholds_top_p_and_effort(
    table: list[CapabilityEntry],
) -> None:
    cap = lookup("anthropic", "claude-haiku-4-5", table)
    decoding = Decoding(temperature=0.2, top_p=0.9, top_k=40, effort="medium", thinking=2048)
    sent, withheld = plan_decoding(decoding, cap, "implement", model="claude-haiku-4-5")
    assert sent == {"temperature": 0.2, "top_k": 40}
    assert withheld == {
        "top_p": "claude-haiku-4-5 refuses temperature and top_p together; temperature was "
        "kept (it comes first in [stages.implement])",
        "effort": "claude-haiku-4-5 does not use effort; it honours temperature, top_p, top_k",
        "thinking": "claude-haiku-4-5 does not use thinking; it honours temperature, top_p, top_k",
    }


def test_an_exclusive_pair_is_fine_when_only_one_is_set(table: list[CapabilityEntry]) -> None:
    cap = lookup("anthropic", "claude-opus-4-5", table)
    sent, withheld = plan_decoding(Decoding(top_p=0.9), cap, "spec", model="claude-opus-4-5")
    assert sent == {"top_p": 0.9}
    assert withheld == {}


def test_thinking_off_and_unset_knobs_are_neither_sent_nor_withheld(
    table: list[CapabilityEntry],
) -> None:
    cap = lookup("anthropic", "claude-sonnet-5-5", table)
    assert plan_decoding(Decoding(), cap, "review") == ({}, {})


def test_without_a_model_id_the_reason_names_the_pattern(table: list[CapabilityEntry]) -> None:
    cap = lookup("anthropic", "claude-sonnet-5-5", table)
    _, withheld = plan_decoding(Decoding(temperature=0.0), cap, "review")
    assert withheld == {
        "temperature": "models matching `claude-sonnet-5*` do not use temperature; "
        "effort is their knob"
    }
    old = lookup("anthropic", "claude-opus-4-5", table)
    _, withheld = plan_decoding(Decoding(temperature=0.0, top_p=0.5, effort="low"), old, "review")
    assert withheld == {
        "top_p": "models matching `claude-opus-4-5*` refuse temperature and top_p together; "
        "temperature was kept (it comes first in [stages.review])",
        "effort": "models matching `claude-opus-4-5*` do not use effort; they honour "
        "temperature, top_p, top_k",
    }
    unknown = lookup("anthropic", "claude-nova-9", table)
    _, withheld = plan_decoding(Decoding(effort="low"), unknown, "review")
    assert withheld["effort"].startswith("this model is not in the capability table")


def test_openai_compatible_models_take_sampling_and_not_effort(
    table: list[CapabilityEntry],
) -> None:
    cap = lookup("openai", "llama3.1:8b", table)
    decoding = Decoding(temperature=0.1, top_p=0.95, top_k=20, effort="medium")
    sent, withheld = plan_decoding(decoding, cap, "implement", model="llama3.1:8b")
    assert sent == {"temperature": 0.1, "top_p": 0.95, "top_k": 20}
    assert withheld == {
        "effort": "llama3.1:8b does not use effort; it honours temperature, top_p, top_k"
    }


def test_a_row_that_honours_nothing_says_so() -> None:
    cap = CapabilityEntry(provider="openai", match="tiny-*")
    _, withheld = plan_decoding(Decoding(temperature=0.5), cap, "scope", model="tiny-1")
    assert withheld == {
        "temperature": "tiny-1 does not use temperature; its row honours no decoding setting"
    }


def test_cost_estimate_uses_each_price(table: list[CapabilityEntry]) -> None:
    cap = lookup("anthropic", "claude-sonnet-5-5", table)
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_read_tokens=2_000_000,
        cache_write_tokens=400_000,
    )
    # 3.00 input + 1.50 output + 0.60 cache reads + 1.50 cache writes
    assert estimate_cost(usage, cap) == pytest.approx(6.60)
    assert estimate_cost(usage, lookup("openai", "qwen", table)) == 0.0


def test_every_packaged_row_says_what_it_honours(table: list[CapabilityEntry]) -> None:
    for row in table:
        assert row.context_window > 0
        for pair in row.exclusive:
            assert len(pair) == 2
            assert all(knob in row.honours for knob in pair)


@pytest.mark.parametrize(
    ("provider", "env", "expected"),
    [
        ("auto", {"ANTHROPIC_API_KEY": "k"}, "anthropic"),
        ("auto", {"ANTHROPIC_AUTH_TOKEN": "t"}, "anthropic"),
        ("auto", {"ANTHROPIC_API_KEY": "  "}, "handoff"),
        ("auto", {}, "handoff"),
        ("openai", {"ANTHROPIC_API_KEY": "k"}, "openai"),
        ("handoff", {"ANTHROPIC_API_KEY": "k"}, "handoff"),
        ("anthropic", {}, "anthropic"),
    ],
)
def test_provider_resolution(provider: str, env: dict[str, str], expected: str) -> None:
    config = Config.model_validate({"provider": provider})
    assert resolve_provider_name(config, env) == expected


def test_models_report_for_the_default_config_with_a_key() -> None:
    report = stage_report(Config(), {"ANTHROPIC_API_KEY": "k"})
    json.dumps(report)  # `specflow models --json` prints it as is
    assert report["provider"] == "anthropic"
    assert report["provider_setting"] == "auto"
    assert report["model"] == "claude-sonnet-5-5"
    assert report["capability"]["match"] == "claude-sonnet-5*"
    assert report["capability"]["fallback"] is False
    scope = dict(report["stages"]["scope"])
    assert scope.pop("capability")["match"] == "claude-sonnet-5*"
    assert scope == {
        "provider": "anthropic",
        "model": "claude-sonnet-5-5",
        "base_url": "",
        "intent": "explore",
        "intent_became": "explore -> effort=high, thinking=adaptive",
        "configured": {"temperature": 0.8, "effort": "high", "thinking": "adaptive"},
        "send": {"effort": "high", "thinking": "adaptive"},
        "withheld": {
            "temperature": "claude-sonnet-5-5 does not use temperature; effort is its knob"
        },
        "max_tokens": 16000,
    }
    assert report["stages"]["implement"]["send"] == {"effort": "medium"}
    assert report["stages"]["implement"]["max_tokens"] == 32000
    assert list(report["stages"]) == ["scope", "spec", "implement", "review"]
    assert report["table"][0]["match"] == "claude-sonnet-4-5*"


def test_models_report_for_handoff_recommends_every_setting() -> None:
    report = stage_report(Config(), {})
    assert report["provider"] == "handoff"
    assert report["capability"] is None
    assert report["stages"]["spec"]["send"] == {"temperature": 0.3, "effort": "high"}
    assert report["stages"]["spec"]["withheld"] == {}


def test_models_report_for_a_local_model_and_a_user_row() -> None:
    config = Config.model_validate(
        {
            "provider": "openai",
            "model": "qwen2.5-coder:14b",
            "capabilities": [
                {
                    "provider": "openai",
                    "match": "qwen*",
                    "honours": ["temperature"],
                    "context_window": 32768,
                }
            ],
            "stages": {"implement": {"temperature": 0.1, "top_k": 20, "effort": "medium"}},
        }
    )
    report = stage_report(config, {})
    assert report["provider"] == "openai"
    assert report["capability"]["match"] == "qwen*"
    assert report["table"][0]["match"] == "qwen*"
    plan = report["stages"]["implement"]
    assert plan["send"] == {"temperature": 0.1}
    assert plan["withheld"] == {
        "top_k": "qwen2.5-coder:14b does not use top_k; it honours temperature",
        "effort": "qwen2.5-coder:14b does not use effort; it honours temperature",
    }
