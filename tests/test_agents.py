"""`specflow agents`: command files for each coding agent, and the Claude Code review hook."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from specflow.agents.catalog import AGENTS, COMMANDS
from specflow.agents.claude_hook import Commit, find_commit
from specflow.cli import cli
from tests.conftest import git

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

HOOK_COMMAND = "specflow agents hook claude"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file outside .git: its bytes and mtime."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(root).parts:
            found[path.relative_to(root).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    assert text.startswith("---\n"), text[:80]
    head, _, body = text[4:].partition("\n---\n")
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data, body


def command_file(agent: str, command: str) -> str:
    spec = AGENTS[agent].commands
    assert spec is not None
    return spec.pattern.format(name=command)


# -- what each agent's files say, parsed with the right parser -----------------------------


STAGE_LINES = {
    "scope": [
        "specflow prompt scope",
        "specflow check scope .specflow/tasks/<slug>/handoff/scope.reply.md --json",
        "specflow scope --reply .specflow/tasks/<slug>/handoff/scope.reply.md",
    ],
    "spec": [
        "specflow prompt spec",
        "specflow check spec .specflow/tasks/<slug>/handoff/spec.reply.md --json",
        "specflow spec --reply .specflow/tasks/<slug>/handoff/spec.reply.md",
    ],
    "implement": [
        "specflow prompt implement --file PATH",
        "specflow check implement .specflow/tasks/<slug>/handoff/implement.reply.md --path PATH "
        "--json",
        "specflow implement --file PATH --reply .specflow/tasks/<slug>/handoff/implement.reply.md",
    ],
    "review": [
        "specflow prompt review --staged",
        "specflow check review .specflow/cache/review/handoff/review.reply.md --staged --json",
        "specflow review --staged --reply .specflow/cache/review/handoff/review.reply.md",
    ],
    "next": ["specflow status --json"],
}


def assert_instructions(command: str, body: str) -> None:
    flat = " ".join(body.split())
    for line in STAGE_LINES[command]:
        assert line in flat, f"{command}: `{line}` missing"
    assert "Never create, edit or delete anything under `.specflow/` by hand" in flat
    if command != "next":
        assert "While `ok` is `false`, fix every violation" in flat


def test_claude_commands_are_markdown_with_front_matter(repo: Path) -> None:
    assert run("agents", "install", "claude").exit_code == 0
    for command in COMMANDS:
        data, body = front_matter((repo / command_file("claude", command.name)).read_text())
        assert data["description"] == command.description
        assert "Bash(specflow:*)" in data["allowed-tools"]
        assert data.get("argument-hint", "") == command.argument_hint
        assert_instructions(command.name, body)
    _, body = front_matter((repo / ".claude/commands/specflow-implement.md").read_text())
    assert "for one file: $ARGUMENTS." in body
    settings = json.loads((repo / ".claude/settings.json").read_text())
    (group,) = settings["hooks"]["PreToolUse"]
    assert group["matcher"] == "Bash"
    assert group["hooks"] == [{"type": "command", "command": HOOK_COMMAND, "timeout": 600}]
    claude_md = (repo / "CLAUDE.md").read_text()
    assert "/specflow-implement PATH" in claude_md and "PreToolUse" in claude_md


def test_copilot_prompt_files_have_front_matter_and_an_input(repo: Path) -> None:
    assert run("agents", "install", "copilot").exit_code == 0
    for command in COMMANDS:
        text = (repo / command_file("copilot", command.name)).read_text()
        data, body = front_matter(text)
        assert data["description"] == command.description
        assert data["agent"] == "agent"
        assert_instructions(command.name, body)
    _, body = front_matter((repo / ".github/prompts/specflow-implement.prompt.md").read_text())
    assert "${input:path:path/to/file}" in body


def test_gemini_commands_are_toml_with_a_prompt_and_args(repo: Path) -> None:
    assert run("agents", "install", "gemini").exit_code == 0
    for command in COMMANDS:
        path = repo / ".gemini" / "commands" / "specflow" / f"{command.name}.toml"
        data = tomllib.loads(path.read_text())
        assert set(data) == {"description", "prompt"}
        assert data["description"] == command.description
        assert_instructions(command.name, data["prompt"])
    implement = tomllib.loads((repo / ".gemini/commands/specflow/implement.toml").read_text())
    assert "{{args}}" in implement["prompt"]


def test_cursor_commands_are_plain_markdown_and_the_rule_has_front_matter(repo: Path) -> None:
    assert run("agents", "install", "cursor").exit_code == 0
    for command in COMMANDS:
        text = (repo / command_file("cursor", command.name)).read_text()
        first, _, body = text.partition("\n")
        assert first.startswith("<!-- specflow:generated agent=cursor sha256=")
        assert not text.startswith("---")
        assert_instructions(command.name, body)
    data, body = front_matter((repo / ".cursor/rules/specflow.mdc").read_text())
    assert data["alwaysApply"] is True and data["description"].startswith("specflow:")
    assert "/specflow-implement PATH" in body


def test_codex_gets_a_marked_section_in_agents_md(repo: Path) -> None:
    assert run("agents", "install", "codex").exit_code == 0
    text = (repo / "AGENTS.md").read_text()
    assert text.startswith("<!-- specflow:begin agent=codex sha256=")
    assert text.endswith("<!-- specflow:end agent=codex -->\n")
    flat = " ".join(text.split())
    for needed in (
        "specflow check STAGE REPLY --json",
        "specflow implement --file PATH --reply REPLY",
        "specflow review --staged --reply REPLY",
        "Never create, edit or delete anything under `.specflow/` by hand",
    ):
        assert needed in flat


# -- idempotence, user edits, shared files, remove, for every agent --------------------------


@pytest.mark.parametrize("agent", list(AGENTS))
def test_second_install_changes_nothing(repo: Path, agent: str) -> None:
    first = run("agents", "install", agent)
    assert first.exit_code == 0, first.output
    before = tree(repo)
    second = run("agents", "install", agent)
    assert second.exit_code == 0
    assert second.output.startswith(f"{agent}: up to date")
    assert tree(repo) == before


@pytest.mark.parametrize("agent", list(AGENTS))
def test_remove_takes_out_exactly_what_install_wrote(repo: Path, agent: str) -> None:
    (repo / ".claude").mkdir()
    (repo / ".claude" / "mine.txt").write_text("the user's\n")
    (repo / "AGENTS.md").write_text("# Our agents\n\nBe kind.\n")
    (repo / "CLAUDE.md").write_text("Use tabs.")  # no final newline
    before = tree(repo)
    assert run("agents", "install", agent).exit_code == 0
    assert tree(repo) != before
    removed = run("agents", "remove", agent)
    assert removed.exit_code == 0, removed.output
    after = tree(repo)
    expected = {k: v[0] for k, v in before.items()}
    if agent == "claude":  # the missing final newline is the one byte remove cannot know
        expected["CLAUDE.md"] = b"Use tabs.\n"
    assert {k: v[0] for k, v in after.items()} == expected
    assert not (repo / ".gemini").exists() and not (repo / ".github").exists()
    assert not (repo / ".cursor").exists()


@pytest.mark.parametrize("agent", ["claude", "cursor", "copilot", "gemini"])
def test_an_edited_command_file_is_left_alone_until_forced(repo: Path, agent: str) -> None:
    run("agents", "install", agent)
    path = repo / command_file(agent, "scope")
    edited = path.read_text().replace("Run the specflow", "Run OUR specflow")
    path.write_text(edited)
    again = run("agents", "install", agent)
    assert again.exit_code == 1
    rel = command_file(agent, "scope")
    assert f"{agent}: left {rel} alone: it was edited since specflow wrote it (--force" in (
        again.output
    )
    assert path.read_text() == edited
    removed = run("agents", "remove", agent)
    assert removed.exit_code == 1 and path.read_text() == edited
    assert f"left {rel} alone" in removed.output
    run("agents", "install", agent)
    forced = run("agents", "install", agent, "--force")
    assert forced.exit_code == 0, forced.output
    assert f"replaced {rel} (the previous version is kept as {rel}.specflow-bak)" in forced.output
    assert "Run OUR specflow" not in path.read_text()
    assert (repo / f"{rel}.specflow-bak").read_text() == edited


def test_a_file_that_is_not_specflows_is_never_overwritten(repo: Path) -> None:
    mine = repo / ".claude" / "commands" / "specflow-spec.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own command\n")
    result = run("agents", "install", "claude")
    assert result.exit_code == 1
    assert "left .claude/commands/specflow-spec.md alone: it is not specflow's" in result.output
    assert mine.read_text() == "my own command\n"
    assert (repo / ".claude/commands/specflow-scope.md").is_file()  # the rest went in
    run("agents", "remove", "claude")
    assert mine.read_text() == "my own command\n"


def test_shared_file_section_is_updated_in_place_and_user_text_kept(repo: Path) -> None:
    agents_md = repo / "AGENTS.md"
    agents_md.write_text("# House rules\n\nRun the tests.\n")
    run("agents", "install", "codex")
    text = agents_md.read_text()
    assert text.startswith("# House rules\n\nRun the tests.\n\n<!-- specflow:begin agent=codex")
    # the user adds text after the section; a newer template changes the section
    agents_md.write_text(text + "\n## Later\n\nMore rules.\n")
    override = repo / ".specflow" / "templates" / "agents" / "agents-section.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text("## specflow\n\nA newer section.\n")
    updated = run("agents", "install", "codex")
    assert updated.output == "codex: updated the specflow section of AGENTS.md\n"
    text = agents_md.read_text()
    assert text.startswith("# House rules\n\nRun the tests.\n\n<!-- specflow:begin")
    assert "## specflow\n\nA newer section.\n<!-- specflow:end agent=codex -->\n" in text
    assert text.endswith("\n## Later\n\nMore rules.\n")
    assert "Every stage: prompt, reply, check" not in text
    run("agents", "remove", "codex")
    assert agents_md.read_text() == "# House rules\n\nRun the tests.\n\n## Later\n\nMore rules.\n"


def test_a_shared_file_specflow_created_goes_when_emptied(repo: Path) -> None:
    run("agents", "install", "codex")
    run("agents", "remove", "codex")
    assert not (repo / "AGENTS.md").exists()
    run("agents", "install", "codex")
    agents_md = repo / "AGENTS.md"
    agents_md.write_text(agents_md.read_text() + "\nMine.\n")
    run("agents", "remove", "codex")
    assert agents_md.read_text() == "\nMine.\n"


def test_a_template_that_breaks_toml_is_refused_before_writing(repo: Path) -> None:
    override = repo / ".specflow" / "templates" / "agents" / "steps-spec.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text("say ''' here\n")
    before = tree(repo)
    result = CliRunner().invoke(cli, ["agents", "install", "gemini"])
    assert result.exit_code == 2
    assert "the rendered .gemini/commands/specflow/spec.toml holds ''' inside its prompt" in (
        result.output
    )
    assert tree(repo) == before


def test_an_edited_section_is_left_alone(repo: Path) -> None:
    run("agents", "install", "codex")
    agents_md = repo / "AGENTS.md"
    edited = agents_md.read_text().replace("## specflow", "## specflow (ours)")
    agents_md.write_text(edited)
    result = run("agents", "install", "codex")
    assert result.exit_code == 1
    assert "left the specflow section of AGENTS.md alone: it was edited" in result.output
    assert agents_md.read_text() == edited
    assert run("agents", "remove", "codex").exit_code == 1
    assert agents_md.read_text() == edited
    forced = run("agents", "install", "codex", "--force")
    assert forced.exit_code == 0
    assert "## specflow (ours)" not in agents_md.read_text()
    assert (repo / "AGENTS.md.specflow-bak").read_text() == edited


def test_a_changed_template_updates_an_untouched_file(repo: Path) -> None:
    run("agents", "install", "gemini")
    override = repo / ".specflow" / "templates" / "agents" / "steps-scope.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text("Our own scope steps: specflow prompt scope\n")
    result = run("agents", "install", "gemini")
    assert result.output == "gemini: updated .gemini/commands/specflow/scope.toml\n"
    data = tomllib.loads((repo / ".gemini/commands/specflow/scope.toml").read_text())
    assert data["prompt"] == "Our own scope steps: specflow prompt scope\n"


def test_eject_copies_the_agent_templates(repo: Path) -> None:
    result = run("agents", "eject")
    assert result.exit_code == 0
    assert "copied templates/agents/claude-command.md.j2 to " in result.output
    ejected = repo / ".specflow/templates/agents/claude-command.md.j2"
    assert "https://code.claude.com/docs/" in ejected.read_text()
    ejected.write_text("mine")
    assert "exists; kept the project's version" in run("agents", "eject").output
    assert ejected.read_text() == "mine"


def test_init_eject_copies_the_agent_templates_and_keeps_the_projects(repo: Path) -> None:
    packaged = Path(__file__).resolve().parent.parent / "templates" / "agents"
    ejected = repo / ".specflow/templates/agents"
    ejected.mkdir(parents=True)
    (ejected / "steps-scope.md.j2").write_text("Our own scope steps: specflow prompt scope\n")
    result = run("init", "--eject")
    assert result.exit_code == 0
    names = sorted(p.name for p in packaged.glob("*.j2"))
    assert sorted(p.name for p in ejected.iterdir()) == names
    for name in names:
        if name != "steps-scope.md.j2":
            assert (ejected / name).read_text() == (packaged / name).read_text(), name
    assert "copied templates/agents/claude-command.md.j2 to " in result.output
    assert ".specflow/templates/agents/steps-scope.md.j2 exists; kept the project's version" in (
        result.output
    )
    assert (ejected / "steps-scope.md.j2").read_text().startswith("Our own scope steps")
    assert (repo / ".specflow/templates/scope.md.j2").is_file()  # the top level still goes


# -- every `specflow ...` a generated file tells the agent to run exists -------------------

CODE = re.compile(r"```[a-z]*\n(.*?)```|`([^`]+)`", re.DOTALL)
INVOCATION = re.compile(r"(?<![\w./-])specflow\s+[^`|;&\n]*")
PLACEHOLDER = re.compile(r"[A-Z][A-Z_.]*|\.\.\.|<[a-z]+>")


def invocations(text: str) -> list[str]:
    """The `specflow ...` commands inside the inline code and code blocks of *text*."""
    found = []
    for block, span in CODE.findall(text):
        for line in (block or span).splitlines() if block else [" ".join(span.split())]:
            found.extend(m.group(0).strip() for m in INVOCATION.finditer(line))
    return found


def invocation_errors(command_line: str) -> list[str]:
    """What in *command_line* the click command tree does not accept (placeholders such as
    PATH, REPLY or ... stand for any value)."""
    words = shlex.split(command_line)[1:]
    command: click.Command = cli
    while isinstance(command, click.Group) and words and words[0] in command.commands:
        command = command.commands[words.pop(0)]
    if isinstance(command, click.Group):
        return [f"`{command_line}`: `{command.name}` needs a subcommand, got {words[:1]}"]
    options = {n: p for p in command.params if isinstance(p, click.Option) for n in p.opts}
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    errors, positionals = [], []
    while words:
        word = words.pop(0)
        if not word.startswith("-") or word == "-":
            positionals.append(word)
            continue
        name, _, inline = word.partition("=")
        option = options.get(name)
        if option is None:
            errors.append(f"`{command_line}`: `{command.name}` has no option {name}")
        elif not option.is_flag and not inline:
            if not words:
                errors.append(f"`{command_line}`: {name} needs a value")
            else:
                words.pop(0)
    variadic = any(a.nargs == -1 for a in arguments)
    if len(positionals) > len(arguments) and not variadic:
        errors.append(f"`{command_line}`: `{command.name}` takes {len(arguments)} arguments")
    missing = [a.name for a in arguments[len(positionals) :] if a.required]
    if missing:
        errors.append(f"`{command_line}`: `{command.name}` needs {', '.join(map(str, missing))}")
    for argument, value in zip(arguments, positionals, strict=False):
        choices = getattr(argument.type, "choices", None)
        if choices and not PLACEHOLDER.fullmatch(value) and value not in choices:
            errors.append(f"`{command_line}`: {value!r} is not one of {list(choices)}")
    return errors


def test_the_invocation_check_catches_what_does_not_exist() -> None:
    text = (
        "Run `specflow review --staged --provider-handoff`, then `specflow next --prompt`, "
        "`specflow check stage FILE`, `specflow agents`, `specflow prompt` and\n"
        "```sh\nspecflow scope EXTRA\n```\n"
        "but not the specflow scope command, `.specflow/x` or `SPECFLOW_SKIP_REVIEW`."
    )
    found = invocations(text)
    assert found == [
        "specflow review --staged --provider-handoff",
        "specflow next --prompt",
        "specflow check stage FILE",
        "specflow agents",
        "specflow prompt",
        "specflow scope EXTRA",
    ]
    assert [len(invocation_errors(line)) for line in found] == [1, 1, 1, 1, 1, 1]
    assert invocation_errors("specflow check STAGE REPLY --path PATH --json") == []
    assert invocation_errors("specflow implement --file PATH --reply REPLY") == []


def generated_paths() -> list[str]:
    """Every file `agents install all` writes or adds a section to, from the catalog."""
    paths = []
    for agent in AGENTS.values():
        if agent.commands is not None:
            paths += [agent.commands.pattern.format(name=c.name) for c in COMMANDS]
        paths += [own.path for own in agent.files] + [section.path for section in agent.sections]
        paths += [".claude/settings.json"] if agent.claude_hook else []
    return paths


def test_every_generated_file_runs_only_commands_and_flags_that_exist(repo: Path) -> None:
    assert run("agents", "install", "all").exit_code == 0
    seen: dict[str, list[str]] = {}
    for rel in generated_paths():
        text = (repo / rel).read_text()
        if rel.endswith("settings.json"):
            groups = json.loads(text)["hooks"]["PreToolUse"]
            seen[rel] = [hook["command"] for group in groups for hook in group["hooks"]]
        else:
            seen[rel] = invocations(text)
    assert len(seen) == 5 * 4 + 4  # four agents' command files; cursor's rule; 2 sections; hook
    assert all(seen.values()), [rel for rel, found in seen.items() if not found]
    errors = [
        error for found in seen.values() for line in found for error in invocation_errors(line)
    ]
    assert errors == []
    every = {" ".join(line.split()[:3]) for found in seen.values() for line in found}
    for expected in (
        "specflow prompt review",
        "specflow check review",
        "specflow review --staged",
        "specflow implement --file",
        "specflow status --json",
        "specflow agents hook",
    ):
        assert expected in every, expected
    assert not any("--provider" in line for found in seen.values() for line in found)


def test_every_template_cites_its_documentation() -> None:
    folder = Path(__file__).resolve().parent.parent / "templates" / "agents"
    for template in folder.glob("*.j2"):
        if not template.name.startswith(("_", "steps-")):
            head = template.read_text().split("-#}", 1)[0]
            assert "Docs: https://" in head, template.name


def test_list_shows_agents_installed_state_and_places(repo: Path) -> None:
    run("agents", "install", "cursor")
    (repo / ".cursor/rules/specflow.mdc").unlink()
    run("agents", "install", "codex")
    rows = {r["name"]: r for r in json.loads(run("agents", "list", "--json").output)["agents"]}
    assert list(rows) == ["claude", "cursor", "copilot", "gemini", "codex"]
    assert [rows[n]["installed"] for n in rows] == ["no", "partly", "no", "no", "yes"]
    assert rows["claude"]["files"] == [
        ".claude/commands/specflow-*.md",
        "CLAUDE.md (specflow section)",
        ".claude/settings.json (PreToolUse hook on Bash)",
    ]
    text = run("agents", "list").output
    assert "codex    yes     OpenAI Codex CLI (AGENTS.md)\n" in text
    assert "                 .gemini/commands/specflow/*.toml\n" in text


def test_install_all_and_unknown_names(repo: Path) -> None:
    result = run("agents", "install", "all")
    assert result.exit_code == 0
    assert {line.split(":")[0] for line in result.output.splitlines()} == set(AGENTS)
    bad = CliRunner().invoke(cli, ["agents", "install", "claude", "aider"])
    assert bad.exit_code == 2
    assert "unknown agent 'aider'; supported: claude, cursor, copilot, gemini, codex" in (
        bad.output
    )


# -- .claude/settings.json -------------------------------------------------------------------


def test_settings_merge_keeps_other_hooks_and_keys(repo: Path) -> None:
    path = repo / ".claude" / "settings.json"
    path.parent.mkdir()
    original = {
        "model": "opus",
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {
            "PreToolUse": [
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}
            ],
            "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "fmt"}]}],
        },
    }
    path.write_text(json.dumps(original))
    run("agents", "install", "claude")
    merged = json.loads(path.read_text())
    assert merged["model"] == "opus" and merged["permissions"] == original["permissions"]
    assert merged["hooks"]["PostToolUse"] == original["hooks"]["PostToolUse"]
    assert merged["hooks"]["PreToolUse"][0] == original["hooks"]["PreToolUse"][0]
    assert merged["hooks"]["PreToolUse"][1]["hooks"][0]["command"] == HOOK_COMMAND
    run("agents", "remove", "claude")
    assert json.loads(path.read_text()) == original


def test_invalid_settings_json_writes_nothing(repo: Path) -> None:
    path = repo / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"hooks": {,}}')
    before = tree(repo)
    result = CliRunner().invoke(cli, ["agents", "install", "claude", "codex"])
    assert result.exit_code == 2
    assert (
        f"error: {path}: not valid JSON (line 1, column 12: Expecting property name"
        in result.output
    )
    assert "nothing was written" in result.output
    assert tree(repo) == before


def test_settings_with_a_wrong_shape_are_refused(repo: Path) -> None:
    path = repo / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"hooks": {"PreToolUse": {"matcher": "Bash"}}}')
    result = CliRunner().invoke(cli, ["agents", "install", "claude"])
    assert result.exit_code == 2
    assert "`hooks.PreToolUse` must be a list; nothing was written" in result.output
    assert not (repo / ".claude" / "commands").exists()


# -- the hook: which commands are commits ----------------------------------------------------


@pytest.mark.parametrize(
    ("command", "directory", "all_tracked"),
    [
        ("git commit -m 'x'", "/w", False),
        ("git commit -am 'fix: a'", "/w", True),
        ("git commit --all -m x", "/w", True),
        ("git commit -ma", "/w", False),  # the message is "a"
        ("git add . && git commit -m x", "/w", False),
        ("git -C sub commit -m x", "/w/sub", False),
        ("git -c user.name=x --no-pager commit", "/w", False),
        ("cd api && git commit -m 'a;b'", "/w/api", False),
        ("GIT_AUTHOR_NAME=x git commit", "/w", False),
        ("npm test; /usr/bin/git commit -qm x", "/w", False),
        ("git status\ngit commit -m x", "/w", False),
        ("bash -c 'git commit -m x'", "/w", False),
        ('git commit -m "unclosed', "/w", False),
        ("sudo -u deploy git commit -m x", "/w", False),
        ("env -i PATH=/bin git commit -am x", "/w", True),
        ("timeout 60 git commit -m x", "/w", False),
        ("nice -n 10 git commit -m x", "/w", False),
    ],
)
def test_commits_are_found(command: str, directory: str, all_tracked: bool) -> None:
    assert find_commit(command, "/w") == Commit(directory, all_tracked)


@pytest.mark.parametrize(
    "command",
    [
        "git status",
        "git log --grep commit",
        "echo 'git commit'",
        "git commit-tree HEAD^{tree}",
        "grep -r commit .",
        "git show HEAD:commit.txt",
        "gitk commit",
    ],
)
def test_near_misses_are_not_commits(command: str) -> None:
    assert find_commit(command, "/w") is None


# -- the hook: driven with real PreToolUse events --------------------------------------------


@pytest.fixture
def fake_specflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `specflow` on PATH that logs how it was called and answers as FAKE_REVIEW says."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    log = tmp_path / "fake.log"
    script = bin_dir / "specflow"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$(pwd) $*" >> "{log}"\n'
        'case "$FAKE_REVIEW" in\n'
        '  fail) echo "FAIL: 1 finding blocks"; echo "MAJOR app.py:3 no error handling"; exit 1;;\n'
        '  down) echo "NOT REVIEWED: provider unreachable" >&2; exit 3;;\n'
        '  bug) echo "Traceback: boom" >&2; exit 70;;\n'
        '  *) echo "PASS"; exit 0;;\n'
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def event(command: str, cwd: Path, tool: str = "Bash") -> str:
    return json.dumps(
        {
            "session_id": "abc123",
            "transcript_path": "/tmp/transcript.jsonl",
            "cwd": str(cwd),
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": {"command": command, "description": "run it"},
        }
    )


def hook(stdin: str | bytes) -> Result:
    return CliRunner().invoke(cli, ["agents", "hook", "claude"], input=stdin)


def test_hook_allows_a_non_commit_without_a_review(repo: Path, fake_specflow: Path) -> None:
    result = hook(event("pytest -q && git status", repo))
    assert (result.exit_code, result.output) == (0, "")
    assert not fake_specflow.exists()


def test_hook_blocks_a_failing_commit_with_the_findings(
    repo: Path, fake_specflow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_REVIEW", "fail")
    result = hook(event("git add -A && git commit -m 'add app'", repo))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "specflow's review gate blocked this commit (`review --staged` exited 1):\n"
        "FAIL: 1 finding blocks\nMAJOR app.py:3 no error handling\n"
    )
    assert fake_specflow.read_text() == f"{repo} review --staged\n"


def test_hook_allows_a_passing_commit(
    repo: Path, fake_specflow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_REVIEW", "pass")
    (repo / "sub").mkdir()
    result = hook(event("git -C sub commit -m ok", repo))
    assert (result.exit_code, result.output) == (0, "")
    assert fake_specflow.read_text() == f"{repo / 'sub'} review --staged\n"


def test_hook_blocks_when_the_gate_fails_closed(
    repo: Path, fake_specflow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_REVIEW", "down")
    result = hook(event("git commit -m x", repo))
    assert result.exit_code == 2
    assert "exited 3):\nNOT REVIEWED: provider unreachable" in result.stderr


def test_commit_all_reviews_the_tracked_changes(
    repo: Path, fake_specflow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_REVIEW", "pass")
    (repo / "README.md").write_text("# changed\n")
    assert hook(event("git commit -am wip", repo)).exit_code == 0
    assert fake_specflow.read_text() == f"{repo} review --files README.md\n"


def test_commit_all_from_a_subfolder_with_odd_names_reviews_from_the_top(
    repo: Path, fake_specflow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git names the files from the repository's top, with spaces and non-ASCII as they are;
    # a deleted file has nothing to review.
    monkeypatch.setenv("FAKE_REVIEW", "pass")
    (repo / "sub").mkdir()
    for name in ("sub/a b.py", "sub/café.py", "gone.py"):
        (repo / name).write_text("x = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "files")
    (repo / "sub/a b.py").write_text("x = 2\n")
    (repo / "sub/café.py").write_text("x = 2\n")
    (repo / "gone.py").unlink()
    assert hook(event("git commit -am wip", repo / "sub")).exit_code == 0
    (called,) = fake_specflow.read_text().splitlines()
    assert called == f"{repo} review --files sub/a b.py --files sub/café.py"


@pytest.mark.parametrize(
    ("stdin", "review"),
    [
        (b"{not json", "pass"),
        (b"\x80 not UTF-8", "pass"),
        (event("git commit -m x", Path("/")).encode(), "bug"),
    ],
)
def test_a_crash_fails_open_locally_and_closed_in_ci(
    repo: Path,
    fake_specflow: Path,
    monkeypatch: pytest.MonkeyPatch,
    stdin: bytes,
    review: str,
) -> None:
    monkeypatch.setenv("FAKE_REVIEW", review)
    stdin = stdin.replace(b'"cwd": "/"', json.dumps({"cwd": str(repo)})[1:-1].encode())
    local = hook(stdin)
    assert local.exit_code == 0
    assert local.stderr.startswith("warning: specflow's Claude Code hook failed: ")
    assert "goes ahead unreviewed (fail open outside CI)" in local.stderr
    monkeypatch.setenv("CI", "true")
    in_ci = hook(stdin)
    assert in_ci.exit_code == 2
    assert in_ci.stderr.startswith("specflow's Claude Code hook failed: ")
    assert "CI=true, so the commit is blocked (fail closed)" in in_ci.stderr
    if review == "bug":
        assert "`specflow review` exited 70:\nTraceback: boom" in in_ci.stderr


def test_hook_runs_as_the_installed_command(repo: Path, fake_specflow: Path) -> None:
    """The real process: stdin read, exit code passed through, nothing printed."""
    done = subprocess.run(
        [sys.executable, "-m", "specflow", "agents", "hook", "claude"],
        input=event("ls -la", repo),
        capture_output=True,
        text=True,
        cwd=repo,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not fake_specflow.exists()


def test_installed_settings_hook_blocks_through_git(repo: Path, fake_specflow: Path) -> None:
    """The command install writes into settings.json is the one that gates a commit."""
    run("agents", "install", "claude")
    settings = json.loads((repo / ".claude/settings.json").read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    (repo / "app.py").write_text("x = 1\n")
    git(repo, "add", "app.py")
    done = subprocess.run(
        ["sh", "-c", command.replace("specflow", f"{sys.executable} -m specflow", 1)],
        input=event("git commit -m app", repo),
        capture_output=True,
        text=True,
        cwd=repo,
        env={**os.environ, "FAKE_REVIEW": "fail"},
    )
    assert done.returncode == 2, done.stderr
    assert "MAJOR app.py:3 no error handling" in done.stderr
