"""The scope stage's third form: the quick path for a task too small to scope.

    ## Quick Path     why the task is small: two sentences at most
    ## File           the one file it touches
    ## Directives     1-5 concrete directives

The seed's rule of thumb: "if you can genuinely explain it in two sentences and keep it in a
single file, skip straight to code". A task that names an external integration (a network
API, a database, a queue, a cloud service) is not small, however short its description: the
contract refuses the form then, and the scope must ask its questions instead.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from specflow.contracts.base import ContractResult, Violation
from specflow.contracts.markdown import (
    Section,
    check_outline,
    code_span_contents,
    empty_violation,
    finish,
    heading_ref,
    mask_code,
    norm,
    outside_list,
    parse,
    plural,
    preamble_violation,
    rejected,
)

QUICK = "Quick Path"
FILE = "File"
DIRECTIVES = "Directives"
QUICK_FORM = (QUICK, FILE, DIRECTIVES)
MAX_SENTENCES = 2
MIN_DIRECTIVES = 1
MAX_DIRECTIVES = 5
FULL_WORKFLOW = "answer with the questions form (`## Scoping Questions`) instead"


class QuickReply(NamedTuple):
    """A valid quick-path proposal: why it is small, its one file, its directives."""

    why: str
    file: str
    directives: list[str]


class IntegrationRule(NamedTuple):
    """A kind of external integration, found by *pattern* in the reply's prose."""

    rule: str
    pattern: re.Pattern[str]
    what: str


# Whole words only, and outside code spans: `http_timeout` or "the module's public API" are
# not integrations; "call the REST endpoint", "store it in Postgres" are.
INTEGRATIONS: tuple[IntegrationRule, ...] = (
    IntegrationRule(
        "quick.integration.network",
        re.compile(
            r"\b(?:HTTP|HTTPS|REST|GraphQL|gRPC|webhooks?|websockets?|SMTP|OAuth2?|"
            r"(?:external|third[- ]party|remote) (?:API|service|system|server)s?)\b",
            re.I,
        ),
        "a network service",
    ),
    IntegrationRule(
        "quick.integration.storage",
        re.compile(
            r"\b(?:databases?|SQL|Postgres(?:QL)?|MySQL|SQLite|MongoDB|Redis|"
            r"Elasticsearch|S3|DynamoDB|migrations?)\b",
            re.I,
        ),
        "a database or storage service",
    ),
    IntegrationRule(
        "quick.integration.messaging",
        re.compile(r"\b(?:Kafka|RabbitMQ|SQS|Pub/?Sub|message (?:queue|broker)s?)\b", re.I),
        "a message queue",
    ),
)

_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf)\.", re.I)
_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")


def is_quick_reply(text: str) -> bool:
    """Whether *text* is in the quick form (its first heading is `## Quick Path`)."""
    doc = parse(text)
    return bool(doc.sections) and doc.sections[0].key == norm(QUICK)


def check_quick(text: str) -> ContractResult[QuickReply]:
    """Check a quick-path reply: the three headings, a short why, one file, 1-5 directives,
    and no external integration."""
    doc = parse(text)
    outline = check_outline(doc.sections, QUICK_FORM)
    violations = list(outline.violations)
    before = preamble_violation(doc, heading_ref(QUICK))
    if before:
        violations.append(before)
    why = outline.found.get(norm(QUICK))
    file = outline.found.get(norm(FILE))
    directives = outline.found.get(norm(DIRECTIVES))
    if why is not None:
        violations.extend(_why_violations(why))
    paths = _file_paths(file, violations) if file is not None else []
    if directives is not None:
        violations.extend(_directive_violations(directives))
    for section in (why, directives):
        if section is not None:
            violations.extend(_integration_violations(section))
    if why is None or file is None or directives is None:
        return rejected(violations)

    def build() -> QuickReply:
        items = [item.one_line for item in directives.items]
        return QuickReply(why.content_text, paths[0], items)

    return finish(violations, build)


def sentence_count(text: str) -> int:
    """Sentences in *text*, code spans and common abbreviations ("e.g.") not counted."""
    prose = _ABBREVIATIONS.sub("", mask_code(" ".join(text.split())))
    return len([part for part in _SENTENCE_END.split(prose) if part.strip()])


def _why_violations(section: Section) -> list[Violation]:
    if section.is_empty:
        return [empty_violation(section, "say in one or two sentences why the task is small")]
    count = sentence_count(section.content_text)
    if count <= MAX_SENTENCES:
        return []
    return [
        Violation(
            f"{section.ref} has {plural(count, 'sentence')} (line {section.line}); the quick "
            f"path is for a task explained in {MAX_SENTENCES} at most, otherwise "
            f"{FULL_WORKFLOW}",
            section.line,
        )
    ]


def _file_paths(section: Section, out: list[Violation]) -> list[str]:
    """The backticked paths of `## File`; exactly one is allowed."""
    paths: list[str] = []
    for inline in section.inlines:
        for content in code_span_contents(inline.source):
            if content.strip() and content not in paths:
                paths.append(content.strip())
    if not paths:
        out.append(
            Violation(
                f"{section.ref} names no file (line {section.line}); give the one file as a "
                "backticked path, e.g. `src/app/util.py`",
                section.line,
            )
        )
    elif len(paths) > 1:
        named = ", ".join(f"`{p}`" for p in paths)
        out.append(
            Violation(
                f"{section.ref} names {len(paths)} files ({named}, line {section.line}); the "
                f"quick path is for one file, otherwise {FULL_WORKFLOW}",
                section.line,
            )
        )
    for path in paths:
        if path.startswith("/") or ".." in path.split("/"):
            out.append(
                Violation(
                    f"{section.ref}: `{path}` is not a path inside the repository "
                    f"(line {section.line}); give it relative to the repository root",
                    section.line,
                )
            )
    return paths


def _directive_violations(section: Section) -> list[Violation]:
    violations = outside_list(section, "directive")
    count = len(section.items)
    if not MIN_DIRECTIVES <= count <= MAX_DIRECTIVES:
        violations.append(
            Violation(
                f"{section.ref} has {plural(count, 'directive')} (line {section.line}); the "
                f"quick path allows {MIN_DIRECTIVES}–{MAX_DIRECTIVES}",
                section.line,
            )
        )
    return violations


def _integration_violations(section: Section) -> list[Violation]:
    found: list[Violation] = []
    for inline in section.inlines:
        prose = mask_code(inline.source)
        for rule in INTEGRATIONS:
            match = rule.pattern.search(prose)
            if match is not None:
                found.append(
                    Violation(
                        f"{section.ref} names {rule.what} (`{match.group(0)}`, line "
                        f"{inline.line}); the quick path is for a task with no external "
                        f"integration, so {FULL_WORKFLOW} [{rule.rule}]",
                        inline.line,
                    )
                )
    return found
