"""The capability table: which decoding knobs a model honours, its window and its prices.

The table is data (specflow/data/capabilities.toml, extended by `capabilities` rows in the
project's config). Providers send a stage's setting only when the model's row honours it, and
every setting left out comes with the reason, so nothing is dropped silently.
"""

from __future__ import annotations

import fnmatch
import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from specflow.config import STAGE_NAMES, CapabilityEntry, Config, resolve_provider_name
from specflow.errors import ConfigError
from specflow.providers.base import Decoding, Usage
from specflow.resources import data_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

KNOBS = ("temperature", "top_p", "top_k", "effort", "thinking")
SAMPLING_KNOBS = ("temperature", "top_p", "top_k")

# The match of the row lookup() returns when no row fits: it can never match a model id.
FALLBACK_MATCH = "(not in the capability table)"


def load_table(user_entries: list[CapabilityEntry]) -> list[CapabilityEntry]:
    """The user's rows (from config) first, then the packaged ones: the first match wins."""
    return [*user_entries, *_packaged_rows()]


@functools.lru_cache(maxsize=1)
def _packaged_rows() -> tuple[CapabilityEntry, ...]:
    path = data_file("capabilities.toml")
    with path.open("rb") as f:
        data = tomllib.load(f)
    return tuple(CapabilityEntry.model_validate(row) for row in data["capabilities"])


def lookup(provider: str, model: str, table: list[CapabilityEntry]) -> CapabilityEntry:
    """The first row for *provider* whose pattern matches *model*, else a cautious fallback.

    For "handoff" any provider's row may match: the configured model is the best guess at
    what the user pastes the prompt into (its context window still matters).
    The fallback honours no knob (sending a parameter a model rejects fails the request),
    and its prices are zero, so cost estimates for an unknown model read as unknown.
    """
    for entry in table:
        if provider in (entry.provider, "handoff") and fnmatch.fnmatchcase(model, entry.match):
            return entry
    if provider == "anthropic":
        return CapabilityEntry(provider="anthropic", match=FALLBACK_MATCH)
    return CapabilityEntry(provider="openai", match=FALLBACK_MATCH)


def is_fallback(cap: CapabilityEntry) -> bool:
    """True for the row lookup() made up because no row of the table matched."""
    return cap.match == FALLBACK_MATCH


def plan_decoding(
    decoding: Decoding, cap: CapabilityEntry, stage: str, *, model: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a stage's configured knobs into (settings to send, knob -> why it is not sent).

    For a pair the model refuses together, the knob that comes first in the profile
    (temperature, top_p, top_k, effort, thinking) is kept and the other is withheld.
    """
    who = _Subject(cap, model)
    send: dict[str, Any] = {}
    withheld: dict[str, str] = {}
    for knob, value in decoding.configured().items():
        if knob in cap.honours:
            send[knob] = value
        else:
            withheld[knob] = _not_honoured_reason(knob, cap, who)
    for pair in cap.exclusive:
        present = [knob for knob in KNOBS if knob in pair and knob in send]
        for dropped in present[1:]:
            del send[dropped]
            withheld[dropped] = (
                f"{who} {who.verb('refuses', 'refuse')} {' and '.join(present)} together; "
                f"{present[0]} was kept (it comes first in [stages.{stage}])"
            )
    return send, withheld


class _Subject:
    """Who a reason speaks of: the model id, else the row's pattern (plural)."""

    def __init__(self, cap: CapabilityEntry, model: str) -> None:
        self.plural = not model and not is_fallback(cap)
        self.name = model or (
            "this model" if is_fallback(cap) else f"models matching `{cap.match}`"
        )

    def __str__(self) -> str:
        return self.name

    def verb(self, singular: str, plural: str) -> str:
        return plural if self.plural else singular


def _not_honoured_reason(knob: str, cap: CapabilityEntry, who: _Subject) -> str:
    if is_fallback(cap):
        return (
            f"{who} is not in the capability table, so no decoding setting is sent; "
            "add a [[capabilities]] row for it to .specflow/config.toml"
        )
    does_not = f"{who} {who.verb('does', 'do')} not use {knob}"
    its = who.verb("its", "their")
    if knob in SAMPLING_KNOBS and "effort" in cap.honours:
        return f"{does_not}; effort is {its} knob"
    if cap.honours:
        return f"{does_not}; {who.verb('it honours', 'they honour')} {', '.join(cap.honours)}"
    return f"{does_not}; {its} row honours no decoding setting"


def estimate_cost(usage: Usage, cap: CapabilityEntry) -> float:
    """The USD cost of one reply at the row's list prices (per million tokens)."""
    total = (
        usage.input_tokens * cap.price_input
        + usage.output_tokens * cap.price_output
        + usage.cache_write_tokens * cap.price_cache_write
        + usage.cache_read_tokens * cap.price_cache_read
    )
    return total / 1_000_000


def stage_decoding(config: Config, stage: str) -> Decoding:
    """The decoding profile `[stages.<stage>]` configures."""
    sc = config.stages.get(stage)
    return Decoding(
        temperature=sc.temperature,
        top_p=sc.top_p,
        top_k=sc.top_k,
        effort=sc.effort,
        thinking=sc.thinking,
    )


# What each stage's profile is for; `specflow models` says what it became on the model.
STAGE_INTENT: dict[str, str] = {
    "scope": "explore",
    "spec": "decide",
    "implement": "exact",
    "review": "judge",
}


@dataclass(frozen=True)
class StagePlan:
    """What a stage's call carries: its profile, the settings sent and those withheld."""

    decoding: Decoding
    send: dict[str, Any]
    withheld: dict[str, str]  # knob -> why it is not sent
    max_tokens: int


@dataclass(frozen=True)
class StageModel:
    """The provider, model, capability row and decoding plan one stage talks to."""

    stage: str
    provider: str
    model: str
    capability: CapabilityEntry
    plan: StagePlan
    base_url: str = ""  # OpenAI-compatible only: this stage's server ("" = [openai] base_url)

    @property
    def context_window(self) -> int:
        """The window of this stage's own model: re-anchoring budgets are shares of it."""
        return self.capability.context_window


@dataclass(frozen=True)
class ResolvedModel:
    """The models a run talks to, worked out once: per stage the provider, model, capability
    row and decoding plan, which the provider, the anchoring policy and the review take as
    given. `provider`, `model` and `capability` are the global setting (what a stage without
    its own setting uses, and what `specflow log` compares the cost with)."""

    provider: str
    model: str
    capability: CapabilityEntry
    table: tuple[CapabilityEntry, ...]
    stages: Mapping[str, StageModel]

    def stage(self, name: str) -> StageModel:
        return self.stages[name]

    def plan(self, stage: str) -> StagePlan:
        return self.stages[stage].plan


def resolve_model(config: Config, env: Mapping[str, str]) -> ResolvedModel:
    """Resolve the global provider and model, then each stage's own (see config.py for the
    precedence), its capability row and its decoding plan.

    Raises ConfigError for a base_url on a stage that does not use the OpenAI-compatible
    provider, and for a temperature outside the stage's model's range.
    """
    provider = resolve_provider_name(config, env)
    table = tuple(load_table(config.capabilities))
    cap = lookup(provider, config.model, list(table))
    stages = {name: _stage_model(config, env, name, table) for name in STAGE_NAMES}
    return ResolvedModel(provider, config.model, cap, table, stages)


def _stage_model(
    config: Config, env: Mapping[str, str], stage: str, table: tuple[CapabilityEntry, ...]
) -> StageModel:
    own = config.stages.get(stage)
    setting = own.provider or config.provider
    provider = resolve_provider_name(config.model_copy(update={"provider": setting}), env)
    model = own.model or config.model
    if own.base_url and provider != "openai":
        raise ConfigError(
            f"stages.{stage}.base_url is set, but the {stage} stage uses the {provider} "
            'provider; base_url is for provider "openai" only. Set '
            f'stages.{stage}.provider = "openai", or remove stages.{stage}.base_url.'
        )
    cap = lookup(provider, model, list(table))
    plan = _plan(config, stage, provider, cap, model)
    if provider != "handoff":
        check_temperature(stage, plan.send.get("temperature"), cap, model)
    return StageModel(stage, provider, model, cap, plan, own.base_url)


def check_temperature(stage: str, value: float | None, cap: CapabilityEntry, model: str) -> None:
    """Refuse a temperature the model would reject with a 400, naming the key to change."""
    if value is None:
        return
    low, high = cap.temperature_range
    where = "below" if value < low else "above" if value > high else ""
    if where:
        raise ConfigError(
            f"stages.{stage}.temperature = {value:g} is {where} {model}'s range "
            f"{low:g}–{high:g}; set it within the range in .specflow/config.toml "
            "(or correct the model's temperature_range in a [[capabilities]] row)."
        )


def _plan(config: Config, stage: str, provider: str, cap: CapabilityEntry, model: str) -> StagePlan:
    decoding = stage_decoding(config, stage)
    withheld: dict[str, str]
    if provider == "handoff":
        # The handoff provider sends nothing itself: it writes every setting into the prompt
        # file as a recommendation for whatever chat or agent the user pastes it into.
        send, withheld = dict(decoding.configured()), {}
    else:
        send, withheld = plan_decoding(decoding, cap, stage, model=model)
    return StagePlan(decoding, send, withheld, config.stages.get(stage).max_tokens)


def lifecycle(model: str, cap: CapabilityEntry) -> str:
    """A warning for a retired or deprecated model ("" for an active one)."""
    if cap.status == "active":
        return ""
    when = f" (end of life {cap.end_of_life})" if cap.end_of_life else ""
    if cap.status == "retired":
        return f"{model} is retired{when}: the API no longer serves it; choose a current model"
    return f"{model} is deprecated{when}: move to a current model before then"


def intent_summary(stage: str, plan: StagePlan) -> str:
    """What the stage's intent became: the settings that carry it on this model."""
    carried = ", ".join(f"{k}={v}" for k, v in plan.send.items()) or "nothing (model defaults)"
    return f"{STAGE_INTENT.get(stage, stage)} -> {carried}"


def stage_report(config: Config, env: Mapping[str, str]) -> dict[str, Any]:
    """What `specflow models --json` prints: the global provider and model, and per stage the
    provider, model, capability row, intent, what it sends and withholds (with reasons), and
    the whole table."""
    run = resolve_model(config, env)
    stages = {name: _stage_row(run.stage(name)) for name in STAGE_NAMES}
    return {
        "provider": run.provider,
        "provider_setting": config.provider,
        "model": config.model,
        "capability": None if run.provider == "handoff" else _row(run.capability),
        "stages": stages,
        "table": [_row(entry) for entry in run.table],
    }


def _stage_row(resolved: StageModel) -> dict[str, Any]:
    plan = resolved.plan
    return {
        "provider": resolved.provider,
        "model": resolved.model,
        "base_url": resolved.base_url,
        "capability": None if resolved.provider == "handoff" else _row(resolved.capability),
        "intent": STAGE_INTENT.get(resolved.stage, resolved.stage),
        "intent_became": intent_summary(resolved.stage, plan),
        "configured": plan.decoding.configured(),
        "send": plan.send,
        "withheld": plan.withheld,
        "max_tokens": plan.max_tokens,
    }


def _row(entry: CapabilityEntry) -> dict[str, Any]:
    row = entry.model_dump()
    row["temperature_range"] = list(entry.temperature_range)
    row["fallback"] = is_fallback(entry)
    return row
