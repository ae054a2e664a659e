"""Merge specflow's PreToolUse hook into .claude/settings.json, and take it out again.

Claude Code runs `hooks.PreToolUse[*].hooks[*].command` before each tool call whose name
matches the group's `matcher`; exit code 2 blocks the call and shows stderr to the model.
Docs: https://code.claude.com/docs/en/hooks

Only specflow's own entry (recognised by its command) is ever added or removed; every other
key, hook and matcher group is left as it was. A file that is not valid JSON is refused
before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from specflow.errors import UsageError

SETTINGS = ".claude/settings.json"
HOOK_COMMAND = "specflow agents hook claude"
HOOK_TIMEOUT = 600  # seconds: a review by a model can take minutes; Claude Code's default is 60
ENTRY: dict[str, Any] = {
    "matcher": "Bash",
    "hooks": [{"type": "command", "command": HOOK_COMMAND, "timeout": HOOK_TIMEOUT}],
}


def load(path: Path) -> dict[str, Any] | None:
    """The settings object, None when the file does not exist; UsageError when it is not a
    JSON object with the shape Claude Code reads."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "nothing was written. Fix the file (or move it away) and install again"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the settings must be a JSON object; nothing was written")
    _groups(path, data)  # refuse a shape we cannot merge into, before writing anything
    return data


def _groups(path: Path, data: dict[str, Any]) -> list[Any]:
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise UsageError(f"{path}: `hooks` must be an object; nothing was written")
    groups = hooks.get("PreToolUse", [])
    if not isinstance(groups, list):
        raise UsageError(f"{path}: `hooks.PreToolUse` must be a list; nothing was written")
    return groups


def _is_ours(hook: Any) -> bool:
    return isinstance(hook, dict) and hook.get("command") == HOOK_COMMAND


def has_hook(data: dict[str, Any] | None) -> bool:
    if data is None:
        return False
    groups = data.get("hooks", {}).get("PreToolUse", [])
    return any(
        _is_ours(hook)
        for group in groups
        if isinstance(group, dict) and isinstance(group.get("hooks"), list)
        for hook in group["hooks"]
    )


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def with_hook(data: dict[str, Any] | None) -> dict[str, Any]:
    """The settings with specflow's hook added (a copy; *data* is not changed)."""
    merged: dict[str, Any] = json.loads(json.dumps(data if data is not None else {}))
    merged.setdefault("hooks", {}).setdefault("PreToolUse", []).append(
        json.loads(json.dumps(ENTRY))
    )
    return merged


def without_hook(data: dict[str, Any]) -> dict[str, Any] | None:
    """The settings with specflow's hook taken out, and the groups, lists and objects that
    held only it; None when nothing at all is left."""
    result: dict[str, Any] = json.loads(json.dumps(data))
    hooks = result.get("hooks", {})
    kept = []
    for group in hooks.get("PreToolUse", []):
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            others = [hook for hook in group["hooks"] if not _is_ours(hook)]
            if not others and group["hooks"]:
                continue  # the group held only specflow's hook
            group["hooks"] = others
        kept.append(group)
    if kept:
        hooks["PreToolUse"] = kept
    else:
        hooks.pop("PreToolUse", None)
        if not hooks:
            result.pop("hooks", None)
    return result or None
