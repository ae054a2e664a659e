"""`specflow check STAGE FILE`: any file against a stage's contract, offline.

Runs without a repository (packaged templates and rules) or inside one (the project's
overrides); never imports a provider SDK.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from specflow.errors import UsageError
from specflow.prompts import Prompts
from specflow.repo import SPECFLOW_DIR, find_root


def _prompts() -> Prompts:
    try:
        return Prompts(find_root(Path.cwd()) / SPECFLOW_DIR)
    except UsageError:
        return Prompts(None)


def _read(file: str) -> str:
    if file == "-":
        return sys.stdin.read()
    path = Path(file)
    if not path.is_file():
        raise UsageError(f"{file}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{file}: not UTF-8 text") from None


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
