"""`specflow check STAGE FILE`: any file against a stage's contract, offline.

Runs without a repository (packaged templates and rules) or inside one (the project's
overrides); never imports a provider SDK.

`check` runs in editor hooks and agent loops, so a plain `specflow check STAGE FILE
[--path PATH]` skips click: fast_check() reads that one form and hands anything else
(`--help`, a typo, a missing argument) to click, which owns every message about usage.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from specflow.contracts.registry import STAGES
from specflow.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError, failure_exit, silence_stdout
from specflow.stages.prompts import Prompts
from specflow.store.repo import SPECFLOW_DIR, find_root_folder


def _prompts() -> Prompts:
    try:
        return Prompts(os.path.join(find_root_folder(os.getcwd()), SPECFLOW_DIR))
    except UsageError:
        return Prompts(None)


def _read(file: str) -> str:
    """The text of *file* (`-`: standard input), strictly UTF-8; a leading BOM is dropped."""
    if file == "-":
        return _read_stdin()
    if not os.path.isfile(file):
        raise UsageError(f"{file}: no such file")
    try:
        with open(file, encoding="utf-8-sig") as text:
            return text.read()
    except UnicodeDecodeError:
        raise UsageError(f"{file}: not UTF-8 text") from None


def _read_stdin() -> str:
    if sys.stdin is None:
        raise UsageError("standard input is closed; pass a FILE instead of -")
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text-only stream (an embedding program's)
        return sys.stdin.read()
    try:
        return bytes(buffer.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError("<stdin>: not UTF-8 text") from None


def contract_result(stage: str, text: str, target: str | None) -> Any:
    prompts = _prompts()
    if stage == "scope":
        from specflow.contracts.scope import check_scope

        return check_scope(text)
    if stage == "spec":
        from specflow.contracts.spec import check_spec, template_headings

        return check_spec(text, template_headings(prompts.spec_template()))
    if stage == "implement":
        from specflow.contracts.implement import check_implement, parse_checklist

        return check_implement(text, target, parse_checklist(prompts.standards()))
    from specflow.contracts.review import check_review

    return check_review(text, None)


def check_file(stage: str, file: str, target: str | None) -> tuple[list[str], str]:
    """Violations as `FILE:LINE: message` lines, and a one-line summary."""
    text = _read(file)
    result = contract_result(stage, text, target)
    name = "<stdin>" if file == "-" else file
    lines = [
        f"{name}:{v.line}: {v.message.replace(f' (line {v.line})', '')}"
        if v.line
        else f"{name}: {v.message}"
        for v in result.violations
    ]
    if lines:
        return lines, f"{name}: {len(lines)} violation(s) of the {stage} contract"
    return [], f"{name}: holds the {stage} contract"


def run_check(stage: str, file: str, target: str | None) -> int:
    """Print each violation on stdout and the summary (stdout when the file holds, stderr
    when it does not); return the exit code."""
    violations, summary = check_file(stage, file, target)
    try:
        _write(sys.stdout, "".join(line + "\n" for line in violations))
        _write(sys.stderr if violations else sys.stdout, summary + "\n")
    except BrokenPipeError:  # the reader went away (`| head`); the verdict stands
        silence_stdout()
    return EXIT_CHECK_FAILED if violations else EXIT_OK


def _write(stream: TextIO | None, text: str) -> None:
    if stream is not None and text:  # None: the stream was closed (`>&-`)
        stream.write(text)
        stream.flush()


def check_args(argv: list[str]) -> tuple[str, str, str | None] | None:
    """(stage, file, --path) from the arguments after `check`, or None for anything but
    the plain form, which click then reads (and explains when it is wrong)."""
    positional: list[str] = []
    target: str | None = None
    args = iter(argv)
    for arg in args:
        if arg == "--path":
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
    return stage, file, target


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
