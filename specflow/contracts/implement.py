"""The implement contract: one file's whole content in one code block, then a self-review
against the engineering standards' checklist; the code must parse where specflow can tell."""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from specflow.contracts.base import ContractResult, Violation
from specflow.contracts.markdown import (
    Document,
    Fence,
    ListItem,
    Section,
    code_span,
    finish,
    heading_ref,
    norm,
    parse,
    rejected,
    unquote_code,
)
from specflow.contracts.rules import keep, violation
from specflow.contracts.unwrap import unwrap_outer_fence
from specflow.errors import ConfigError

if TYPE_CHECKING:
    from specflow.contracts.models import ImplementReply, Status

SELF_REVIEW = "Self-Review"
CHECKLIST = "Review Checklist"
REVIEW_LINE = "`- <Name>: PASS|FAIL|N/A — <reason>`"
LAYOUT = (
    "the reply is an optional `## File: <path>`, one fenced code block with the whole file, "
    "then `## Self-Review`"
)

STATUSES: dict[str, Status] = {"PASS": "PASS", "FAIL": "FAIL", "N/A": "N/A"}

_FILE_HEADING = re.compile(r"file\s*:\s*(?P<path>.*)", re.I | re.S)
_STATUS = re.compile(r"[*_]*(?P<status>PASS|FAIL|N/A)\b[*_]*(?P<rest>.*)", re.I | re.S)
_REASON = re.compile(r"\s*(?:—|–|--|-|:)\s*(?P<reason>.*)", re.S)
_FIX = re.compile(r"\s*(?:—|–|--|\s-|;)\s*[*_]*fix[*_]*\s*:[*_]*", re.I)
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


def parse_checklist(standards_text: str) -> list[str]:
    """The item names of the standards' `## Review Checklist` (`- <Name>: <what to check>`)."""
    doc = parse(standards_text)
    section = next((s for s in doc.sections if s.key == norm(CHECKLIST)), None)
    if section is None:
        raise ConfigError(
            f"the engineering standards have no {heading_ref(CHECKLIST)} section; add one with "
            "one item per check, e.g. `- Logging: <what to check>`"
        )
    names: list[str] = []
    for item in section.items:
        name, colon, _ = item.one_line.partition(":")
        name = _name(name)
        if not colon or not name:
            raise ConfigError(
                f"the engineering standards, line {item.line}: the checklist item is not "
                "`- <Name>: <what to check>`; give it a short name and a colon"
            )
        if norm(name) in (norm(n) for n in names):
            raise ConfigError(
                f"the engineering standards, line {item.line}: the checklist item `{name}` "
                "appears twice; keep one"
            )
        names.append(name)
    return names


def _name(text: str) -> str:
    """A checklist name without the emphasis or backticks a writer may put around it."""
    return text.strip().strip("*_`").strip()


def check_implement(
    text: str,
    path: str | None,
    checklist: list[str],
    *,
    current: str | None = None,
    directives: Sequence[str] = (),
    disabled: frozenset[str] = frozenset(),
) -> ContractResult[ImplementReply]:
    """Check an implement reply for *path* against the *checklist* item names.

    A reply in the edit form (`## Edit: PATH` with SEARCH/REPLACE blocks, see
    contracts/edits.py) is applied to *current*; the applied text then gets the same checks as
    a whole file, and is the value's `code`.

    *current*: the file's content on disk today (None: a new file), to find definitions the
    reply drops and to apply an edit reply to; *directives*: the spec's Implementation
    Directives and file-plan lines, which may say to remove or replace one; *disabled*:
    content rule ids switched off.
    """
    unwrapped = unwrap_outer_fence(text)
    if unwrapped.hint is not None:
        return rejected([unwrapped.hint])
    from specflow.contracts.edits import is_edit_reply

    check = _check_edit_reply if is_edit_reply(unwrapped.text) else _check_implement
    result = check(unwrapped.text, path, checklist, current, directives, disabled)
    result.notes.extend([unwrapped.note] if unwrapped.note else [])
    return result


def _check_implement(
    text: str,
    path: str | None,
    checklist: list[str],
    current: str | None,
    directives: Sequence[str],
    disabled: frozenset[str],
) -> ContractResult[ImplementReply]:
    doc = parse(text)
    violations: list[Violation] = []
    file_section, review = _layout(doc, violations)
    if file_section is not None:
        path = _check_file_heading(file_section, path, violations)
    holder = file_section if file_section is not None else doc.preamble
    fence = _the_fence(doc, holder, review, path, violations)
    if holder is not None:
        violations.extend(_outside(holder, {"fence"}, f"outside the code block; {LAYOUT}"))
    items: list[_Line] = []
    if review is None:
        violations.append(
            Violation(f"{heading_ref(SELF_REVIEW)} is missing; it comes after the code block")
        )
    else:
        items = _self_review(review, checklist, violations)
    violations.extend(_failed_review(items))
    if fence is None:
        return rejected(keep(violations, disabled))  # _the_fence() said why
    language = _language(path, fence)
    syntax = _syntax(fence, language, path)
    violations.extend(syntax)
    if not syntax:
        violations.extend(_code_violations(fence, language, path, current, directives, disabled))
    violations = keep(violations, disabled)
    return finish(violations, lambda: _reply(path, language, fence.content, items))


EDITED = -1  # the Fence line of an edit reply's applied text: its lines are not reply lines


def _check_edit_reply(
    text: str,
    path: str | None,
    checklist: list[str],
    current: str | None,
    directives: Sequence[str],
    disabled: frozenset[str],
) -> ContractResult[ImplementReply]:
    """An edit reply: its blocks applied to *current*, then the self-review, then the syntax
    and content checks on the applied text, as for a whole file."""
    from specflow.contracts.edits import SELF_REVIEW as EDIT_REVIEW
    from specflow.contracts.edits import check_edit, parse_edit_reply

    applied = check_edit(text, path, current)
    violations = list(applied.violations)
    if path is None:
        parsed = parse_edit_reply(text)
        path = parsed.path if not isinstance(parsed, list) else None
    review = next(
        (s for s in parse(text).sections if s.level == 2 and s.key == norm(EDIT_REVIEW)), None
    )
    items: list[_Line] = []
    if review is None:
        violations.append(
            Violation(f"{heading_ref(SELF_REVIEW)} is missing; it comes after the edit blocks")
        )
    else:
        items = _self_review(review, checklist, violations)
    violations.extend(_failed_review(items))
    if applied.text is None:
        return rejected(keep(violations, disabled))
    fence = Fence("", applied.text, EDITED, EDITED)
    language = _language(path, fence)
    syntax = _syntax(fence, language, path)
    violations.extend(syntax)
    if not syntax:
        violations.extend(_code_violations(fence, language, path, current, directives, disabled))
    violations = keep(violations, disabled)
    return finish(violations, lambda: _reply(path, language, applied.text or "", items))


def _at(fence: Fence, file_line: int | None) -> tuple[str, int | None]:
    """Where a file line is in the reply: ` (reply line N)` and N, or, for the applied text
    of an edit reply, ` of the edited file` and no reply line."""
    if fence.line == EDITED:
        return " of the file after the edits", None
    if file_line is None:
        return "", fence.line
    return f" (reply line {fence.line + file_line})", fence.line + file_line


def _failed_review(items: list[_Line]) -> list[Violation]:
    """A FAIL line is the model admitting a violation: the reply goes back, not to disk."""
    return [
        violation(
            "implement.self-review-fail",
            f"the self-review says `{item.name}: FAIL — {item.reason}`"
            + (f" (its fix: {item.fix})" if item.fix else ""),
            None,
        )
        for item in items
        if item.status == "FAIL"
    ]


def _code_violations(
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
        violation(f.rule, f"{target} line {f.line}{_at(fence, f.line)[0]}: {f.message}", line)
        for f in findings
        for line in [_at(fence, f.line)[1]]
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
                    _at(fence, None)[1],
                )
            )
    return out


class _Line(NamedTuple):
    """A well-formed self-review line; the pydantic ReviewItem is made only with the value,
    so that checking a reply (`specflow check implement`) needs no pydantic."""

    name: str
    status: Status
    reason: str
    fix: str | None


def _reply(path: str | None, language: str | None, code: str, lines: list[_Line]) -> ImplementReply:
    from specflow.contracts.models import ImplementReply, ReviewItem

    review = [ReviewItem(**line._asdict()) for line in lines]
    return ImplementReply(path=path, language=language, code=code, self_review=review)


def _layout(doc: Document, violations: list[Violation]) -> tuple[Section | None, Section | None]:
    """The `## File:` section (first heading only) and the `## Self-Review` section."""
    file_section: Section | None = None
    review: Section | None = None
    for position, section in enumerate(doc.sections):
        is_file = _FILE_HEADING.fullmatch(section.title) is not None and section.level == 2
        if is_file and position == 0:
            file_section = section
        elif section.key == norm(SELF_REVIEW) and section.level == 2 and review is None:
            review = section
        elif section.key == norm(SELF_REVIEW) and review is not None:
            violations.append(
                Violation(
                    f"{section.ref} appears twice (lines {review.line} and {section.line}); "
                    "keep one",
                    section.line,
                )
            )
        else:
            violations.append(
                Violation(
                    f"unexpected heading {section.ref} (line {section.line}); {LAYOUT}",
                    section.line,
                )
            )
    if file_section is not None and doc.preamble is not None:
        line = doc.preamble.line
        violations.append(
            Violation(f"text before {file_section.ref} (line {line}); {LAYOUT}", line)
        )
    return file_section, review


def _check_file_heading(section: Section, path: str | None, out: list[Violation]) -> str | None:
    match = _FILE_HEADING.fullmatch(section.title)
    assert match is not None  # _layout() only picks a heading that matches
    named = unquote_code(match.group("path").strip()).strip("\"'")
    if not named:
        out.append(
            Violation(
                f"{section.ref} names no file (line {section.line}); write "
                f"`## File: {path or '<path>'}`",
                section.line,
            )
        )
        return path
    if path is not None and _same_path(named, path) is False:
        out.append(
            Violation(
                f"{section.ref} names `{named}` but the requested file is `{path}` "
                f"(line {section.line}); write only `{path}`",
                section.line,
            )
        )
        return path
    return path if path is not None else named


def _same_path(a: str, b: str) -> bool:
    def clean(p: str) -> str:
        p = p.strip().replace("\\", "/")
        return p[2:] if p.startswith("./") else p

    return clean(a) == clean(b)


def _the_fence(
    doc: Document,
    holder: Section | None,
    review: Section | None,
    path: str | None,
    out: list[Violation],
) -> Fence | None:
    """The one code block, or None with the violation that says why there is not one."""
    fences = doc.fences
    target = f"`{path}`" if path else "the file"
    if not fences:
        out.append(
            Violation(
                f"the reply has no fenced code block; put the whole content of {target} "
                "in one fenced block"
            )
        )
        return None
    if len(fences) > 1:
        lines = ", ".join(str(f.line) for f in fences[:-1]) + f" and {fences[-1].line}"
        out.append(
            Violation(
                f"the reply has {len(fences)} fenced code blocks (lines {lines}); it must hold "
                f"exactly one, with the whole content of {target}",
                fences[1].line,
            )
        )
        return None
    fence = fences[0]
    if not fence.closed:
        out.append(
            Violation(
                f"the code block (line {fence.line}) is never closed: the reply ends inside it; "
                f"close it with {code_span(fence.markup)}",
                fence.line,
            )
        )
        return None
    if holder is None or fence not in holder.fences:
        where = review.ref if review is not None and fence in review.fences else "the wrong place"
        out.append(
            Violation(f"the code block (line {fence.line}) is in {where}; {LAYOUT}", fence.line)
        )
        return None
    return fence


def _outside(section: Section, allowed: set[str], what: str) -> list[Violation]:
    return [
        Violation(f"text (line {block.line}) {what}", block.line)
        for block in section.content_blocks
        if block.kind not in allowed
    ]


# --- the self-review -------------------------------------------------------------------------


def _self_review(section: Section, checklist: list[str], out: list[Violation]) -> list[_Line]:
    """The review items; each checklist item once (any order), each line well formed."""
    if section.is_empty:
        wanted = f": {', '.join(checklist)}" if checklist else ""
        out.append(
            Violation(
                f"{section.ref} is empty (line {section.line}); write one {REVIEW_LINE} "
                f"line per checklist item{wanted}",
                section.line,
            )
        )
        return []
    outside = f"in {section.ref} is outside its list; write one {REVIEW_LINE} per checklist item"
    out.extend(_outside(section, {"list"}, outside))
    names = {norm(name): name for name in checklist}
    seen: dict[str, int] = {}
    items: list[_Line] = []
    for entry in section.items:
        named = _entry_name(entry, section, names, seen, out)
        if named is not None:
            item = _review_item(
                named[0], named[1], f"{section.ref} line {entry.line}", entry.line, out
            )
            items.extend([item] if item is not None else [])
    out.extend(
        Violation(
            f"{section.ref} has no line for `{name}`; add `- {name}: PASS|FAIL|N/A — <reason>`",
            section.line,
        )
        for key, name in names.items()
        if key not in seen
    )
    return items


def _entry_name(
    entry: ListItem,
    section: Section,
    names: dict[str, str],
    seen: dict[str, int],
    out: list[Violation],
) -> tuple[str, str] | None:
    """The checklist name a review line is for (marked seen) and the text after its colon;
    None after reporting a line without a name, an unknown name or a repeated one."""
    where = f"{section.ref} line {entry.line}"
    raw_name, colon, rest = entry.one_line.partition(":")
    name = _name(raw_name)
    key = norm(name)
    if not colon or not name:
        problem = f"{where} is not {REVIEW_LINE}"
    elif names and key not in names:
        problem = (
            f"{where} names `{name}`, which is not a checklist item; the items are: "
            f"{', '.join(names.values())}"
        )
    elif key in seen:
        problem = (
            f"`{name}` appears twice in {section.ref} (lines {seen[key]} and {entry.line}); "
            "keep one"
        )
    else:
        seen[key] = entry.line
        return names.get(key, name), rest
    out.append(Violation(problem, entry.line))
    return None


def _review_item(name: str, rest: str, where: str, line: int, out: list[Violation]) -> _Line | None:
    """The status, reason and fix after `<Name>:`, or None after reporting what is wrong."""
    status = _STATUS.fullmatch(rest.strip().lstrip("*_").strip())
    if status is None:
        out.append(
            Violation(
                f"{where}: `{name}` has no status; write `- {name}: PASS|FAIL|N/A — <reason>`", line
            )
        )
        return None
    verdict = STATUSES[status.group("status").upper()]
    reason_match = _REASON.fullmatch(status.group("rest"))
    reason, fix = _split_fix(reason_match.group("reason") if reason_match else "")
    if not reason:
        out.append(
            Violation(
                f"{where}: `{name}` has no reason after {verdict}; write "
                f"`- {name}: {verdict} — <reason>`",
                line,
            )
        )
        return None
    if verdict == "FAIL" and not fix:
        out.append(
            Violation(
                f"{where}: `{name}` is FAIL without a fix; append "
                "`— fix: <what was or must be changed>`",
                line,
            )
        )
        return None
    return _Line(name, verdict, reason, fix)


def _split_fix(text: str) -> tuple[str, str | None]:
    match = _FIX.search(text)
    if match is None:
        return text.strip(), None
    return text[: match.start()].strip(), text[match.end() :].strip() or None


# --- syntax ----------------------------------------------------------------------------------


def _language(path: str | None, fence: Fence) -> str | None:
    """The file's language: from the path's extension when specflow knows it, else the fence."""
    if path is not None:
        dot = path.rfind(".")
        extension = path[dot:].lower() if dot > path.rfind("/") else ""
        if extension in EXTENSION_LANGUAGES:
            return EXTENSION_LANGUAGES[extension]
    info = fence.language
    return FENCE_LANGUAGES.get(info, info or None)


def _syntax(fence: Fence, language: str | None, path: str | None) -> list[Violation]:
    checker = _CHECKERS.get(language or "")
    if checker is None:
        return []
    error = checker(fence.content)
    if error is None:
        return []
    file_line, message = error
    target = f"`{path}`" if path else "the code block"
    shown, reply_line = _at(fence, file_line)
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
