"""What the implement conversation keeps of a file it wrote: the file's outline, not the reply.

Every later request of the conversation re-reads its earlier turns, so a file kept whole costs
its size again on each file after it: written to the prompt cache once at 1.25x, re-read at
0.1x, and read in full by the model every time. What later files need of it is what it
defines: the names they import and the signatures they call. The file itself is on disk, and
the user turn shows it whole whenever it is the target again or the user changed it.

An outline that could lose part of a file's interface is worse than the tokens it saves (the
model would guess the rest), so only languages whose declarations a line can name reliably
are outlined: Python through `ast`; Go, Rust, Java, C#, JavaScript and TypeScript through
their declaration lines. Everything else is kept whole.

`[stages.implement] history = "whole"` keeps every reply as it was.
"""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath

OUTLINE_MIN_LINES = 40  # a shorter file is kept whole: its outline would save little
SIGNATURE_MAX = 160  # characters of one outline line; a longer signature is cut
VALUE_MAX = 60  # an assignment's value is shown when its source is at most this long
JOIN_MAX = 8  # lines a wrapped signature may span before it is cut

# A declaration that starts a line: a keyword after any modifiers, the keyword followed by a
# space (so `module.exports` and `type(x)` are not declarations).
_MODIFIERS = (
    r"(?:export|default|declare|pub(?:\([\w:]+\))?|public|private|protected|internal|static"
    r"|abstract|async|final|sealed|partial|readonly|override|virtual|unsafe|extern"
    r"|const(?=\s+fn))\s+"
)
_KEYWORDS = (
    r"(?:function\*?|class|interface|type|enum|struct|trait|impl|fn|func|mod|record|const"
    r"|let|var|package|namespace|macro_rules!)(?=\s)"
)
_TOP_LEVEL = re.compile(rf"^(?:{_MODIFIERS})*{_KEYWORDS}")
# A member a modifier makes part of the type's interface (Java, C#, Rust, TypeScript).
_MARKED_MEMBER = re.compile(r"^[ \t]+(?:pub(?:\([\w:]+\))?|public|protected|internal)\s+\S")
# A JavaScript/TypeScript method: indented, a name and its parameters, then the body's brace.
_JS_KEYWORDS = frozenset(
    "if for while switch catch return function super await typeof new throw else do with "
    "delete void yield case try".split()
)
_JS_METHOD = re.compile(
    r"^(?: {2}| {4}|\t)(?:(?:static|async|get|set|readonly|override|abstract)\s+)*"
    r"(?P<name>#?[A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\((?P<rest>.*)$"
)
_JS_SUFFIXES = frozenset(".js .jsx .mjs .cjs .ts .tsx".split())
DECLARATION_SUFFIXES = frozenset(".go .rs .java .cs".split()) | _JS_SUFFIXES
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
    if suffix in PYTHON_SUFFIXES:
        return python_outline(content)
    if suffix in DECLARATION_SUFFIXES:
        return declaration_lines(content, js=suffix in _JS_SUFFIXES)
    return []


# -- Python ---------------------------------------------------------------------------------


def python_outline(content: str) -> list[str]:
    """Module-level public names, classes with their fields, members and public methods, and
    public functions, each with its signature and the first line of its docstring."""
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
    names = [t.id for t in targets if isinstance(t, ast.Name) and not _private(t.id)]
    if not names or len(names) != len(targets):
        return []
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
    names = [ast.unparse(d).split("(")[0] for d in node.decorator_list]
    return " ".join(f"@{n}" for n in names) + (" " if names else "") + head


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _item(indent: str, code: str, doc: str | None) -> str:
    code = " ".join(code.split())
    code = code if len(code) <= SIGNATURE_MAX else code[: SIGNATURE_MAX - 1] + "…"
    first = (doc or "").strip().splitlines()[0].strip() if (doc or "").strip() else ""
    span = f"`` {code} ``" if "`" in code else f"`{code}`"
    return f"{indent}- {span}" + (f": {first}" if first else "")


# -- other languages ------------------------------------------------------------------------


def declaration_lines(content: str, *, js: bool = False) -> list[str]:
    """The lines that start a top-level declaration (function, type, constant...) or a member
    of a type's interface (marked public, or a JavaScript/TypeScript method), each with a
    signature that wraps over several lines joined, without their bodies."""
    lines = content.splitlines()
    found = []
    for number, raw in enumerate(lines):
        head = _joined(lines, number)
        if _TOP_LEVEL.match(raw):
            level = ""
        elif _MARKED_MEMBER.match(raw) or (js and _is_js_method(raw, head)):
            level = "  "
        else:
            continue
        found.append(_item(level, head.rstrip("{").rstrip(), None))
    return found


_OPENS_BODY = re.compile(r"^\s*(?::\s*[^;=]+?)?\s*\{\s*$")


def _is_js_method(raw: str, head: str) -> bool:
    """Whether *raw* starts a method definition: a name, its parameters, and the body's brace
    after them (a call has no brace there, and an arrow function's `=>` is a call's argument)."""
    matched = _JS_METHOD.match(raw)
    if matched is None or matched["name"] in _JS_KEYWORDS or "=>" in head:
        return False
    return bool(_OPENS_BODY.match(head[head.rfind(")") + 1 :]))


def _joined(lines: list[str], start: int) -> str:
    """The line at *start*, with the lines of a signature wrapped over several lines."""
    parts = []
    depth = 0
    for raw in lines[start : start + JOIN_MAX]:
        parts.append(raw.strip())
        depth += raw.count("(") - raw.count(")")
        if depth <= 0:
            break
    return " ".join(parts)
