"""The content rules as data: each rule's stable id, what it catches and how to fix it, and the
phrase lists the checks use.

Every content rule can be switched off per project by its id (the contracts take
`disabled: frozenset[str]`); the form rules (headings, item shapes) cannot, and are reported
as `<stage>.form`. The hedge list is not here: it is read from the rules in force
(hedges_from_rules), so an ejected `rules.md` changes what is checked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from specflow.contracts.base import Violation
from specflow.errors import ConfigError


class Rule(NamedTuple):
    id: str
    catches: str  # one line: what breaks the rule
    fix: str  # what the writer does about it


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "reply.outer-fence",
            "a reply wrapped in one code fence that cannot be unwrapped",
            "send the Markdown itself, without a fence around the whole reply",
        ),
        Rule(
            "spec.hedge",
            "a hedging word from the rules' `No hedging:` line",
            "state the decision, or record what is not known as "
            "`UNKNOWN: <what> — verify: <fastest way to find out> — blocks: <decisions it "
            "blocks>`",
        ),
        Rule(
            "spec.vague-directive",
            "an Implementation Directive with no concrete anchor, or built on a vague phrase",
            "name the library, API, function, file, flag or number: not 'add a scheduler' but "
            "'use APScheduler's BackgroundScheduler, register an atexit handler'",
        ),
        Rule(
            "spec.matrix-cell",
            "an Error Handling Matrix Detection or Recovery cell that says nothing concrete",
            "say exactly how the failure is detected and what recovers it, e.g. "
            "'retry 3 times with exponential backoff, then raise ExportError'",
        ),
        Rule(
            "spec.concurrency-na",
            "Concurrency Decisions is N/A while the spec names threads, workers or locks",
            "state the concurrency decisions (what runs where, what guards shared state), "
            "or remove the concurrency from the design",
        ),
        Rule(
            "spec.out-of-scope-conflict",
            "a directive that adds what an Out of Scope item excludes",
            "drop the directive, or move the item out of Out of Scope",
        ),
        Rule(
            "spec.file-plan-path",
            "a file-plan entry that is absolute, escapes the repository, or is inside .git or "
            ".specflow",
            "plan only repository-relative paths such as `src/app/main.py`",
        ),
        Rule(
            "spec.unknown-reopened",
            "an UNKNOWN item that the user has already resolved",
            "write the resolution into the spec as a decision and drop the UNKNOWN",
        ),
        Rule(
            "implement.elision",
            "a placeholder instead of code: `... rest unchanged ...`, `# existing code`, "
            "`# TODO: implement`, a body that is only `...`",
            "write every line of the file; nothing may be left out or summarised",
        ),
        Rule(
            "implement.removed-definition",
            "a top-level function, class or method that exists today and the reply drops",
            "keep it, or make the spec say to remove or replace it",
        ),
        Rule(
            "implement.self-review-fail",
            "a self-review line that says FAIL",
            "fix what your self-review reports, then review again",
        ),
        Rule(
            "python.swallowed-exception",
            "`except:` or `except Exception:` whose body only passes, continues or returns None",
            "catch the narrowest exception and handle it, or log it and re-raise",
        ),
        Rule(
            "python.print",
            "`print(` in library code",
            "use `logging.getLogger(__name__)`; print only in entry points (`__main__.py`, "
            "`cli.py`, scripts, a `__main__` block) and tests",
        ),
        Rule(
            "python.exit",
            "`sys.exit`, `exit`, `quit` or `os._exit` outside an entry point",
            "raise an exception; exit only in the entry point",
        ),
        Rule(
            "python.shell-true",
            "a subprocess call with `shell=True`",
            "pass the command as an argument list without `shell=True`",
        ),
        Rule(
            "python.sql-string",
            "SQL built with an f-string, `%`, `+` or `.format()` inside `execute(`",
            "pass the values as parameters: `execute('... WHERE id = ?', (job_id,))`",
        ),
        Rule(
            "implement.secret",
            "a hard-coded secret (the secret scanner's findings)",
            "read it from the environment or the config object; never write its value in code",
        ),
        Rule(
            "review.location",
            "a finding whose `path:line` is outside the change",
            "point at a line the change adds or keeps as context (the numbers beside the hunk "
            "lines), or drop the finding",
        ),
        Rule(
            "review.evidence",
            "a finding whose Evidence does not occur in the changed file",
            "quote the code verbatim from the change",
        ),
        Rule(
            "review.hedge",
            "a hedging word in a finding",
            "state what is wrong as a fact with its evidence, or drop the finding",
        ),
        Rule(
            "scope.duplicate-question",
            "the same question asked twice in other words",
            "keep one of the two and ask something the answers do not yet settle",
        ),
        Rule(
            "scope.answered-question",
            "a question the description already answers",
            "drop it and use the description's answer; ask what it leaves open",
        ),
        Rule(
            "scope.hedge",
            "a hedging word in the risks, the simplification or the blocker",
            "state the risk as a fact, or record what is not known as an UNKNOWN",
        ),
    )
}

# Hedges of the packaged rules.md (`No hedging:`), for callers that pass no rules text; a test
# keeps the two the same.
DEFAULT_HEDGES: tuple[str, ...] = (
    "maybe",
    "probably",
    "perhaps",
    "I think",
    "I believe",
    "should work",
    "hopefully",
)

# Directives built on these say nothing a reviewer could hold the code to.
VAGUE_PHRASES: tuple[str, ...] = (
    "appropriately",
    "as appropriate",
    "where appropriate",
    "as needed",
    "if necessary",
    "as necessary",
    "properly",
    "etc.",
    "and so on",
    "handle errors",
    "handle any errors",
    "TBD",
    "figure out",
    "best practices",
    "best practice",
)

# Vague phrases that leave the decision open: vague however concrete the rest of the directive.
UNDECIDED_PHRASES: tuple[str, ...] = ("TBD", "figure out")

# A matrix cell that is only one of these (after lower-casing and dropping punctuation).
VAGUE_CELLS: tuple[str, ...] = (
    "handle",
    "handle it",
    "handle error",
    "handle errors",
    "handle the error",
    "handle gracefully",
    "handle it gracefully",
    "log",
    "log it",
    "log error",
    "log the error",
    "ignore",
    "ignore it",
    "tbd",
    "todo",
    "retry",
    "retry it",
    "recover",
    "fix it",
)

# Words that bound a retry: a number, a backoff, a deadline.
RETRY_BOUNDS: tuple[str, ...] = (
    "backoff",
    "back off",
    "back-off",
    "retry-after",
    "once",
    "twice",
    "thrice",
    "times",
    "attempt",
    "deadline",
    "until",
    "limit",
    "max",
    "bounded",
    "jitter",
    "budget",
)

# What shows that a design has concurrency.
CONCURRENCY_WORDS: tuple[str, ...] = (
    "thread",
    "threads",
    "threading",
    "thread pool",
    "async",
    "asyncio",
    "await",
    "coroutine",
    "coroutines",
    "event loop",
    "worker",
    "workers",
    "worker process",
    "worker processes",
    "child processes",
    "multiprocessing",
    "process pool",
    "task queue",
    "task queues",
    "work queue",
    "work queues",
    "message queue",
    "message queues",
    "lock",
    "locks",
    "mutex",
    "semaphore",
    "scheduler",
    "concurrently",
    "in parallel",
)

# Words an Out of Scope item uses to exclude, which say nothing about *what* it excludes.
SCOPE_STOPWORDS: frozenset[str] = frozenset(
    """no not never without none any all other others this that these those the and for with
    from into onto beyond only must should will would shall can cannot may also than then
    here there their them they changes change changing support supported supporting feature
    features scope work handling handle handled existing new add adding added use using used
    out of a an to in on at by or is are be it its as we our""".split()
)
# A question's own words (which, does, …) carry no content a description could answer.
QUESTION_STOPWORDS: frozenset[str] = SCOPE_STOPWORDS | frozenset(
    "what which who whom whose when where why how does did doing done has have had".split()
)
NEGATIONS: frozenset[str] = frozenset({"no", "not", "never", "without", "don't", "dont", "nor"})


def check_disabled(disabled: Iterable[str], where: str = "the disabled rules") -> frozenset[str]:
    """The rule ids to switch off; an id that is no rule is a ConfigError naming it."""
    ids = frozenset(disabled)
    unknown = sorted(ids - RULES.keys())
    if unknown:
        raise ConfigError(
            f"{where}: unknown rule id {', '.join(f'`{u}`' for u in unknown)}; the content "
            f"rules are {', '.join(sorted(RULES))}"
        )
    return ids


def violation(rule_id: str, message: str, line: int | None) -> Violation:
    """A violation of *rule_id*, carrying the rule's fix."""
    return Violation(message, line, rule_id, RULES[rule_id].fix)


def keep(violations: Iterable[Violation], disabled: frozenset[str]) -> list[Violation]:
    """The violations whose rule is not switched off."""
    return [v for v in violations if not v.rule or v.rule not in disabled]


# --- the hedge list --------------------------------------------------------------------------

_HEDGING_LINE = re.compile(r"\bNo hedging\s*:(?P<rest>.*)", re.I)
_SPAN = re.compile(r"`([^`\n]+)`")


def hedges_from_rules(text: str, name: str = "rules.md") -> list[str]:
    """The hedging phrases of the rules' `No hedging:` line (its backticked words).

    A rules file without that line switches the hedge check off (empty list); a line that
    names no phrase is a ConfigError naming the file and line.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEDGING_LINE.search(line)
        if match is None:
            continue
        phrases = [p.strip() for p in _SPAN.findall(match.group("rest")) if p.strip()]
        if not phrases:
            raise ConfigError(
                f"{name}, line {number}: the `No hedging:` line names no phrase; list them in "
                "backticks, e.g. No hedging: not `maybe`, `probably`"
            )
        return phrases
    return []


def phrase_pattern(phrases: Sequence[str], *, case: bool = False) -> re.Pattern[str] | None:
    """One regex matching any of *phrases* as whole words (spaces match any whitespace)."""
    if not phrases:
        return None
    parts = []
    for phrase in sorted(phrases, key=len, reverse=True):
        body = r"\s+".join(re.escape(word) for word in phrase.split())
        start = r"\b" if phrase[:1].isalnum() else ""
        end = r"\b" if phrase[-1:].isalnum() else ""
        parts.append(f"{start}{body}{end}")
    return re.compile("|".join(parts), 0 if case else re.I)


def needles(phrases: Sequence[str]) -> tuple[str, ...]:
    """A lowercase word of each phrase, every match holds one (search_prose's fast filter)."""
    return tuple(max(p.lower().split(), key=len) for p in phrases if p.split())


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@functools.lru_cache(maxsize=4096)  # a spec repeats its words; each is stemmed once
def stem(word: str) -> str:
    """A crude stem, enough to match `caching` with `cache` and `exports` with `export`."""
    word = word.lower()
    for suffix in ("ing", "ed", "es", "s", "e"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str, stop: frozenset[str] = SCOPE_STOPWORDS) -> set[str]:
    """The stems of the words of *text* that carry meaning (three letters or more)."""
    return {
        stem(w) for w in _WORD.findall(text) if len(w) >= 3 and w.lower().strip("'") not in stop
    }
