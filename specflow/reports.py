"""Plain-text renderings of `specflow models` and `specflow log`."""

from __future__ import annotations

from typing import Any


def format_log(slug: str, summary: dict[str, dict[str, Any]]) -> str:
    if not summary:
        return f"Task {slug}: no model exchanges yet.\n"
    lines = [
        f"Task {slug}",
        f"{'stage':<10} {'calls':>5} {'retries':>7} {'input':>9} {'output':>8} "
        f"{'cache read':>10} {'reanchors':>9} {'resets':>6} {'cost $':>9}",
    ]
    for stage, s in summary.items():
        about = "~" if s.get("estimated") else ""
        sent, got = f"{about}{s['input_tokens']:,}", f"{about}{s['output_tokens']:,}"
        lines.append(
            f"{stage:<10} {s['calls']:>5} {s['retries']:>7} {sent:>9} {got:>8} "
            f"{s['cache_read_share']:>10.0%} {s['reanchors']:>9} {s['resets']:>6} "
            f"{s['cost_usd']:>9.4f}"
        )
    if any(s.get("estimated") for s in summary.values()):
        lines.append("~ estimated: replies brought with --reply (handoff) have no token count")
    return "\n".join(lines) + "\n"


def format_models(report: dict[str, Any]) -> str:
    provider = report.get("provider")
    lines = [
        f"provider: {provider} (setting: {report.get('provider_setting')})   "
        f"model: {report.get('model')}"
    ]
    cap = report.get("capability") or {}
    if cap:
        honours = ", ".join(cap.get("honours", [])) or "nothing"
        lines.append(
            f"capability row: {cap.get('provider')} `{cap.get('match')}`, honours {honours}, "
            f"context window {cap.get('context_window', 0):,} tokens"
        )
    lines.append("")
    verb = "recommends" if provider == "handoff" else "sends"
    for stage, info in (report.get("stages") or {}).items():
        send = ", ".join(f"{k}={v}" for k, v in (info.get("send") or {}).items()) or "nothing"
        lines.append(f"{stage:<10} {verb} {send}, max_tokens={info.get('max_tokens')}")
        for knob, why in (info.get("withheld") or {}).items():
            lines.append(f"{'':<10} not honoured: {knob} ({why})")
    if provider == "handoff":
        lines.append("(handoff: the settings are written into the prompt file for you to set)")
    rows = report.get("table") or []
    if rows:
        lines += ["", "capability table (first match wins; extend it with [[capabilities]]):"]
        for row in rows:
            honours = ", ".join(row["honours"]) or "-"
            lines.append(
                f"  {row['provider']:<9} {row['match']:<24} {honours:<32} "
                f"{row['context_window']:>9,}  ${row['price_input']}/{row['price_output']} per M"
            )
    return "\n".join(lines) + "\n"
