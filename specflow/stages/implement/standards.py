"""Which detailed sections of the engineering standards a file's implement request carries.

Every request's system prompt carries the standards' checklist, one line per item. The detail
behind an item goes in the user turn of the file that calls for it (`[stages.implement]
standards = "relevant"`, the default), once per conversation: a section is relevant to a code
file when its trigger words occur, as words, in the spec lines that name the file (by path or
by stem) or in the file's current content. Test files get Testing, entry points Structure.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from specflow.contracts.rules_lint import FENCE, detail_sections

# A standards section, by the first word of its title (lower-cased), and what calls for it:
# patterns matched at word starts, case-insensitively. A section of a project's own standards
# whose first word is not here has no trigger: it goes with every code file (so once in each
# conversation, with its first file).
SECTION_TRIGGERS: dict[str, str] = {
    "structure": r"main\b|entry point|cli\b|command[- ]line|__main__|sys\.exit|argparse",
    "logging": r"log(?:s|ged|ger|gers|ging)?\b",
    "error": r"errors?\b|exceptions?\b|rais(?:e|es|ing)\b|fail",
    "retries": r"retr(?:y|ies|ied|ying)\b|backoff|429\b|5xx\b|transient",
    "concurrency": r"thread|locks?\b|locking\b|async|await\b|concurren|queue|workers?\b|parallel",
    "resource": (
        r"sockets?\b|connect|subprocess|tempfile|shutdown|clos(?:e|es|ing)\b|open\("
        r"|database|db\b"
    ),
    "configuration": (
        r"config|secret|environ|password|api[ _-]?key|credential|settings?\b"
        r"|(?:api|auth|access|bearer|refresh)[ _-]?tokens?\b"
    ),
    "input": (
        r"input|pars(?:e|es|ing)\b|validat|request|payload|sql\b|argument|endpoint|route"
        r"|https?\b(?!://)"
    ),
}
_TRIGGERS = {
    name: re.compile(rf"(?<![\w]){pattern}", re.IGNORECASE)
    for name, pattern in SECTION_TRIGGERS.items()
}
CODE_SUFFIXES = frozenset(
    ".py .pyi .js .jsx .mjs .cjs .ts .tsx .go .rs .java .kt .kts .cs .rb .php .swift .scala "
    ".dart .ex .exs .c .h .cc .cpp .hpp .m .mm .sh .bash .zsh".split()
)
ENTRY_STEMS = frozenset({"main", "__main__", "cli", "app", "program"})
# Sections chosen by the kind of file, not by words: Testing for test files, Machine-checked
# (the rules `specflow check` applies to Python) for Python files.
BY_KIND = frozenset({"testing", "machine-checked"})
# Names too common to find a file by in prose (`index` of a table, the article `a`): such a
# file is found by its path only.
GENERIC_STEMS = frozenset(
    "index main app mod lib utils util common types core base helpers init __init__".split()
)
_TEST_NAME = re.compile(r"^test_|_test$|[._]test$|[._]spec$|_spec$|Tests?$|^tests?$")
_TEST_FOLDERS = frozenset({"test", "tests", "spec", "__tests__", "testing"})


def section_key(title: str) -> str:
    """The trigger key a section's title names: its first word that is a key ("Secure
    logging" is Logging's), or "" when none is."""
    words = [w.strip(".,:;()").lower() for w in title.split()]
    known = [w for w in words if w in SECTION_TRIGGERS or w in BY_KIND]
    return known[0] if known else ""


def is_test_file(path: str) -> bool:
    rel = PurePosixPath(path)
    return bool(_TEST_NAME.search(rel.stem)) or bool(_TEST_FOLDERS.intersection(rel.parts[:-1]))


def spec_lines_about(path: str, spec_text: str) -> list[str]:
    """The spec lines that name the file at *path*: by its path, or by its name as a word
    (a name too short or too common to mean this file is not enough)."""
    rel = PurePosixPath(path)
    # the path (after an optional ./), the file's name with its extension, its bare name
    patterns = [
        rf"(?<![\w/-])(?:\./)?{re.escape(path)}(?![\w/-]|\.\w)",
        rf"(?<![\w./-]){re.escape(rel.name)}(?![\w/-]|\.\w)",
    ]
    if len(rel.stem) >= 3 and rel.stem.lower() not in GENERIC_STEMS:
        patterns.append(rf"(?<![\w./-]){re.escape(rel.stem)}(?![\w-]|\.\w)")
    naming = re.compile("|".join(patterns), re.IGNORECASE)
    return [line for line in spec_text.splitlines() if naming.search(line)]


def relevant_sections(
    standards_text: str, path: str, spec_text: str, current: str = ""
) -> list[str]:
    """The detailed sections of *standards_text* (each whole, heading first) that the code file
    *path* calls for, in the document's order; none for a file that is not code."""
    rel = PurePosixPath(path)
    if rel.suffix.lower() not in CODE_SUFFIXES:
        return []
    haystack = "\n".join(spec_lines_about(path, spec_text)) + "\n" + current
    chosen = []
    for section in detail_sections(standards_text):
        key = section_key(section.title)
        trigger = _TRIGGERS.get(key)
        by_kind = (
            (key == "testing" and is_test_file(path))
            or (key == "structure" and rel.stem.lower() in ENTRY_STEMS)
            or (key == "machine-checked" and rel.suffix.lower() in (".py", ".pyi"))
        )
        untriggered = trigger is None and key not in BY_KIND
        if untriggered or by_kind or (trigger is not None and trigger.search(haystack)):
            chosen.append(section.text)
    return chosen


# -- in the user turn ------------------------------------------------------------------------

TURN_HEADING = "## Engineering standards for this file"
_HEADING = re.compile(r"^#{1,6}\s")


def demoted(section: str) -> str:
    """*section* one heading level down (it sits under the turn's own heading); lines inside
    code fences are left as they are."""
    out = []
    for line, fenced in _with_fences(section):
        out.append("#" + line if not fenced and _HEADING.match(line) else line)
    return "\n".join(out) + ("\n" if section.endswith("\n") else "")


def heading(section: str) -> str:
    """A section's heading line, stripped: what says it was sent."""
    return section.strip().splitlines()[0].strip() if section.strip() else ""


def sent_headings(turns: list[str]) -> set[str]:
    """The headings of the standards sections earlier user turns carried (in their block under
    TURN_HEADING), whatever whitespace or redaction changed in the sections' bodies."""
    found: set[str] = set()
    for turn in turns:
        at = turn.find(TURN_HEADING + "\n")
        if at < 0:
            continue
        for line, fenced in _with_fences(turn[at + len(TURN_HEADING) :]):
            if fenced:
                continue
            if line.startswith("## "):
                break  # the block ends at the turn's next heading of its own level
            if line.startswith("### "):
                found.add(line.strip())
    return found


def _with_fences(text: str) -> list[tuple[str, bool]]:
    """Each line of *text* with whether it is part of a code fence (its fence lines too)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            out.append((line, True))
            fenced = not fenced
        else:
            out.append((line, fenced))
    return out
