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

from specflow.contracts.rules_lint import detail_sections

# A standards section, by the first word of its title (lower-cased), and what calls for it:
# patterns matched at word starts, case-insensitively.
SECTION_TRIGGERS: dict[str, str] = {
    "structure": r"main\b|entry point|cli\b|__main__|sys\.exit|argparse|click\b",
    "logging": r"log(?:s|ged|ger|gers|ging)?\b",
    "error": r"errors?\b|exceptions?\b|rais(?:e|es|ing)\b|fail",
    "retries": r"retr(?:y|ies|ied|ying)\b|backoff|429\b|5xx\b|transient",
    "concurrency": r"thread|locks?\b|locking\b|async|await\b|concurren|queue|workers?\b|parallel",
    "resource": (
        r"sockets?\b|connect|subprocess|tempfile|shutdown|clos(?:e|es|ing)\b|open\("
        r"|database|db\b"
    ),
    "configuration": r"config|secret|environ|tokens?\b|password|api key|settings?\b|credential",
    "input": r"input|pars(?:e|es|ing)\b|validat|request|payload|sql\b|http|argument",
}
_TRIGGERS = {
    name: re.compile(rf"(?<![\w]){pattern}", re.IGNORECASE)
    for name, pattern in SECTION_TRIGGERS.items()
}
CODE_SUFFIXES = frozenset(
    ".py .pyi .js .jsx .mjs .ts .tsx .go .rs .java .kt .cs .rb .php .swift .scala .sh".split()
)
ENTRY_STEMS = frozenset({"main", "__main__", "cli", "app"})


def relevant_sections(
    standards_text: str, path: str, spec_text: str, current: str = ""
) -> list[str]:
    """The detailed sections of *standards_text* (each whole, heading first) that the code file
    *path* calls for, in the document's order; none for a file that is not code."""
    rel = PurePosixPath(path)
    if rel.suffix.lower() not in CODE_SUFFIXES:
        return []
    stem = rel.stem
    naming = re.compile(rf"(?<![\w]){re.escape(stem)}(?![\w])", re.IGNORECASE)
    about = [line for line in spec_text.splitlines() if path in line or naming.search(line)]
    haystack = "\n".join(about) + "\n" + current
    is_test = stem.startswith("test_") or stem.endswith("_test") or "tests" in rel.parts
    chosen = []
    for section in detail_sections(standards_text):
        first = section.title.split()[0].lower()
        trigger = _TRIGGERS.get(first)
        called = bool(trigger and trigger.search(haystack))
        if (
            called
            or (first == "testing" and is_test)
            or (first == "structure" and stem in ENTRY_STEMS)
        ):
            chosen.append(section.text)
    return chosen
