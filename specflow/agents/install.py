"""Install, list and remove the agents' files.

Each operation first plans every change from what is on disk (refusing bad input before a
byte is written), then applies the plan. A file is rewritten only when it carries specflow's
marker and is unchanged since specflow wrote it; a file the user edited, or one that is not
specflow's, is left alone and named, with the way to force it. `--force` keeps a copy of what
it replaces. Nothing is written when nothing changes, so a second install leaves every file
byte-identical and its mtime untouched.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.agents import claude_settings, marks
from specflow.agents.catalog import (
    AGENTS,
    COMMANDS,
    Agent,
    Comment,
    check_command,
    reply_path,
)
from specflow.errors import ConfigError, UsageError
from specflow.store.fsutil import atomic_write_text

BACKUP_SUFFIX = ".specflow-bak"


@dataclass(frozen=True)
class Generated:
    """A whole file specflow generates for an agent, rendered."""

    path: str
    text: str


@dataclass(frozen=True)
class Change:
    path: Path
    text: str | None  # None: delete the file
    note: str
    backup: bool = False


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # files left alone, and how to force them
    unchanged: list[str] = field(default_factory=list)


# -- rendering ------------------------------------------------------------------------------


def _renderer(root: Path) -> Any:
    from specflow.stages.prompts import Prompts

    return Prompts(root / ".specflow")  # .specflow/templates/agents/ overrides win


def generated_files(root: Path, agent: Agent) -> list[Generated]:
    """Every whole file the agent gets, rendered and stamped."""
    prompts = _renderer(root)
    out: list[Generated] = []
    spec = agent.commands
    if spec is not None:
        for command in COMMANDS:
            text = prompts.render(
                spec.template,
                **_variables(agent.name, spec.comment, command.name, spec.args),
                description=command.description,
                argument_hint=command.argument_hint,
                # a JSON string is a valid YAML double-quoted and TOML basic string
                quoted_description=json.dumps(command.description, ensure_ascii=False),
                quoted_hint=json.dumps(command.argument_hint, ensure_ascii=False),
            )
            out.append(Generated(spec.pattern.format(name=command.name), text))
    for own in agent.files:
        text = prompts.render(own.template, **_variables(agent.name, own.comment, "", ""))
        out.append(Generated(own.path, text))
    for item in out:
        _refuse_broken_toml(item)
    return [Generated(item.path, marks.stamp(item.text)) for item in out]


def _variables(agent: str, comment: Comment, command: str, args: str) -> dict[str, str]:
    return {
        "marker": marks.marker_line(agent, comment),
        "command": command,
        "args": args,
        "reply": reply_path(command) if command else "",
        "check": check_command(command) if command else "",
    }


def _refuse_broken_toml(item: Generated) -> None:
    """The Gemini prompt is a TOML literal string: a ''' inside it would end the string."""
    if item.path.endswith(".toml") and item.text.count("'''") != 2:
        raise ConfigError(
            f"the rendered {item.path} holds ''' inside its prompt, which ends a TOML literal "
            "string; remove it from the template (a project override in "
            ".specflow/templates/agents/?)"
        )


def section_bodies(root: Path, agent: Agent) -> list[tuple[str, str]]:
    prompts = _renderer(root)
    return [(s.path, prompts.render(s.template)) for s in agent.sections]


# -- planning -------------------------------------------------------------------------------


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def plan_install(root: Path, agent: Agent, force: bool) -> Plan:
    plan = Plan()
    for item in generated_files(root, agent):
        _plan_file(plan, root / item.path, item.path, item.text, force)
    for rel, body in section_bodies(root, agent):
        _plan_section(plan, root / rel, rel, agent.name, body, force)
    if agent.claude_hook:
        _plan_hook(plan, root)
    return plan


def _plan_file(plan: Plan, path: Path, rel: str, text: str, force: bool) -> None:
    current = _read(path)
    state = marks.file_state(current)
    if current == text:
        plan.unchanged.append(rel)
    elif state in ("missing", "ours"):
        plan.changes.append(Change(path, text, "wrote" if state == "missing" else "updated"))
    elif force:
        plan.changes.append(Change(path, text, "replaced", backup=True))
    else:
        why = "was edited since specflow wrote it" if state == "edited" else "is not specflow's"
        plan.kept.append(f"left {rel} alone: it {why} (--force replaces it, keeping a copy)")


def _plan_section(plan: Plan, path: Path, rel: str, agent: str, body: str, force: bool) -> None:
    current = _read(path)
    found = None if current is None else marks.find_block(current, agent)
    if found is not None and not found.intact and not force:
        plan.kept.append(
            f"left the specflow section of {rel} alone: it was edited since specflow wrote it "
            "(--force rewrites it, keeping a copy of the file)"
        )
        return
    text = marks.with_block(current, agent, body)
    if text == current:
        plan.unchanged.append(f"{rel} (specflow section)")
        return
    note = "added the specflow section to" if found is None else "updated the specflow section of"
    if current is None:
        note = "wrote"
    backup = found is not None and not found.intact
    plan.changes.append(Change(path, text, note, backup=backup))


def _plan_hook(plan: Plan, root: Path) -> None:
    path = root / claude_settings.SETTINGS
    data = claude_settings.load(path)
    rel = f"{claude_settings.SETTINGS} (PreToolUse hook)"
    if claude_settings.has_hook(data):
        plan.unchanged.append(rel)
        return
    text = claude_settings.dumps(claude_settings.with_hook(data))
    plan.changes.append(Change(path, text, "added the review hook to"))


def plan_remove(root: Path, agent: Agent) -> Plan:
    plan = Plan()
    for item in generated_files(root, agent):
        state = marks.file_state(_read(root / item.path))
        if state == "ours":
            plan.changes.append(Change(root / item.path, None, "removed"))
        elif state == "edited":
            plan.kept.append(
                f"left {item.path} alone: it was edited since specflow wrote it; "
                "delete it yourself if you no longer want it"
            )
    for rel, _body in section_bodies(root, agent):
        _plan_section_removal(plan, root / rel, rel, agent.name)
    if agent.claude_hook:
        _plan_hook_removal(plan, root)
    return plan


def _plan_section_removal(plan: Plan, path: Path, rel: str, agent: str) -> None:
    current = _read(path)
    found = None if current is None else marks.find_block(current, agent)
    if current is None or found is None:
        return
    if not found.intact:
        plan.kept.append(
            f"left the specflow section of {rel} alone: it was edited since specflow wrote it; "
            "delete it yourself if you no longer want it"
        )
        return
    rest = marks.without_block(current, found)
    note = "removed" if rest is None else "removed the specflow section from"
    plan.changes.append(Change(path, rest, note))


def _plan_hook_removal(plan: Plan, root: Path) -> None:
    path = root / claude_settings.SETTINGS
    data = claude_settings.load(path)
    if data is None or not claude_settings.has_hook(data):
        return
    rest = claude_settings.without_hook(data)
    text = None if rest is None else claude_settings.dumps(rest)
    note = "removed" if text is None else "removed the review hook from"
    plan.changes.append(Change(path, text, note))


# -- applying -------------------------------------------------------------------------------


def apply(root: Path, plan: Plan) -> list[str]:
    """Make the planned changes; return what was done, line by line."""
    done: list[str] = []
    for change in plan.changes:
        rel = change.path.relative_to(root).as_posix()
        line = f"{change.note} {rel}"
        if change.backup and change.path.exists():
            copy = _free_name(change.path)
            shutil.copy2(change.path, copy)
            line += f" (the previous version is kept as {copy.relative_to(root).as_posix()})"
        if change.text is None:
            change.path.unlink()
            _prune_empty_dirs(change.path.parent, root)
        else:
            atomic_write_text(change.path, change.text)
        done.append(line)
    return done


def _free_name(path: Path) -> Path:
    candidate = path.with_name(path.name + BACKUP_SUFFIX)
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}{BACKUP_SUFFIX}{number}")
        number += 1
    return candidate


def _prune_empty_dirs(folder: Path, root: Path) -> None:
    """Remove the folders a removal emptied (.gemini/commands/specflow/, ...), up to root."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): stop here
        folder = folder.parent


@dataclass
class Outcome:
    done: list[str]
    kept: list[str]


def install(root: Path, agents: list[Agent], force: bool = False) -> Outcome:
    """Install *agents*; every plan is made before anything is written."""
    return _run(root, agents, [plan_install(root, agent, force) for agent in agents])


def remove(root: Path, agents: list[Agent]) -> Outcome:
    """Remove exactly what install wrote for *agents*."""
    return _run(root, agents, [plan_remove(root, agent) for agent in agents])


def _run(root: Path, agents: list[Agent], plans: list[Plan]) -> Outcome:
    outcome = Outcome([], [])
    for agent, plan in zip(agents, plans, strict=True):
        outcome.done.extend(f"{agent.name}: {line}" for line in apply(root, plan))
        if plan.unchanged and not plan.changes:
            outcome.done.append(f"{agent.name}: up to date ({len(plan.unchanged)} file(s))")
        elif not plan.changes and not plan.kept:
            outcome.done.append(f"{agent.name}: nothing to do")
        outcome.kept.extend(f"{agent.name}: {line}" for line in plan.kept)
    return outcome


# -- listing --------------------------------------------------------------------------------


def where(agent: Agent) -> list[str]:
    """Where the agent's files go, for `specflow agents list`."""
    places: list[str] = []
    if agent.commands is not None:
        places.append(agent.commands.pattern.replace("{name}", "*"))
    places.extend(own.path for own in agent.files)
    places.extend(f"{s.path} (specflow section)" for s in agent.sections)
    if agent.claude_hook:
        places.append(f"{claude_settings.SETTINGS} (PreToolUse hook on Bash)")
    return places


def installed_state(root: Path, agent: Agent) -> str:
    """`yes` when every file of the agent is there, `partly` when some are, else `no`."""
    present = [
        marks.file_state(_read(root / item.path)) in ("ours", "edited")
        for item in generated_files(root, agent)
    ]
    for rel, _body in section_bodies(root, agent):
        text = _read(root / rel)
        present.append(text is not None and marks.find_block(text, agent.name) is not None)
    if agent.claude_hook:
        try:
            settings = claude_settings.load(root / claude_settings.SETTINGS)
        except UsageError:  # a broken settings file: the hook is not in force
            settings = None
        present.append(claude_settings.has_hook(settings))
    if all(present):
        return "yes"
    return "partly" if any(present) else "no"


def list_rows(root: Path) -> list[dict[str, Any]]:
    return [
        {
            "name": agent.name,
            "title": agent.title,
            "installed": installed_state(root, agent),
            "files": where(agent),
            "docs": agent.docs,
        }
        for agent in AGENTS.values()
    ]
