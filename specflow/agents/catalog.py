"""The coding agents specflow writes command files for: one record per agent, data only.

Everything that varies by agent (where its files go, which template renders them, how a
comment is written, how the command's argument is spelled, which shared file gets a section,
whether a pre-tool hook is merged) lives in these records; install, list and remove are
derived from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Comment = Literal["hash", "html"]

REVIEW_REPLY = ".specflow/cache/review/handoff/review.reply.md"


@dataclass(frozen=True)
class Command:
    """One specflow command an agent gets: a stage, or status/next."""

    name: str
    description: str
    argument_hint: str  # empty: the command takes no argument


COMMANDS = (
    Command("scope", "specflow scope: pointed questions, risks and a simplification", ""),
    Command("spec", "specflow spec: the spec in the template's headings, checked", ""),
    Command("implement", "specflow implement: write one file of the spec's plan", "PATH"),
    Command("review", "specflow review: a verdict on the staged change", ""),
    Command("next", "specflow status: where the task stands and what comes next", ""),
)


CHECK_OPTIONS = {"implement": " --path PATH", "review": " --staged"}


def reply_path(command: str) -> str:
    """The reply file specflow names for *command*: Workspace.handoff_reply_path, spelled
    for a person (a review's handoff files stay in the git-ignored review cache)."""
    if command == "review":
        return REVIEW_REPLY
    return f".specflow/tasks/<slug>/handoff/{command}.reply.md"


def check_command(command: str) -> str:
    """The offline check of *command*'s reply, as the agent runs it: implement against the
    file on disk (--path), review against the staged change (--staged, so the evidence rules
    apply as they do at the gate)."""
    extra = CHECK_OPTIONS.get(command, "")
    return f"specflow check {command} {reply_path(command)}{extra} --json"


@dataclass(frozen=True)
class CommandFiles:
    """An agent's one-file-per-command layout."""

    pattern: str  # the file's path, with {name} for the command's name
    template: str  # under templates/
    comment: Comment
    args: str  # how the command's argument reaches the prompt


@dataclass(frozen=True)
class OwnFile:
    """A single file of the agent's own that is entirely specflow's (a rule file)."""

    path: str
    template: str
    comment: Comment


@dataclass(frozen=True)
class Section:
    """A marked specflow section in a file other tools and people share."""

    path: str
    template: str


@dataclass(frozen=True)
class Agent:
    name: str
    title: str
    docs: str
    commands: CommandFiles | None = None
    files: tuple[OwnFile, ...] = ()
    sections: tuple[Section, ...] = ()
    claude_hook: bool = False  # merge the PreToolUse review hook into .claude/settings.json


AGENTS: dict[str, Agent] = {
    agent.name: agent
    for agent in (
        Agent(
            "claude",
            "Claude Code",
            "https://code.claude.com/docs/en/slash-commands",
            commands=CommandFiles(
                ".claude/commands/specflow-{name}.md",
                "agents/claude-command.md.j2",
                "hash",
                "$ARGUMENTS",
            ),
            sections=(Section("CLAUDE.md", "agents/claude-section.md.j2"),),
            claude_hook=True,
        ),
        Agent(
            "cursor",
            "Cursor",
            "https://cursor.com/docs/agent/chat/commands",
            commands=CommandFiles(
                ".cursor/commands/specflow-{name}.md",
                "agents/cursor-command.md.j2",
                "html",
                "the path typed after the command",
            ),
            files=(OwnFile(".cursor/rules/specflow.mdc", "agents/cursor-rule.mdc.j2", "hash"),),
        ),
        Agent(
            "copilot",
            "GitHub Copilot (VS Code)",
            "https://code.visualstudio.com/docs/copilot/customization/prompt-files",
            commands=CommandFiles(
                ".github/prompts/specflow-{name}.prompt.md",
                "agents/copilot-prompt.md.j2",
                "hash",
                "${input:path:path/to/file}",
            ),
        ),
        Agent(
            "gemini",
            "Gemini CLI",
            "https://geminicli.com/docs/cli/custom-commands",
            commands=CommandFiles(
                ".gemini/commands/specflow/{name}.toml",
                "agents/gemini-command.toml.j2",
                "hash",
                "{{args}}",
            ),
        ),
        Agent(
            "codex",
            "OpenAI Codex CLI (AGENTS.md)",
            "https://developers.openai.com/codex/guides/agents-md",
            sections=(Section("AGENTS.md", "agents/agents-section.md.j2"),),
        ),
    )
}


def resolve_names(names: tuple[str, ...] | list[str]) -> list[Agent]:
    """The agents named (or all of them for `all`), in the catalog's order, each once."""
    from specflow.errors import UsageError

    if not names:
        raise UsageError(f"name an agent: one of {', '.join(AGENTS)}, or `all`")
    if "all" in names:
        return list(AGENTS.values())
    unknown = [n for n in names if n not in AGENTS]
    if unknown:
        raise UsageError(
            f"unknown agent {', '.join(repr(n) for n in unknown)}; supported: "
            f"{', '.join(AGENTS)} (or `all`); `specflow agents list` shows where each writes"
        )
    return [agent for name, agent in AGENTS.items() if name in names]
