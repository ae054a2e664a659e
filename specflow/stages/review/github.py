"""`--format github`: workflow-command annotations per finding and a Markdown step summary.

GitHub Actions reads `::error file=PATH,line=N,title=TITLE::message` lines from a step's
output and shows them on the pull request's diff; a finding at or above the threshold is an
error, one below it a warning. The summary goes to the file $GITHUB_STEP_SUMMARY names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from specflow.stages.records import SEVERITIES
from specflow.ui import notice


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


def github_annotations(data: Mapping[str, Any]) -> str:
    """One annotation line per finding, then one line for the outcome."""
    threshold = str(data.get("threshold") or "MAJOR")
    lines = []
    for f in data.get("findings", []):
        level = "error" if _at_or_above(f["severity"], threshold) else "warning"
        props = [f"file={_escape_property(f['path'])}"]
        if f.get("line"):
            props.append(f"line={int(f['line'])}")
        props.append(f"title={_escape_property(f['severity'] + ' ' + f['rule'])}")
        evidence = f" Evidence: `{f['evidence']}`" if f.get("evidence") else ""
        message = f"{f['message'].rstrip('.')}.{evidence}"
        lines.append(f"::{level} {','.join(props)}::{_escape_data(message)}")
    outcome = str(data.get("outcome", ""))
    reason = str(data.get("reason") or "")
    level = {"PASS": "notice", "NOT REVIEWED": "warning"}.get(outcome, "error")
    title = _escape_property(f"specflow review: {outcome}")
    lines.append(f"::{level} title={title}::{_escape_data(reason or outcome)}")
    return "\n".join(lines) + "\n"


def summary(data: Mapping[str, Any]) -> str:
    """The Markdown step summary: the outcome, why, and a table of findings."""
    outcome = str(data.get("outcome", ""))
    lines = [f"## specflow review: {outcome}", ""]
    if data.get("reason"):
        lines += [str(data["reason"]), ""]
    if data.get("next_command"):
        lines += [f"To review it: `{data['next_command']}`", ""]
    findings = data.get("findings", [])
    if findings:
        lines += ["| severity | where | rule | finding |", "|---|---|---|---|"]
        for f in findings:
            where = f"{f['path']}:{f['line']}" if f.get("line") else f["path"]
            cells = [f["severity"], f"`{where}`", f["rule"], f["message"]]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    else:
        lines.append("No findings.")
    return "\n".join(lines) + "\n"


def append_summary(data: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """Append summary(data) to $GITHUB_STEP_SUMMARY when it is set; the path, or None."""
    path = env.get("GITHUB_STEP_SUMMARY", "").strip()
    if not path:
        return None
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.write(summary(data) + "\n")
    except OSError as exc:  # the annotations are printed already; the outcome stands
        notice(f"review: could not append the summary to $GITHUB_STEP_SUMMARY ({path}): {exc}")
        return None
    return path
