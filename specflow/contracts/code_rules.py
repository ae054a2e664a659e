"""The implement rules that read the code: elided code, definitions the reply drops, and the
engineering standards' Python checks, as a table keyed by rule id.

Pure functions: the code, its path, the file on disk today and the spec's directives come in
as arguments. Lines returned are the file's own (1-based); the contract maps them to reply
lines. Python is read with the standard library's `ast`; code that does not parse is left to
the syntax check.

Where print and exit are allowed (python.print, python.exit): an entry module, that is
`__main__.py`, `cli.py`, `manage.py`, `setup.py`, `conftest.py`, a test (`tests/`,
`test_*.py`, `*_test.py`), a file under `scripts/`, `bin/`, `tools/` or `bench/`, or a module
with an `if __name__ == "__main__":` block. Everywhere else is library code. Without a path
the path-based part is not applied (only the `__main__` block counts).
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

_ENTRY_NAMES = frozenset({"__main__.py", "cli.py", "manage.py", "setup.py", "conftest.py"})
_ENTRY_FOLDERS = frozenset({"scripts", "bin", "tools", "bench", "tests", "test"})
_EXIT_CALLS = frozenset({"sys.exit", "exit", "quit", "os._exit"})
_SHELL_CALLS = frozenset({"run", "call", "Popen", "check_call", "check_output"})
_EXECUTE = frozenset({"execute", "executemany", "executescript"})
_BROAD = frozenset({"Exception", "BaseException"})
_REMOVAL_WORDS = re.compile(
    r"\b(?:remov|delet|drop|replac|renam|inlin|merg|retir|deprecat|split|mov)\w*", re.I
)

# Comments or bare strings that stand for code the reply left out.
_ELISION = (
    re.compile(r"^(?:\.{3}|…)"),
    re.compile(r"(?:\.{3}|…)$.*", re.S),
    re.compile(
        r"^(?:the\s+)?(?:rest|remainder)\s+of\s+(?:the\s+)?(?:code|files?|functions?|"
        r"class(?:es)?|modules?|methods?|implementation|body|logic|script)\b",
        re.I,
    ),
    re.compile(
        r"^(?:the\s+)?(?:existing|unchanged|original|previous|remaining|same)\s+"
        r"(?:code|implementation|logic|methods?|functions?|imports?|body|content|tests?)"
        r"(?:\s+\w+){0,2}$",
        re.I,
    ),
    re.compile(
        r"\b(?:code|implementation|logic|body|methods?|functions?|rest|remaining|here|imports?)"
        r"\s+(?:\w+\s+){0,2}(?:unchanged|omitted|elided|truncated)\W*$",
        re.I,
    ),
    re.compile(r"^(?:unchanged|omitted|elided|truncated|snip(?:ped)?)(?:\s+for\s+brevity)?$", re.I),
    re.compile(r"\((?:omitted|truncated|snip|snipped|elided|unchanged)\)", re.I),
    re.compile(r"\bfor\s+brevity\b", re.I),
    re.compile(r"^TODO\s*:?\s*implement\b", re.I),
    re.compile(r"^(?:implement\s+(?:me|this|here)|your\s+code\s+here|add\s+code\s+here)\b", re.I),
    re.compile(r"^same\s+as\s+(?:before|above)\b", re.I),
)
_ELLIPSIS_WORDS = re.compile(
    r"\b(?:unchanged|existing|rest|remaining|omitted|same|previous|original|as before|etc)\b", re.I
)
_COMMENT = re.compile(r"^\s*(?:#|//|/\*+|\*|--|<!--|;)\s*(?P<text>.*?)\s*(?:\*/|-->)?\s*$")
_STRING_LINE = re.compile(r"""^\s*[rbuf]*(?P<q>'''|\"\"\"|'|")(?P<text>.*?)(?P=q)\s*$""")


class Finding(NamedTuple):
    rule: str
    line: int  # the file's line
    message: str


def parse_python(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# --- elision ---------------------------------------------------------------------------------


def elisions(code: str, tree: ast.Module | None, path: str | None) -> Iterator[Finding]:
    """Placeholder comments and strings, a line that is only `...`, and (Python) a function
    body of `...` or `pass  # ...` outside stubs, protocols and abstract methods."""
    stub = path is not None and path.endswith(".pyi")
    strings = _string_statements(tree) if tree is not None else set()
    for number, line in enumerate(code.split("\n"), start=1):
        text = _placeholder_text(line, tree is not None, number in strings)
        if text is not None and _is_elision(text):
            yield Finding("implement.elision", number, f"`{line.strip()}` stands for left-out code")
    if tree is not None and not stub:
        yield from _ellipsis_bodies(tree, code.split("\n"))


def _string_statements(tree: ast.Module) -> set[int]:
    """The lines on which a bare string statement starts (not a string inside a call)."""
    return {
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _placeholder_text(line: str, python: bool, statement: bool = False) -> str | None:
    stripped = line.strip()
    if stripped in ("...", "…") and not python:
        return stripped
    comment = _COMMENT.match(line)
    if comment is not None and (not python or stripped.startswith("#")):
        return comment.group("text")
    if "#" in line and python:
        code, _, tail = line.partition("#")
        if code.strip() in ("pass", "...", "return", "return None"):
            return tail.strip()
    if python and not statement:
        return None  # a string argument, element or value, not a placeholder
    string = _STRING_LINE.match(line)
    return string.group("text").strip() if string is not None else None


def _is_elision(text: str) -> bool:
    if not text:
        return False
    if text.startswith(("...", "…")) or text.endswith(("...", "…")):
        return text.strip(".… ") == "" or _ELLIPSIS_WORDS.search(text) is not None
    return any(pattern.search(text) for pattern in _ELISION[2:])


def _ellipsis_bodies(tree: ast.Module, lines: list[str]) -> Iterator[Finding]:
    for node, owner in _functions(tree):
        if _exempt(node, owner):
            continue
        for statement in node.body:
            if (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and statement.value.value is Ellipsis
            ):
                yield Finding(
                    "implement.elision",
                    statement.lineno,
                    f"`{node.name}` has `...` in its body instead of code",
                )


def _functions(
    tree: ast.Module,
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.AST]]:
    stack: list[tuple[ast.AST, ast.AST]] = [(child, tree) for child in tree.body]
    while stack:
        node, owner = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, owner
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stack.append((child, node))
            elif isinstance(child, ast.stmt):
                stack.append((child, owner))


def _exempt(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: ast.AST) -> bool:
    """Stubs whose `...` is the code: overloads, abstract methods, protocol members."""
    names = {_dotted(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list}
    if names & {"overload", "typing.overload", "abstractmethod", "abc.abstractmethod"}:
        return True
    if isinstance(owner, ast.ClassDef):
        bases = {_dotted(b.value if isinstance(b, ast.Subscript) else b) for b in owner.bases}
        return bool(bases & {"Protocol", "typing.Protocol", "ABC", "abc.ABC"})
    return False


# --- removed definitions ---------------------------------------------------------------------


def definitions(tree: ast.Module) -> dict[str, int]:
    """Top-level functions and classes, and the methods of top-level classes (`C.m`)."""
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node.lineno
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{child.name}"] = child.lineno
    return found


def removed_definitions(
    tree: ast.Module, current: str, directives: Sequence[str] = ()
) -> list[str]:
    """The definitions of *current* (the file today) the new *tree* lacks, except those a
    directive says to remove, replace, rename, move or merge (by name, on one line)."""
    before = parse_python(current)
    if before is None:
        return []
    now = definitions(tree)
    gone = [name for name in definitions(before) if name not in now]
    allowed = [d for d in directives if _REMOVAL_WORDS.search(d)]
    return [
        name
        for name in gone
        if not any(
            re.search(rf"\b{re.escape(part)}\b", d) for d in allowed for part in _names(name)
        )
    ]


def _names(name: str) -> list[str]:
    owner, _, method = name.partition(".")
    return [name, method, owner] if method else [owner]  # a removed class takes its methods


# --- the standards' Python checks ------------------------------------------------------------


def is_entry_path(path: str | None) -> bool:
    if path is None:
        return False
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        name in _ENTRY_NAMES
        or name.startswith("test_")
        or name.endswith("_test.py")
        or any(part in _ENTRY_FOLDERS for part in parts[:-1])
    )


def _has_main_block(tree: ast.Module) -> bool:
    return any(_is_main_guard(node) for node in tree.body)


def _is_main_guard(node: ast.AST) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    values = {s.value for s in sides if isinstance(s, ast.Constant)}
    return "__name__" in names and "__main__" in values


class _Context(NamedTuple):
    entry: bool  # print and exit are allowed


Check = Callable[[ast.AST, _Context], "str | None"]


def _swallowed(node: ast.AST, ctx: _Context) -> str | None:
    if not isinstance(node, ast.ExceptHandler):
        return None
    kind = node.type
    broad = kind is None or (isinstance(kind, ast.Name) and kind.id in _BROAD)
    if not broad or not all(_does_nothing(s) for s in node.body):
        return None
    shown = "except:" if kind is None else f"except {_dotted(kind)}:"
    return f"`{shown}` swallows the exception (its body does nothing with it)"


def _does_nothing(statement: ast.stmt) -> bool:
    if isinstance(statement, (ast.Pass, ast.Continue)):
        return True
    if isinstance(statement, ast.Return):
        value = statement.value
        return value is None or (isinstance(value, ast.Constant) and value.value is None)
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _print(node: ast.AST, ctx: _Context) -> str | None:
    if ctx.entry or not isinstance(node, ast.Call) or _dotted(node.func) != "print":
        return None
    return "`print(` in library code"


def _exit(node: ast.AST, ctx: _Context) -> str | None:
    if ctx.entry or not isinstance(node, ast.Call):
        return None
    name = _dotted(node.func)
    return f"`{name}()` in library code" if name in _EXIT_CALLS else None


def _shell(node: ast.AST, ctx: _Context) -> str | None:
    if not isinstance(node, ast.Call) or _dotted(node.func).rsplit(".", 1)[-1] not in _SHELL_CALLS:
        return None
    for keyword in node.keywords:
        if keyword.arg == "shell" and not (
            isinstance(keyword.value, ast.Constant) and not keyword.value.value
        ):
            return f"`{_dotted(node.func)}(..., shell=...)` runs the command through a shell"
    return None


def _sql(node: ast.AST, ctx: _Context) -> str | None:
    if not isinstance(node, ast.Call) or not node.args:
        return None
    if _dotted(node.func).rsplit(".", 1)[-1] not in _EXECUTE:
        return None
    query = node.args[0]
    how = _string_building(query)
    return f"the SQL passed to `{_dotted(node.func)}(` is built with {how}" if how else None


def _string_building(node: ast.expr) -> str | None:
    if isinstance(node, ast.JoinedStr) and any(
        isinstance(v, ast.FormattedValue) for v in node.values
    ):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        # `"SELECT ... " + "WHERE ..."` joins constants: only a value added in builds a query.
        if _has_string(node) and not (isinstance(node.op, ast.Add) and _constant(node)):
            return "`%`" if isinstance(node.op, ast.Mod) else "`+`"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        return "`.format()`"
    return None


def _constant(node: ast.expr) -> bool:
    """Only constants joined with `+`."""
    if isinstance(node, ast.Constant):
        return True
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add)
        and (_constant(node.left) and _constant(node.right))
    )


def _has_string(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _has_string(node.left) or _has_string(node.right)
    return False


PYTHON_CHECKS: dict[str, Check] = {
    "python.swallowed-exception": _swallowed,
    "python.print": _print,
    "python.exit": _exit,
    "python.shell-true": _shell,
    "python.sql-string": _sql,
}


def python_findings(
    tree: ast.Module, path: str | None, disabled: frozenset[str] = frozenset()
) -> list[Finding]:
    """The standards' Python checks over *tree* (one walk; switched-off rules skipped)."""
    checks = [(rule, check) for rule, check in PYTHON_CHECKS.items() if rule not in disabled]
    if not checks:
        return []
    entry = is_entry_path(path) or _has_main_block(tree)
    library = _Context(entry)
    main = _Context(True)
    out: list[Finding] = []
    stack: list[tuple[ast.AST, _Context]] = [(tree, library)]
    while stack:
        node, ctx = stack.pop()
        for rule, check in checks:
            message = check(node, ctx)
            if message is not None:
                out.append(Finding(rule, getattr(node, "lineno", 1), message))
        inner = main if _is_main_guard(node) else ctx
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    return sorted(out, key=lambda f: (f.line, f.rule))


_SECRET_HINT = re.compile(r"[A-Za-z0-9_+/=.:-]{8,}")


def secret_findings(code: str, path: str | None) -> list[Finding]:
    """Hard-coded secrets, by the secret scanner (never its value: the kind and the line)."""
    if _SECRET_HINT.search(code) is None:  # nothing long enough to be a secret
        return []
    from specflow.gitx.secrets import redact

    return [
        Finding("implement.secret", f.line, f"a hard-coded secret ({f.kind})")
        for f in redact(code, path, diff=False).findings
    ]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""
