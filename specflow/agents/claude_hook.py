"""The Claude Code PreToolUse hook: no `git commit` from the agent gets around the gate.

Claude Code runs `specflow agents hook claude` before every Bash tool call, with the event as
JSON on stdin (`tool_name`, `tool_input.command`, `cwd`). A command that is not a git commit
is allowed at once (exit 0), without running anything. For a commit, the hook runs
`specflow review --staged` (for `git commit -a`, the tracked files' changes against HEAD,
which is what -a commits) and blocks with exit 2 and the findings on stderr when the gate
fails (review exit 1, or 3: unreachable and failing closed). Exit 2 is the only code that
blocks there; any other non-zero code lets the command run. So a crash of the hook itself (bad
input, no specflow to run, a review that errs) ends as exit 2 in CI (`CI=true`: fail closed)
and as exit 0 with a warning on a developer's machine (fail open), the gate's own policy.

Docs: https://code.claude.com/docs/en/hooks#pretooluse
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

ALLOW, BLOCK = 0, 2
GATE_FAILED = (1, 3)  # review: 1 a finding blocks, 3 provider unreachable and failing closed
SEPARATORS = {"&&", "||", ";", "|", "&", "|&", "(", ")", ";;"}
WRAPPERS = {"command", "exec", "time", "nohup", "env", "sudo", "nice", "timeout"}
# Options of a wrapper that take a value (`sudo -u USER`, `env -u VAR`, `nice -n 10`).
WRAPPER_OPTIONS_WITH_VALUE = {"-u", "-g", "-n", "-C", "-S", "-s", "-k", "--signal", "--user"}
SHELLS = {"sh", "bash", "zsh", "dash"}
GIT_OPTIONS_WITH_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"}
COMMIT_SHORT_WITH_VALUE = set("mFcCtS")  # -m MSG, -F FILE, ...: the rest of the cluster is it


@dataclass(frozen=True)
class Commit:
    """A `git commit` found in a shell command: where it runs, and whether it commits -a."""

    directory: str
    all_tracked: bool


@dataclass(frozen=True)
class HookResult:
    code: int
    stderr: str = ""


def find_commit(command: str, cwd: str) -> Commit | None:
    """The first `git commit` in a shell command line, or None."""
    try:
        lexer = shlex.shlex(command.replace("\n", " ; "), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: judge the raw text, erring towards a review
        found = re.search(r"\bgit\b[^;&|]*\bcommit\b", command)
        return Commit(cwd, False) if found else None
    directory = cwd
    for words in _simple_commands(tokens):
        words = _strip_wrappers(words)
        if not words:
            continue
        name = os.path.basename(words[0])
        if name == "cd" and len(words) == 2:
            directory = os.path.join(directory, os.path.expanduser(words[1]))
        elif name in SHELLS and len(words) >= 3 and words[1] == "-c":
            inner = find_commit(words[2], directory)
            if inner is not None:
                return inner
        elif name == "git":
            commit = _git_commit(words[1:], directory)
            if commit is not None:
                return commit
    return None


def _simple_commands(tokens: list[str]) -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _strip_wrappers(words: list[str]) -> list[str]:
    """Drop `VAR=value` prefixes and wrappers such as `env -i`, `sudo -u x` or `timeout 60`
    with their options, down to the command they run."""
    index = 0
    while index < len(words):
        word = words[index]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word):
            index += 1
        elif word in WRAPPERS:
            index += 1
            while index < len(words) and words[index].startswith("-"):
                index += 2 if words[index] in WRAPPER_OPTIONS_WITH_VALUE else 1
            if word == "timeout" and index < len(words):
                index += 1  # the duration
        else:
            break
    return words[index:]


def _git_commit(args: list[str], directory: str) -> Commit | None:
    index = 0
    while index < len(args) and args[index].startswith("-"):
        option = args[index]
        if option == "-C" and index + 1 < len(args):
            directory = os.path.join(directory, os.path.expanduser(args[index + 1]))
        if option in GIT_OPTIONS_WITH_VALUE:
            index += 1
        index += 1
    if index >= len(args) or args[index] != "commit":
        return None
    return Commit(directory, _commits_all(args[index + 1 :]))


def _commits_all(args: list[str]) -> bool:
    for arg in args:
        if arg == "--":
            return False
        if arg == "--all":
            return True
        if arg.startswith("-") and not arg.startswith("--"):
            for letter in arg[1:]:
                if letter == "a":
                    return True
                if letter in COMMIT_SHORT_WITH_VALUE:
                    break
    return False


# -- running the gate -----------------------------------------------------------------------


def _ci(env: Mapping[str, str]) -> bool:
    return env.get("CI", "").lower() in ("1", "true", "yes")


def _specflow(env: Mapping[str, str]) -> list[str]:
    found = shutil.which("specflow", path=env.get("PATH"))
    return [found] if found else [sys.executable, "-m", "specflow"]


def review_args(commit: Commit, env: Mapping[str, str]) -> tuple[list[str], str]:
    """`review --staged`, or for `commit -a` the tracked files that -a would commit, and the
    folder to run it in (for -a the repository's top, which git's paths are relative to)."""
    if commit.all_tracked:
        top = _git(["rev-parse", "--show-toplevel"], commit.directory, env).strip()
        # -z: names as they are (spaces, non-ASCII); a deleted file has nothing to review.
        listed = _git(["diff", "--name-only", "-z", "--diff-filter=d", "HEAD"], top, env)
        files = [name for name in listed.split("\0") if name]
        if top and files:
            return ["review", *[arg for path in files for arg in ("--files", path)]], top
    return ["review", "--staged"], commit.directory


def _git(args: list[str], cwd: str, env: Mapping[str, str]) -> str:
    """git's output, or "" when it fails (the gate then reviews the staged change)."""
    done = subprocess.run(
        ["git", *args], cwd=cwd or None, env=dict(env), capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else ""


def run_gate(commit: Commit, env: Mapping[str, str]) -> HookResult:
    args, cwd = review_args(commit, env)
    command = [*_specflow(env), *args]
    done = subprocess.run(command, cwd=cwd, env=dict(env), capture_output=True, text=True)
    output = (done.stdout + done.stderr).strip()
    if done.returncode == 0:
        return HookResult(ALLOW)
    if done.returncode in GATE_FAILED:
        return HookResult(
            BLOCK,
            f"specflow's review gate blocked this commit (`{shlex.join(command[-2:])}` exited "
            f"{done.returncode}):\n{output}\n\nFix the findings, stage the fix with `git add`, "
            "and commit again. Do not bypass the gate.\n",
        )
    raise RuntimeError(f"`specflow review` exited {done.returncode}:\n{output}")


def run_hook(stdin: bytes | str, env: Mapping[str, str], cwd: str) -> HookResult:
    """Decide on one PreToolUse event (the bytes Claude Code sent); never raises."""
    try:
        event = json.loads(stdin)
        if not isinstance(event, dict):
            raise ValueError("the hook's input is not a JSON object")
        if event.get("tool_name") != "Bash":
            return HookResult(ALLOW)
        command = (event.get("tool_input") or {}).get("command")
        if not isinstance(command, str):
            raise ValueError("the Bash event has no `tool_input.command` string")
        commit = find_commit(command, str(event.get("cwd") or cwd))
        if commit is None:
            return HookResult(ALLOW)
        return run_gate(commit, env)
    except Exception as exc:  # the hook's own failure: the gate's fail-open/closed policy
        return _crashed(exc, env)


def _crashed(exc: Exception, env: Mapping[str, str]) -> HookResult:
    what = f"specflow's Claude Code hook failed: {type(exc).__name__}: {exc}"
    if _ci(env):
        return HookResult(BLOCK, f"{what}\nCI=true, so the commit is blocked (fail closed).\n")
    return HookResult(
        ALLOW,
        f"warning: {what}\nThe commit goes ahead unreviewed (fail open outside CI); the git "
        "hook (`specflow hook install`) still reviews it.\n",
    )
