"""`specflow check STAGE FILE`: any file against a stage's contract, offline.

Runs without a repository (packaged templates and rules) or inside one (the project's
overrides); never imports a provider SDK.

`check` runs in editor hooks and agent loops, so a plain `specflow check STAGE FILE
[--path PATH]` skips click: fast_check() reads that one form and hands anything else
(`--help`, a typo, a missing argument) to click, which owns every message about usage.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from specflow.contracts.registry import STAGES, ContractContext, contract_for
from specflow.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError, failure_exit, silence_stdout
from specflow.stages.prompts import Prompts
from specflow.store.repo import SPECFLOW_DIR, find_root


def _prompts() -> Prompts:
    try:
        return Prompts(os.path.join(find_root(os.getcwd()), SPECFLOW_DIR))
    except UsageError:
        return Prompts(None)


def _read(file: str) -> str:
    """The text of *file* (`-`: standard input), strictly UTF-8; a leading BOM is dropped."""
    if file == "-":
        return read_stdin()
    if not os.path.isfile(file):
        raise UsageError(f"{file}: no such file")
    try:
        with open(file, encoding="utf-8-sig") as text:
            return text.read()
    except UnicodeDecodeError:
        raise UsageError(f"{file}: not UTF-8 text") from None


def read_stdin() -> str:
    """Standard input, strictly UTF-8 (a BOM is dropped): what `-` names for check, --reply
    and piped answers."""
    if sys.stdin is None:
        raise UsageError("standard input is closed; pass a FILE instead of -")
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text-only stream (an embedding program's)
        return sys.stdin.read()
    try:
        return bytes(buffer.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError("<stdin>: not UTF-8 text") from None


EVIDENCE_NOTE = (
    "the evidence rules (a finding inside the change, quoting it) were not applied: there is "
    "no change to compare with; add --staged or --range A..B to apply them"
)


def _hedges(prompts: Prompts) -> list[str]:
    """The hedging phrases of the rules in force (the project's `rules.md` when ejected)."""
    from specflow.contracts.rules import hedges_from_rules

    return hedges_from_rules(prompts.rules(), prompts.source_of("rules", "rules.md"))


def _exists(path: str) -> bool:
    return os.path.isfile(path)


def _current(target: str | None) -> str | None:
    """The file on disk that an implement reply replaces (None: none, or not text)."""
    if target is None or not os.path.isfile(target):
        return None
    try:
        with open(target, encoding="utf-8") as current:
            return current.read()
    except (UnicodeDecodeError, OSError):
        return None


def _edited_path(text: str) -> str | None:
    """The file an edit reply names (`## Edit: PATH`), to apply it to when --path is not
    given; None for a whole-file reply."""
    from specflow.contracts.edits import is_edit_reply, parse_edit_reply

    if not is_edit_reply(text):
        return None
    parsed = parse_edit_reply(text)
    return None if isinstance(parsed, list) else parsed.path


# `[contracts]`, a dotted `contracts.` key or an inline `contracts = {...}` table at the start
# of a line: the config may switch rules off.
_CONTRACTS_KEY = re.compile(r"^[ \t]*(\[[ \t]*contracts[ \t]*\]|contracts[ \t]*[.=])", re.MULTILINE)


def _disabled() -> frozenset[str]:
    """The project's `[contracts] disabled` rule ids (read with tomllib, not the whole
    config: `check` stays fast); none outside a repository."""
    from specflow.contracts.rules import check_disabled

    try:
        folder = os.path.join(find_root(os.getcwd()), SPECFLOW_DIR)
    except UsageError:
        return frozenset()
    path = os.path.join(folder, "config.toml")
    if not os.path.isfile(path):
        return frozenset()
    with open(path, encoding="utf-8", errors="replace") as file:
        if not _CONTRACTS_KEY.search(file.read()):
            return frozenset()  # no [contracts] table: no need to load a TOML parser (~20 ms)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML ({exc}); fix it") from None
    section = data.get("contracts", {})
    disabled = section.get("disabled", []) if isinstance(section, dict) else []
    if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
        raise UsageError(f"{path}: [contracts] disabled must be a list of rule ids")
    return check_disabled(disabled, f"{path}: [contracts] disabled")


def contract_result(stage: str, text: str, target: str | None, diff: str | None = None) -> Any:
    """The stage's contract applied to *text*, through the contract factory its stage record
    names; *diff* (review) is the change reviewed."""
    prompts = _prompts()
    context = _CONTEXTS[stage](prompts, text, target, diff)
    result = contract_for(stage, context)(text)
    if stage == "review" and diff is None:
        result.notes.append(EVIDENCE_NOTE)
    return result


def _scope_context(prompts: Prompts, text: str, target: str | None, diff: str | None) -> Any:
    return ContractContext(hedges=_hedges(prompts), disabled=_disabled())


def _spec_context(prompts: Prompts, text: str, target: str | None, diff: str | None) -> Any:
    from specflow.contracts.spec import template_headings

    headings = template_headings(prompts.spec_template())
    return ContractContext(
        headings=headings, hedges=_hedges(prompts), exists=_exists, disabled=_disabled()
    )


def _implement_context(prompts: Prompts, text: str, target: str | None, diff: str | None) -> Any:
    from specflow.contracts.self_review import parse_checklist

    target = target or _edited_path(text)
    return ContractContext(
        checklist=parse_checklist(prompts.standards()),
        path=target,
        current=_current(target),
        disabled=_disabled(),
    )


def _review_context(prompts: Prompts, text: str, target: str | None, diff: str | None) -> Any:
    if diff is None:
        return ContractContext(hedges=_hedges(prompts), disabled=_disabled())
    from specflow.contracts.evidence import changed_files

    changes = changed_files(diff)
    return ContractContext(
        diff_paths=set(changes), changes=changes, hedges=_hedges(prompts), disabled=_disabled()
    )


# What each stage's contract needs to know besides the reply, read from the project.
_CONTEXTS: dict[str, Callable[[Prompts, str, str | None, str | None], Any]] = {
    "scope": _scope_context,
    "spec": _spec_context,
    "implement": _implement_context,
    "review": _review_context,
}


class Checked:
    """One file's verdict: the violations (with rule ids) and the notes."""

    def __init__(self, stage: str, name: str, result: Any) -> None:
        self.stage = stage
        self.name = name
        self.violations = list(result.violations)
        self.notes: list[str] = list(result.notes)

    def lines(self) -> list[str]:
        """Violations as `FILE:LINE: message` lines (the fix after `; fix:`)."""
        name = self.name
        out = []
        for v in self.violations:
            text = v.message.replace(f" (line {v.line})", "") if v.line else v.message
            text += f"; fix: {v.fix}" if v.fix else ""
            out.append(f"{name}:{v.line}: {text}" if v.line else f"{name}: {text}")
        return out

    def summary(self) -> str:
        if self.violations:
            return f"{self.name}: {len(self.violations)} violation(s) of the {self.stage} contract"
        return f"{self.name}: holds the {self.stage} contract"

    def as_json(self) -> str:
        import json

        return json.dumps(
            {
                "stage": self.stage,
                "ok": not self.violations,
                "violations": [
                    {
                        "rule": v.rule or f"{self.stage}.form",
                        "line": v.line,
                        "message": v.message,
                        "fix": v.fix or None,
                    }
                    for v in self.violations
                ],
                "notes": self.notes,
            },
            ensure_ascii=False,
        )


def checked(stage: str, file: str, target: str | None, diff: str | None = None) -> Checked:
    text = _read(file)
    return Checked(
        stage, "<stdin>" if file == "-" else file, contract_result(stage, text, target, diff)
    )


def check_file(stage: str, file: str, target: str | None) -> tuple[list[str], str]:
    """Violations as `FILE:LINE: message` lines, and a one-line summary."""
    result = checked(stage, file, target)
    return result.lines(), result.summary()


def run_check(
    stage: str, file: str, target: str | None, as_json: bool = False, diff: str | None = None
) -> int:
    """Print each violation on stdout and the summary (stdout when the file holds, stderr
    when it does not), or with *as_json* one JSON object on stdout; notes go to stderr.
    Return the exit code."""
    result = checked(stage, file, target, diff)
    try:
        if as_json:
            _write(sys.stdout, result.as_json() + "\n")
        else:
            _write(sys.stdout, "".join(line + "\n" for line in result.lines()))
            _write(sys.stderr, "".join(f"note: {note}\n" for note in result.notes))
            _write(sys.stderr if result.violations else sys.stdout, result.summary() + "\n")
    except BrokenPipeError:  # the reader went away (`| head`); the verdict stands
        silence_stdout()
    return EXIT_CHECK_FAILED if result.violations else EXIT_OK


def _write(stream: TextIO | None, text: str) -> None:
    if stream is not None and text:  # None: the stream was closed (`>&-`)
        stream.write(text)
        stream.flush()


def review_diff(stage: str, staged: bool, rev_range: str | None) -> str | None:
    """The change a review is judged against: the staged one, or a commit range's."""
    if not staged and rev_range is None:
        return None
    if stage != "review":
        raise UsageError("--staged and --range apply to `specflow check review` only")
    if staged and rev_range is not None:
        raise UsageError("give --staged or --range, not both")
    from pathlib import Path

    from specflow.gitx import gitops

    root = gitops.repo_root(Path.cwd())
    return gitops.staged_diff(root) if staged else gitops.range_diff(root, rev_range or "")


def check_args(argv: list[str]) -> tuple[str, str, str | None, bool] | None:
    """(stage, file, --path, --json) from the arguments after `check`, or None for anything
    but the plain form, which click then reads (and explains when it is wrong)."""
    positional: list[str] = []
    target: str | None = None
    as_json = False
    args = iter(argv)
    for arg in args:
        if arg == "--json":
            as_json = True
        elif arg == "--path":
            target = next(args, None)
            if target is None:
                return None
        elif arg.startswith("--path="):
            target = arg.removeprefix("--path=")
        elif arg.startswith("-") and arg != "-":
            return None  # --help, --, an unknown option: click's to answer
        else:
            positional.append(arg)
    if len(positional) != 2 or positional[0] not in STAGES:
        return None
    stage, file = positional
    if file != "-" and os.path.isdir(file):
        return None  # click names it as a folder
    return stage, file, target, as_json


def fast_check(argv: list[str]) -> int | None:
    """Run `check` without click when *argv* (after `check`) is the plain form; None
    otherwise."""
    args = check_args(argv)
    if args is None:
        return None
    try:
        return run_check(*args)
    except (Exception, KeyboardInterrupt) as exc:
        return failure_exit(exc)
