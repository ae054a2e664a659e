"""The handoff provider: no model call. The full prompt goes into a file the user pastes into
any chat or agent; the answer comes back through ``specflow <stage> --reply FILE``.

complete() writes ``<stage>.prompt.md`` into the folder the request names (the store decides
where: ``<task>/handoff/`` for a task's stages) and raises HandoffPromptWritten (a
HandoffWritten), which carries the path, the suggested reply path and the command to continue.
The file passes the one redaction path (gitx.secrets) on its way to disk, and the folder gets a
``.gitignore`` of its own, so neither a secret nor the prompt reaches a commit.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from specflow.errors import UsageError
from specflow.gitx.secrets import redact_text
from specflow.providers.base import HandoffWritten, Reply, Request, TextCallback
from specflow.store.fsutil import atomic_write_text, ensure_git_ignored
from specflow.store.workspace import HANDOFF_IGNORE_WHY

# The whole command that continues the stage, for this request.
ContinueHint = Callable[[Request], str]

CUT = "-------- 8< --------"


class HandoffPromptWritten(HandoffWritten):
    """The prompt is at *path*; the user saves the answer to *reply_path* and runs *command*."""

    def __init__(self, path: Path, reply_path: Path, command: str) -> None:
        super().__init__(path)
        self.reply_path = reply_path
        self.command = command


class HandoffProvider:
    """Writes the rendered prompt for a person to carry to a model of their choice."""

    name = "handoff"

    def __init__(self, continue_hint: ContinueHint | None = None) -> None:
        """*continue_hint* returns the whole command that continues the stage (the implement
        stage needs ``--file PATH`` in it); by default it is
        ``specflow <stage> --reply <task>/handoff/<stage>.reply.md``."""
        self.continue_hint = continue_hint

    def complete(self, request: Request, on_text: TextCallback | None = None) -> Reply:
        """Write the prompt file and raise HandoffPromptWritten; never returns."""
        if request.task_dir is None:
            raise UsageError(
                f"the handoff provider needs a task to write the {request.stage} prompt into; "
                "create one with `specflow new DESCRIPTION` or pick one with `specflow use SLUG`"
            )
        folder = request.task_dir  # the store's handoff folder of this stage
        path = folder / f"{request.stage}.prompt.md"
        reply_path = folder / f"{request.stage}.reply.md"
        if self.continue_hint is not None:
            command = self.continue_hint(request)
        else:
            command = f"specflow {request.stage} --reply {shlex.quote(_display(reply_path))}"
        ensure_git_ignored(folder, HANDOFF_IGNORE_WHY)
        text = render_handoff(request, _display(reply_path), command)
        atomic_write_text(path, redact_text(text, allow=_allowlist(request.task_dir)))
        raise HandoffPromptWritten(path, reply_path, command)


def _display(path: Path) -> str:
    """*path* relative to the working directory when it is inside it (shorter to type)."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def render_handoff(request: Request, reply_path: str, command: str) -> str:
    """The prompt file: how to use it, the settings, the prompt itself, how to continue."""
    lines = [
        f"# specflow handoff: {request.stage}",
        "",
        "No model is configured for specflow (or `--provider handoff` was given), so this file",
        "holds the whole prompt of this stage for you to carry to any chat or coding agent:",
        "",
        f"1. Copy everything between the two `{CUT}` lines and send it as one",
        "   message. If your tool has a field for a system prompt, the SYSTEM parts can go there.",
        "2. Set the recommended settings below where your tool lets you.",
        "3. Save the model's whole answer, unchanged, to",
        f"   `{reply_path}`.",
        "4. Run the command at the end of this file: specflow checks the answer exactly as it",
        "   checks a reply from a configured model.",
        "",
        *_settings(request),
        "",
        CUT,
        "",
        *_prompt(request),
        CUT,
        "",
        "## Continue",
        "",
        f"Save the answer to `{reply_path}`, then run:",
        "",
        f"    {command}",
        "",
        "(`--reply -` reads the answer from standard input instead.)",
        "",
    ]
    return "\n".join(lines)


def _settings(request: Request) -> list[str]:
    configured = request.decoding.configured()
    lines = [
        f"## Recommended settings (`[stages.{request.stage}]`)",
        "",
    ]
    if not configured:
        lines.append("- no decoding setting is configured for this stage; use your tool's defaults")
    for knob, value in configured.items():
        lines.append(f"- {knob}: {_value(knob, value)}")
    lines.append(f"- maximum reply length: {request.max_tokens} tokens")
    lines += [
        "",
        "The same number can mean different things in different tools; where a setting does not",
        "exist (many chats have no temperature), leave it out.",
    ]
    return lines


def _value(knob: str, value: Any) -> str:
    if knob == "thinking" and isinstance(value, int):
        return f"on, with a budget of {value} tokens"
    if knob == "thinking":
        return f"{value} (let the model decide how much to think)"
    return str(value)


def _prompt(request: Request) -> list[str]:
    lines: list[str] = []
    for block in request.system:
        title = f"SYSTEM ({block.label})" if block.label else "SYSTEM"
        lines += [f"===== {title} =====", "", block.text.rstrip("\n"), ""]
    for message in request.messages:
        lines += [f"===== {message.role.upper()} =====", "", message.full_text.rstrip("\n"), ""]
    return lines


def _allowlist(folder: Path) -> frozenset[str]:
    """The repository's allowed secret findings (left as they are, as the API path sends them);
    none outside a repository."""
    from specflow.gitx.allowlist import load_allowlist
    from specflow.store.repo import find_root

    try:
        return load_allowlist(Path(find_root(folder)))
    except UsageError:
        return frozenset()
