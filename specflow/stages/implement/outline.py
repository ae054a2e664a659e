"""What the implement conversation keeps of a file it wrote: the file's outline, not the reply.

Every later request of the conversation re-reads its earlier turns, so a file kept whole costs
its size again on each file after it: written to the prompt cache once at 1.25x, re-read at
0.1x, and read in full by the model every time. What later files need of it is what it
defines: the names they import and the signatures they call. The file itself is on disk, and
the user turn shows it whole whenever it is the target again or the user changed it.

`[stages.implement] history = "whole"` keeps every reply as it was.
"""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath

OUTLINE_MIN_LINES = 40  # a shorter file is kept whole: its outline would save little
SIGNATURE_MAX = 160  # characters of one outline line; a longer signature is cut
VALUE_MAX = 60  # a module constant's value is shown when its source is at most this long

# Declarations in the common languages: a keyword (after any modifiers) at the start of a line,
# or a member that an access modifier makes public, indented inside its type.
_MODIFIERS = (
    r"(?:export|default|pub(?:\([\w:]+\))?|public|private|protected|internal|static|abstract"
    r"|async|final|open|override|sealed|data|extern|unsafe|const(?=\s+fn))\s+"
)
_KEYWORDS = (
    r"(?:function\*?|class|interface|type|enum|struct|trait|impl|fn|func|def|module|object"
    r"|record|const|let|var|val|package|namespace|union|typedef|protocol|extension)\b"
)
_TOP_LEVEL = re.compile(rf"^(?:{_MODIFIERS})*{_KEYWORDS}")
_PUBLIC_MEMBER = re.compile(
    r"^[ \t]+(?:export|pub(?:\([\w:]+\))?|public|protected|internal|open)\s+\S"
)
CODE_SUFFIXES = frozenset(
    ".js .jsx .mjs .cjs .ts .tsx .go .rs .java .kt .kts .scala .swift .cs .rb .php .dart "
    ".ex .exs .c .h .cc .cpp .hpp .m .mm".split()
)


def line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def outline(rel: str, content: str) -> list[str]:
    """The definitions of *content* (the file at *rel*) as Markdown list lines, or [] when the
    file is best kept whole: short, not code specflow can outline, not parsing, or defining
    nothing a line can name."""
    if line_count(content) < OUTLINE_MIN_LINES:
        return []
    suffix = PurePosixPath(rel).suffix.lower()
    if suffix in (".py", ".pyi"):
        return python_outline(content)
    if suffix in CODE_SUFFIXES:
        return declaration_lines(content)
    return []


# -- Python ---------------------------------------------------------------------------------


def python_outline(content: str) -> list[str]:
    """Module constants, classes with their fields and public methods, and public functions,
    each with its signature and the first line of its docstring."""
    try:
        tree = ast.parse(content)
    except SyntaxError:
        return []
    lines: list[str] = []
    for node in tree.body:
        lines.extend(_python_node(node, content, ""))
    return lines


def _python_node(node: ast.stmt, source: str, indent: str) -> list[str]:
    if isinstance(node, ast.ClassDef):
        return _python_class(node, source, indent)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        if _private(node.name) and not indent:
            return []
        return [_item(indent, _def_signature(node), ast.get_docstring(node))]
    if not indent and isinstance(node, ast.Assign | ast.AnnAssign):
        return _python_constant(node, source)
    return []


def _python_class(node: ast.ClassDef, source: str, indent: str) -> list[str]:
    if _private(node.name):
        return []
    bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    head = f"class {node.name}" + (f"({', '.join(bases)})" if bases else "")
    lines = [_item(indent, _decorated(node, head), ast.get_docstring(node))]
    for child in node.body:
        if (
            isinstance(child, ast.AnnAssign)
            and isinstance(child.target, ast.Name)
            and not _private(child.target.id)
        ):
            # A field of a dataclass or model: later files construct it by these names.
            field = ast.get_source_segment(source, child) or ast.unparse(child)
            lines.append(_item(indent + "  ", field.splitlines()[0], None))
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            if not _private(child.name) or child.name == "__init__":
                lines.extend(_python_node(child, source, indent + "  "))
        elif isinstance(child, ast.ClassDef):
            lines.extend(_python_class(child, source, indent + "  "))
    return lines


def _python_constant(node: ast.Assign | ast.AnnAssign, source: str) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = [t.id for t in targets if isinstance(t, ast.Name) and not _private(t.id)]
    if not names or not all(n.isupper() or n == "__all__" for n in names):
        return []
    value = ast.get_source_segment(source, node.value) if node.value is not None else None
    shown = " = ".join(names)
    if isinstance(node, ast.AnnAssign):
        shown += f": {ast.unparse(node.annotation)}"
    if value is not None and len(value) <= VALUE_MAX and "\n" not in value:
        shown += f" = {value}"
    return [_item("", shown, None)]


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
    code = code if len(code) <= SIGNATURE_MAX else code[: SIGNATURE_MAX - 1] + "…"
    first = (doc or "").strip().splitlines()[0].strip() if (doc or "").strip() else ""
    span = f"`` {code} ``" if "`" in code else f"`{code}`"
    return f"{indent}- {span}" + (f": {first}" if first else "")


# -- other languages ------------------------------------------------------------------------


def declaration_lines(content: str) -> list[str]:
    """The lines that start a top-level declaration (function, type, constant...) or a public
    member, without their bodies."""
    lines = []
    for raw in content.splitlines():
        if _TOP_LEVEL.match(raw):
            level = ""
        elif _PUBLIC_MEMBER.match(raw):
            level = "  "
        else:
            continue
        head = raw.strip().rstrip("{").rstrip()
        lines.append(_item(level, head, None))
    return lines
