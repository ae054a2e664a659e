"""The rules in force, read into sections, and `specflow rules lint`: what they cost and where
they are weak.

Every implement request carries the behavioural rules and the compact standards (the review
checklist), so each token in them is paid on every request. The lint reports the tokens per
file and per section, and finds, with file:line and a fix:

- hedge: a hedging word from the rules' own `No hedging:` line used inside a rule;
- filler: a sentence that neither directs nor states a checkable condition (conservative: it
  opens like a remark — "It", "This", "We", "Good" ... — and has no imperative marker, negation,
  quantifier, condition, number, code span or capitalised term);
- duplicate: the same rule twice, wording aside (content words overlap at least
  `DUPLICATE_OVERLAP`); recap sections (`## DO NOT`, `## Review Checklist`) restate on purpose
  and are exempt, and the report says so;
- contradiction: `never X` beside `always X`, or a `## DO` item beside a `## DO NOT` item on
  the same key words.

Plain Python on purpose: the token estimator is handed in, so this module imports nothing
heavy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import NamedTuple

from specflow.errors import ConfigError, UsageError
from specflow.resources import packaged_folder
from specflow.store.repo import SPECFLOW_DIR, find_root

RULE_FILES = ("rules.md", "engineering-standards.md")
STANDARDS = "engineering-standards.md"
CHECKLIST = "Review Checklist"
# What the implement system prompt carries on every request: (file, section or None = all).
CARRIED = (("rules.md", None), (STANDARDS, CHECKLIST))
RECAPS = {
    "do not": "the intentional recap of the hard rules",
    "review checklist": "the compact form of the detailed sections",
}
DUPLICATE_OVERLAP = 0.75
DUPLICATE_MIN_WORDS = 4
DO_DONT_OVERLAP = 0.6

_HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"\s*(?:[-*+]|\d{1,9}[.)])\s+(.*)")
FENCE = re.compile(r"\s*(```|~~~)")  # a code fence line (standards.py reads it too)
_CODE_SPAN = re.compile(r"`[^`]*`")
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_POLAR = re.compile(r"\b(never|always)\s+((?:[A-Za-z`'-]+\s*){1,4})", re.I)
_CAPS_TERM = re.compile(r"\b[A-Z][A-Z0-9_/-]+\b")

# Words that open a remark rather than a rule (never an imperative verb).
REMARK_OPENERS = frozenset(
    "it this that these those there we our you your good great clean quality best "
    "high code software remember note".split()
)
# Words that make a sentence a rule or a checkable condition.
RULE_SIGNALS = frozenset(
    "no not never always only must each every all any none nothing exactly one when where if "
    "unless before after without instead per either neither at most least don't do".split()
)
STOPWORDS = frozenset(
    "a an the and or of to in on for with by is are be it its that this as at from into than "
    "then so their them they what which who whose do does not no never always".split()
)


class RulesFile(NamedTuple):
    name: str
    path: str
    source: str  # "packaged" or "project"
    text: str


class RuleSection(NamedTuple):
    file: str
    title: str
    level: int
    line: int
    text: str  # the heading and its body


class Unit(NamedTuple):
    """One sentence of a rule (a list item or paragraph split at sentence ends)."""

    file: str
    line: int
    section: str
    text: str


class Finding(NamedTuple):
    kind: str  # hedge, filler, duplicate, contradiction
    file: str
    line: int
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.message} — fix: {self.fix}"


class LintReport(NamedTuple):
    files: list[dict[str, object]]
    carried: dict[str, object]
    exempt: list[str]
    findings: list[Finding]

    def to_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "carried_every_implement_request": self.carried,
            "exempt": self.exempt,
            "findings": [f._asdict() for f in self.findings],
        }


# -- reading -----------------------------------------------------------------------------------


def rules_in_force(project_dir: str | None) -> list[RulesFile]:
    """Each rules file as prompts use it: the project's `.specflow/rules/` copy, else ours."""
    found = []
    for name in RULE_FILES:
        own = os.path.join(project_dir, "rules", name) if project_dir else ""
        path, source = (own, "project") if own and os.path.isfile(own) else ("", "packaged")
        if not path:
            path = os.path.join(packaged_folder("rules"), name)
        try:
            with open(path, encoding="utf-8") as file:
                found.append(RulesFile(name, path, source, file.read()))
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not UTF-8 text (byte {exc.start}); save the rules file as UTF-8"
            ) from None
    return found


def project_rules_dir(start: str) -> str | None:
    """The `.specflow` folder of the repository holding *start*, or None outside one."""
    try:
        root = find_root(start)
    except UsageError:
        return None
    return os.path.join(root, SPECFLOW_DIR)


def split_sections(name: str, text: str) -> list[RuleSection]:
    """The text split at `#` and `##` headings (outside code fences), each with its line."""
    sections: list[RuleSection] = []
    title, level, start = "", 0, 1
    body: list[str] = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.fullmatch(line)
        if heading and len(heading[1]) <= 2:
            if body and any(b.strip() for b in body):
                sections.append(RuleSection(name, title, level, start, "\n".join(body)))
            title, level, start, body = heading[2], len(heading[1]), number, []
        body.append(line)
    if body and any(b.strip() for b in body):
        sections.append(RuleSection(name, title, level, start, "\n".join(body)))
    return sections


def compact_standards(standards_text: str) -> str:
    """What the system prompt carries of the standards: the title and the review checklist,
    one line per item."""
    sections = split_sections(STANDARDS, standards_text)
    title = [s.text.strip().splitlines()[0] for s in sections if s.level == 1][:1]
    keep = [s.text.strip() for s in sections if _key(s.title) == _key(CHECKLIST)]
    return "\n\n".join(title + keep) + "\n"


def detail_sections(standards_text: str) -> list[RuleSection]:
    """The standards' detailed sections (everything but the title and the checklist)."""
    return [
        s
        for s in split_sections(STANDARDS, standards_text)
        if s.level == 2 and _key(s.title) != _key(CHECKLIST)
    ]


def units(name: str, text: str) -> list[Unit]:
    """Every rule sentence of a file, with its line and section; code fences left out."""
    out: list[Unit] = []
    section, start, in_fence = "", 0, False
    current: list[str] = []

    def flush() -> None:
        if current:
            out.extend(_sentences(name, start, section, " \n".join(current)))
            current.clear()

    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _HEADING.fullmatch(line)
        item = _ITEM.fullmatch(line)
        if heading or item or not line.strip():
            flush()
        if heading:
            section = heading[2]
        elif item:
            current.append(item[1])
            start = number
        elif line.strip():
            if not current:
                start = number
            current.append(line.strip())
    flush()
    return out


def _sentences(name: str, start: int, section: str, text: str) -> list[Unit]:
    out = []
    offset = 0
    for part in _SENTENCE_END.split(text):
        at = text.index(part, offset)
        out.append(Unit(name, start + text.count("\n", 0, at), section, part.strip()))
        offset = at + len(part)
    return out


# -- the checks --------------------------------------------------------------------------------


def hedge_words(rules_text: str) -> list[str]:
    """The words in code spans on the rules' `No hedging:` line."""
    for line in rules_text.splitlines():
        if "no hedging:" in line.lower():
            return [span.strip("`") for span in _CODE_SPAN.findall(line)]
    return []


def find_hedges(all_units: list[Unit], words: list[str]) -> list[Finding]:
    if not words:
        return []
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
    found = []
    for unit in all_units:
        if "no hedging:" in unit.text.lower():
            continue  # the list itself
        match = pattern.search(_prose(unit.text))
        if match:
            found.append(
                Finding(
                    "hedge",
                    unit.file,
                    unit.line,
                    f'"{match[1]}" hedges a rule',
                    "state the rule outright (must, never, only when ...) or drop it",
                )
            )
    return found


def find_filler(all_units: list[Unit]) -> list[Finding]:
    found = []
    for unit in all_units:
        prose = _prose(unit.text)
        words = [w.lower() for w in _WORD.findall(prose)]
        if not words or words[0] not in REMARK_OPENERS:
            continue
        if RULE_SIGNALS & set(words) or _checkable(unit.text):
            continue
        found.append(
            Finding(
                "filler",
                unit.file,
                unit.line,
                f'"{_short(unit.text)}" neither directs nor states a checkable condition',
                "rewrite it as an instruction with a condition that can be checked, or delete it",
            )
        )
    return found


def _checkable(text: str) -> bool:
    return bool(_CODE_SPAN.search(text) or re.search(r"\d", text) or _CAPS_TERM.search(text))


def find_duplicates(all_units: list[Unit]) -> list[Finding]:
    seen: list[tuple[Unit, set[str]]] = []
    found = []
    for unit in all_units:
        if _key(unit.section) in RECAPS:
            continue
        words = content_words(unit.text)
        if len(words) < DUPLICATE_MIN_WORDS:
            continue
        for earlier, other in seen:
            if _overlap(words, other) >= DUPLICATE_OVERLAP:
                found.append(
                    Finding(
                        "duplicate",
                        unit.file,
                        unit.line,
                        f'"{_short(unit.text)}" repeats {earlier.file}:{earlier.line}',
                        "keep one of the two; a restatement costs tokens on every request",
                    )
                )
                break
        seen.append((unit, words))
    return found


def find_contradictions(all_units: list[Unit]) -> list[Finding]:
    found = []
    polar: dict[str, dict[frozenset[str], Unit]] = {"never": {}, "always": {}}
    for unit in all_units:
        for match in _POLAR.finditer(_prose(unit.text)):
            key = frozenset(content_list(match[2])[:2])
            if not key:
                continue
            word = match[1].lower()
            other = polar["always" if word == "never" else "never"].get(key)
            if other is not None:
                found.append(_contradiction(unit, other, f"`{word} {match[2].strip()}`"))
            polar[word].setdefault(key, unit)
    dos = [u for u in all_units if _key(u.section) == "do"]
    donts = [u for u in all_units if _key(u.section) == "do not"]
    for do in dos:
        for dont in donts:
            if _overlap(content_words(do.text), content_words(dont.text)) >= DO_DONT_OVERLAP:
                found.append(_contradiction(do, dont, "a `## DO` item"))
    return found


def _contradiction(unit: Unit, other: Unit, what: str) -> Finding:
    return Finding(
        "contradiction",
        unit.file,
        unit.line,
        f'{what} contradicts {other.file}:{other.line} ("{_short(other.text)}")',
        "decide which holds and delete the other, or narrow both with a condition",
    )


def content_words(text: str) -> set[str]:
    """The words that carry a rule's meaning: lower-cased, stopwords out, crudely stemmed."""
    return set(content_list(text))


def content_list(text: str) -> list[str]:
    """content_words() in the order they appear."""
    words = []
    for word in _WORD.findall(_CODE_SPAN.sub(" ", text)):
        word = word.lower().strip("'’-")
        if word not in STOPWORDS and len(word) > 1:
            words.append(_stem(word))
    return words


def _stem(word: str) -> str:
    """logged, logging, logs -> log: enough to see the same rule in other words."""
    for suffix, instead in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + instead
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _prose(text: str) -> str:
    """The text without code spans and quotations, which show words rather than use them."""
    return _QUOTED.sub(" ", _CODE_SPAN.sub(" ", text))


def _key(title: str) -> str:
    return title.strip().casefold()


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


CHECKS: tuple[Callable[[list[Unit]], list[Finding]], ...] = (
    find_filler,
    find_duplicates,
    find_contradictions,
)


# -- the report --------------------------------------------------------------------------------


def lint_rules(files: list[RulesFile], estimate: Callable[[str], int]) -> LintReport:
    """Sizes, the carried total, the exempt recaps and every finding, in file order."""
    all_units = [u for f in files for u in units(f.name, f.text)]
    rules = next((f.text for f in files if f.name == "rules.md"), "")
    findings = find_hedges(all_units, hedge_words(rules))
    for check in CHECKS:
        findings.extend(check(all_units))
    findings.sort(key=lambda f: (RULE_FILES.index(f.file), f.line, f.kind))
    return LintReport(
        [_sizes(f, estimate) for f in files],
        _carried(files, estimate),
        [
            f"{s.file}:{s.line} `{'#' * s.level} {s.title}` is {RECAPS[_key(s.title)]}: "
            "exempt from the duplicate check"
            for f in files
            for s in split_sections(f.name, f.text)
            if _key(s.title) in RECAPS
        ],
        findings,
    )


def _sizes(file: RulesFile, estimate: Callable[[str], int]) -> dict[str, object]:
    return {
        "file": file.name,
        "source": file.source,
        "path": file.path,
        "chars": len(file.text),
        "tokens": estimate(file.text),
        "sections": [
            {"title": s.title, "line": s.line, "chars": len(s.text), "tokens": estimate(s.text)}
            for s in split_sections(file.name, file.text)
        ],
    }


def _carried(files: list[RulesFile], estimate: Callable[[str], int]) -> dict[str, object]:
    by_name = {f.name: f.text for f in files}
    parts = []
    texts = []
    for name, section in CARRIED:
        if name not in by_name:
            continue
        text = by_name[name] if section is None else compact_standards(by_name[name])
        parts.append(name if section is None else f"{name} ({section})")
        texts.append(text)
    joined = "\n\n".join(t.strip() for t in texts)
    return {"parts": parts, "chars": len(joined), "tokens": estimate(joined)}


def format_report(report: LintReport) -> str:
    lines = ["rules in force:"]
    for f in report.files:
        lines.append(
            f"  {f['file']} ({f['source']}): {f['chars']:,} chars, ~{f['tokens']:,} tokens"
        )
        for s in f["sections"]:  # type: ignore[attr-defined]
            lines.append(
                f"    line {s['line']:>3}  {s['title'] or '(top)'}: ~{s['tokens']:,} tokens"
            )
    carried = report.carried
    lines.append(
        f"every implement request carries {' + '.join(carried['parts'])}: "  # type: ignore[arg-type]
        f"{carried['chars']:,} chars, ~{carried['tokens']:,} tokens"
    )
    lines += [f"exempt: {e}" for e in report.exempt]
    if report.findings:
        lines.append(f"{len(report.findings)} finding(s):")
        lines += [f"  {f}" for f in report.findings]
    else:
        lines.append("no findings")
    return "\n".join(lines) + "\n"
