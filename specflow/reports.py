"""Plain-text renderings of `specflow models` and `specflow log`, and the log's cost figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from specflow.config import CapabilityEntry, Config, resolve_provider_name
from specflow.providers.base import Usage
from specflow.providers.capabilities import estimate_cost, lifecycle, load_table, lookup
from specflow.store.transcript import Exchange, summarize


def stage_models(records: list[Exchange]) -> dict[str, list[str]]:
    """Per stage, the models its exchanges went to (in order of first use)."""
    seen: dict[str, list[str]] = {}
    for r in records:
        if r.kind == "test":
            continue
        models = seen.setdefault(r.stage, [])
        if r.model not in models:
            models.append(r.model)
    return seen


def cost_on(records: list[Exchange], cap: CapabilityEntry) -> float:
    """What the task's model exchanges would have cost at *cap*'s prices."""
    total = 0.0
    for r in records:
        if r.kind == "test":
            continue
        usage = Usage(
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cache_read_tokens=r.cache_read_tokens,
            cache_write_tokens=r.cache_write_tokens,
        )
        total += estimate_cost(usage, cap)
    return round(total, 6)


def log_report(records: list[Exchange], config: Config, env: Mapping[str, str]) -> dict[str, Any]:
    """What `specflow log --json` prints: per stage the summary (its cost at its own model's
    prices) with the models it used, and the cost on the global model for every stage."""
    summary = summarize(records)
    for stage, models in stage_models(records).items():
        summary[stage]["models"] = models
    provider = resolve_provider_name(config, env)
    global_cap = lookup(provider, config.model, load_table(config.capabilities))
    comparison = {
        "cost_usd": round(sum(s["cost_usd"] for s in summary.values()), 6),
        "global_model": config.model,
        "global_cost_usd": cost_on(records, global_cap),
    }
    return {"stages": summary, "comparison": comparison}


def format_log(
    slug: str,
    summary: dict[str, dict[str, Any]],
    comparison: dict[str, Any] | None = None,
) -> str:
    """The per-stage table (cost at each stage's own model's prices) and, when given, the
    line comparing the task's cost with the global model for every stage."""
    if not summary:
        return f"Task {slug}: no model exchanges yet.\n"
    lines = [
        f"Task {slug}",
        f"{'stage':<10} {'calls':>5} {'retries':>7} {'input':>9} {'output':>8} "
        f"{'cache read':>10} {'reanchors':>9} {'resets':>6} {'cost $':>9}  model",
    ]
    for stage, s in summary.items():
        about = "~" if s.get("estimated") else ""
        sent, got = f"{about}{s['input_tokens']:,}", f"{about}{s['output_tokens']:,}"
        lines.append(
            f"{stage:<10} {s['calls']:>5} {s['retries']:>7} {sent:>9} {got:>8} "
            f"{s['cache_read_share']:>10.0%} {s['reanchors']:>9} {s['resets']:>6} "
            f"{s['cost_usd']:>9.4f}  {', '.join(s.get('models', []))}"
        )
    if comparison is not None:
        lines.append(
            f"total ${comparison['cost_usd']:.4f}; on {comparison['global_model']} for every "
            f"stage: ${comparison['global_cost_usd']:.4f}"
        )
    if any(s.get("estimated") for s in summary.values()):
        lines.append("~ estimated: replies brought with --reply (handoff) have no token count")
    for stage, s in summary.items():
        if s.get("skipped"):
            lines.append(f"{stage}: skipped {s['skipped']} time(s) (SPECFLOW_SKIP_REVIEW or SKIP)")
        if s.get("overrides"):
            lines.append(f"{stage}: {s['overrides']} refusal(s) overridden (--allow-stale-spec)")
    return "\n".join(lines) + "\n"


def format_models(report: dict[str, Any]) -> str:
    provider = report.get("provider")
    lines = [
        f"provider: {provider} (setting: {report.get('provider_setting')})   "
        f"model: {report.get('model')}"
    ]
    cap = report.get("capability") or {}
    if cap:
        lines.append(f"capability row: {_describe_row(cap)}")
    lines.append("")
    for stage, info in (report.get("stages") or {}).items():
        lines += _stage_lines(stage, info)
    if any(info.get("provider") == "handoff" for info in (report.get("stages") or {}).values()):
        lines.append("(handoff: the settings are written into the prompt file for you to set)")
    rows = report.get("table") or []
    if rows:
        lines += ["", "capability table (first match wins; extend it with [[capabilities]]):"]
        for row in rows:
            honours = ", ".join(row["honours"]) or "-"
            low, high = row["temperature_range"]
            status = "" if row["status"] == "active" else f"  {row['status']}"
            status += f" {row['end_of_life']}" if row["end_of_life"] else ""
            lines.append(
                f"  {row['provider']:<9} {row['match']:<24} {honours:<32} "
                f"{row['context_window']:>9,}  ${row['price_input']}/{row['price_output']} per M"
                f"  temp {low:g}-{high:g}{status}"
            )
    return "\n".join(lines) + "\n"


def _describe_row(cap: dict[str, Any]) -> str:
    honours = ", ".join(cap.get("honours", [])) or "nothing"
    return (
        f"{cap.get('provider')} `{cap.get('match')}`, honours {honours}, "
        f"context window {cap.get('context_window', 0):,} tokens"
    )


def _stage_lines(stage: str, info: dict[str, Any]) -> list[str]:
    handoff = info.get("provider") == "handoff"
    where = f" at {info['base_url']}" if info.get("base_url") else ""
    verb = "recommends" if handoff else "sends"
    send = ", ".join(f"{k}={v}" for k, v in (info.get("send") or {}).items()) or "nothing"
    lines = [
        f"{stage:<10} {info.get('provider')} {info.get('model')}{where}",
        f"{'':<10} {verb} {send}, max_tokens={info.get('max_tokens')}",
    ]
    for knob, why in (info.get("withheld") or {}).items():
        lines.append(f"{'':<10} not honoured: {knob} ({why})")
    if not handoff:
        lines.append(f"{'':<10} intent: {info.get('intent_became')}")
    cap = info.get("capability") or {}
    if cap and cap.get("status", "active") != "active":
        row = CapabilityEntry.model_validate({k: v for k, v in cap.items() if k != "fallback"})
        lines.append(f"{'':<10} warning: {lifecycle(str(info.get('model')), row)}")
    return lines
