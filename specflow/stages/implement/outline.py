"""What the implement conversation keeps of a file it wrote: the file's outline, not the reply.

Every later request of the conversation re-reads its earlier turns, so a file kept whole costs
its size again on each file after it: written to the prompt cache once at 1.25x, re-read at
0.1x, and read in full by the model every time. What later files need of it is what it
defines: the names they import and the signatures they call. The file itself is on disk, and
the user turn shows it whole whenever it is the target again or the user changed it.

An outline that could lose part of a file's interface is worse than the tokens it saves (the
model would guess the rest), so only Python is outlined, through its syntax tree; a file in
another language is kept whole. (Declaration lines picked by patterns missed interface
members, grouped constants and wrapped signatures in too many real files.)

`[stages.implement] history = "whole"` keeps every reply as it was.
"""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

OUTLINE_MIN_LINES = 40  # a shorter file is kept whole: its outline would save little
VALUE_MAX = 60  # an assignment's value is shown when its source is at most this long

PYTHON_SUFFIXES = frozenset({".py", ".pyi"})


def line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def outline(rel: str, content: str) -> list[str]:
    """The definitions of *content* (the file at *rel*) as Markdown list lines, or [] when the
    file is best kept whole: short, in a language specflow does not outline, not parsing, or
    defining nothing a line can name."""
    if line_count(content) < OUTLINE_MIN_LINES:
        return []
    suffix = PurePosixPath(rel).suffix.lower()
    return python_outline(content) if suffix in PYTHON_SUFFIXES else []


# -- Python ---------------------------------------------------------------------------------


def python_outline(content: str) -> list[str]:
    """Module-level public names (also those bound under `if`, `try` or `with`), classes with
    their fields, members and public methods, and public functions, each with its signature
    and the first line of its docstring."""
    try:
        tree = ast.parse(content)
        lines: list[str] = []
        for node in tree.body:
            lines.extend(_python_node(node, content, ""))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # kept whole: what does not parse (or nests too deep) has no safe outline
    return lines


def _python_node(node: ast.stmt, source: str, indent: str) -> list[str]:
    if isinstance(node, ast.ClassDef):
        return _python_class(node, source, indent)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        if _private(node.name) and not (indent and node.name == "__init__"):
            return []
        return [_item(indent, _def_signature(node), ast.get_docstring(node))]
    if isinstance(node, ast.Assign | ast.AnnAssign):
        return _python_assignment(node, source, indent)
    if type(node).__name__ == "TypeAlias":  # `type X = ...` (Python 3.12+)
        name = getattr(node, "name", None)
        if isinstance(name, ast.Name) and not _private(name.id):
            return [_item(indent, ast.unparse(node), None)]
        return []
    # Definitions under `if TYPE_CHECKING:`, `try:`/`except ImportError:`, `with`: the names
    # exist (in one branch or another), so later files may import them.
    return [line for child in _branches(node) for line in _python_node(child, source, indent)]


def _branches(node: ast.stmt) -> list[ast.stmt]:
    """The statements nested in a compound statement that may define names."""
    if isinstance(node, ast.If):
        return [*node.body, *node.orelse]
    if isinstance(node, ast.Try):
        handlers = [stmt for handler in node.handlers for stmt in handler.body]
        return [*node.body, *handlers, *node.orelse, *node.finalbody]
    if isinstance(node, ast.With):
        return list(node.body)
    return []


def _python_class(node: ast.ClassDef, source: str, indent: str) -> list[str]:
    if _private(node.name):
        return []
    bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    head = f"class {node.name}" + (f"({', '.join(bases)})" if bases else "")
    lines = [_item(indent, _decorated(node, head), ast.get_docstring(node))]
    for child in node.body:
        lines.extend(_python_node(child, source, indent + "  "))
    return lines


def _python_assignment(node: ast.Assign | ast.AnnAssign, source: str, indent: str) -> list[str]:
    """A public name bound at module or class level (a constant, an enum member, a field, an
    instance such as `app = Flask(__name__)`, a type alias), its value when short."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if any(isinstance(t, ast.Tuple | ast.List) for t in targets):
        # `x, y = 1, 2`: each name, without the values
        unpacked = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        return [_item(indent, name, None) for name in unpacked if not _private(name)]
    names = [t.id for t in targets if isinstance(t, ast.Name) and not _private(t.id)]
    if not names or len(names) != len(targets):
        return []
    if names == ["__all__"] and isinstance(node.value, ast.List | ast.Tuple):
        exported = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
        return [_item(indent, f"__all__ = {exported!r}", None)]
    shown = " = ".join(names)
    if isinstance(node, ast.AnnAssign):
        shown += f": {_source(source, node.annotation)}"
    value = ast.get_source_segment(source, node.value) if node.value is not None else None
    if value is not None and "\n" not in value and len(value) <= VALUE_MAX:
        shown += f" = {value}"
    return [_item(indent, shown, None)]


def _source(source: str, node: ast.expr) -> str:
    """The node as written when it fits one line, else as `ast` writes it."""
    text = ast.get_source_segment(source, node)
    return text if text is not None and "\n" not in text else ast.unparse(node)


def _def_signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    head = f"{prefix} {node.name}({ast.unparse(node.args)})"
    if node.returns is not None:
        head += f" -> {ast.unparse(node.returns)}"
    return _decorated(node, head)


def _decorated(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, head: str) -> str:
    """*head* after its decorators: with their arguments when short (a route, a name), else
    by name."""
    shown = []
    for decorator in node.decorator_list:
        text = ast.unparse(decorator)
        shown.append(text if len(text) <= VALUE_MAX else text.split("(")[0])
    return " ".join(f"@{n}" for n in shown) + (" " if shown else "") + head


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _item(indent: str, code: str, doc: str | None) -> str:
    code = " ".join(code.split())  # whole, however long: a signature is what callers need
    first = (doc or "").strip().splitlines()[0].strip() if (doc or "").strip() else ""
    span = f"`` {code} ``" if "`" in code else f"`{code}`"
    return f"{indent}- {span}" + (f": {first}" if first else "")
