"""The code an implement reply carries, checked where specflow can tell: it parses (Python,
JSON, TOML, YAML), holds no elided code, drops no definition the spec does not say to remove,
passes the standards' Python checks and holds no secret. Each finding names its reply line,
or, for the applied text of an edit reply, its line in the edited file."""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Sequence

from specflow.contracts.base import Violation
from specflow.contracts.markdown import Fence
from specflow.contracts.rules import violation

EDITED = -1  # the Fence line of an edit reply's applied text: its lines are not reply lines
_TOML_WHERE = re.compile(r"\s*\(at (?:line (?P<line>\d+), column \d+|end of document)\)")

EXTENSION_LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
}
FENCE_LANGUAGES = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "json": "json",
    "toml": "toml",
    "yaml": "yaml",
    "yml": "yaml",
}


def where_in_reply(fence: Fence, file_line: int | None) -> tuple[str, int | None]:
    """Where a file line is in the reply: ` (reply line N)` and N, or, for the applied text
    of an edit reply, ` of the edited file` and no reply line."""
    if fence.line == EDITED:
        return " of the file after the edits", None
    if file_line is None:
        return "", fence.line
    return f" (reply line {fence.line + file_line})", fence.line + file_line


def code_violations(
    fence: Fence,
    language: str | None,
    path: str | None,
    current: str | None,
    directives: Sequence[str],
    disabled: frozenset[str],
) -> list[Violation]:
    """Elided code, dropped definitions, the standards' Python checks and secrets, each at
    its reply line."""
    from specflow.contracts import code_rules

    code = fence.content
    tree = code_rules.parse_python(code) if language == "python" else None
    findings = list(code_rules.elisions(code, tree, path))
    if tree is not None:
        findings.extend(code_rules.python_findings(tree, path, disabled))
    if "implement.secret" not in disabled:
        findings.extend(code_rules.secret_findings(code, path))
    target = f"`{path}`" if path else "the code block"
    out = [
        violation(
            f.rule, f"{target} line {f.line}{where_in_reply(fence, f.line)[0]}: {f.message}", line
        )
        for f in findings
        for line in [where_in_reply(fence, f.line)[1]]
    ]
    if tree is not None and current is not None:
        gone = code_rules.removed_definitions(tree, current, directives)
        if gone:
            names = ", ".join(f"`{name}`" for name in gone)
            out.append(
                violation(
                    "implement.removed-definition",
                    f"the reply drops {names}, which {target} defines today and the spec does "
                    "not say to remove",
                    where_in_reply(fence, None)[1],
                )
            )
    return out


def language_of(path: str | None, fence: Fence) -> str | None:
    """The file's language: from the path's extension when specflow knows it, else the fence."""
    if path is not None:
        dot = path.rfind(".")
        extension = path[dot:].lower() if dot > path.rfind("/") else ""
        if extension in EXTENSION_LANGUAGES:
            return EXTENSION_LANGUAGES[extension]
    info = fence.language
    return FENCE_LANGUAGES.get(info, info or None)


def syntax_violations(fence: Fence, language: str | None, path: str | None) -> list[Violation]:
    checker = _CHECKERS.get(language or "")
    if checker is None:
        return []
    error = checker(fence.content)
    if error is None:
        return []
    file_line, message = error
    target = f"`{path}`" if path else "the code block"
    shown, reply_line = where_in_reply(fence, file_line)
    where = f"{target} line {file_line}{shown}" if file_line else target
    name = {"python": "Python", "json": "JSON", "toml": "TOML", "yaml": "YAML"}[language or ""]
    fix = (
        "the edited file must parse: fix the SEARCH/REPLACE blocks, or send the whole file"
        if fence.line == EDITED
        else "the block must hold the whole file and parse"
    )
    return [Violation(f"{name} syntax error in {where}: {message}; {fix}", reply_line)]


def _python_error(code: str) -> tuple[int | None, str] | None:
    import ast

    try:
        with warnings.catch_warnings():
            # Invalid escape sequences warn at compile time; they are not syntax errors.
            warnings.simplefilter("ignore")
            ast.parse(code)
    except SyntaxError as exc:
        return exc.lineno, exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, str(exc) or type(exc).__name__
    return None


def _json_error(code: str) -> tuple[int | None, str] | None:
    import json

    try:
        json.loads(code)
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.msg
    except RecursionError:
        return None, "nested too deeply"
    return None


def _toml_error(code: str) -> tuple[int | None, str] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    try:
        tomllib.loads(code)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.search(message)
        if where is None:
            return None, message
        line = where.group("line")
        return (int(line) if line else None), message[: where.start()] or message
    return None


def _yaml_error(code: str) -> tuple[int | None, str] | None:
    import yaml

    try:
        for _ in yaml.safe_load_all(code):
            pass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        line = mark.line + 1 if mark is not None else None
        return line, str(problem or exc).strip()
    return None


_CHECKERS = {
    "python": _python_error,
    "json": _json_error,
    "toml": _toml_error,
    "yaml": _yaml_error,
}
