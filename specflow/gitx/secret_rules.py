"""What counts as a secret: the token rules, assignments, private keys and .env entropy.

The secret scanner (secrets.py) asks this module; it holds no finding and replaces nothing.
Token rules are data (specflow/data/secrets.toml: rule id, keywords, regex, entropy floor,
example), compiled once. Assignments whose name says secret (`password = "..."`,
`api_key: ...`, `config["token"] = "..."`, `password="..."` in XML) count when the value is a
literal, not a placeholder, reference, template or expression. Private-key blocks span lines;
high-entropy values count in .env files only.
"""

from __future__ import annotations

import functools
import math
import re
import string
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from specflow.resources import data_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ENTROPY_MIN_LENGTH = 20
# How far below a random string's expected entropy (bits per character) a value may fall
# and still count as random: 0.5 passes about 99% of random keys of 20+ characters and
# stops most identifiers and paths, which fall 0.5-1.3 bits short.
ENTROPY_MARGIN_BITS = 0.5

# --------------------------------------------------------------------------------------------
# Token rules (data)


@dataclass(frozen=True)
class Rule:
    """One token format from secrets.toml."""

    id: str
    keywords: tuple[str, ...]  # empty: the regex scans the whole text
    regex: re.Pattern[str]
    entropy: float  # floor for the body's bits per character
    example: str
    not_after: frozenset[str] = frozenset()  # what may not come right before a match

    def keeps(self, match: re.Match[str]) -> bool:
        """False for a stand-in: a body too uniform to be real, or a placeholder word."""
        body = match["body"] if "body" in self.regex.groupindex else self.value(match)
        if self.entropy <= 0:  # a value people choose (a password in a URL)
            return is_literal_secret(body)
        if _PLACEHOLDER_WORDS_RE.search(body) or "«secret:" in body or _SLOT.search(body):
            return False
        return len(set(body)) > 4 and shannon_entropy(body) >= self.entropy

    def value(self, match: re.Match[str]) -> str:
        """The secret a match holds: its `secret` group, or the whole match."""
        return match["secret"] if "secret" in self.regex.groupindex else match[0]

    def span(self, match: re.Match[str]) -> tuple[int, int]:
        """Where the secret a match holds starts and ends in the scanned text."""
        return match.span("secret") if "secret" in self.regex.groupindex else match.span()


@functools.cache
def rules() -> tuple[Rule, ...]:
    """The token rules of specflow/data/secrets.toml, compiled once."""
    with data_file("secrets.toml").open("rb") as handle:
        table = tomllib.load(handle)
    return tuple(
        Rule(
            id=entry["id"],
            keywords=tuple(entry["keywords"]),
            regex=re.compile(entry["regex"]),
            entropy=float(entry["entropy"]),
            example=entry["example"],
            not_after=_BOUNDARIES[entry.get("not_after", "")],
        )
        for entry in table["rule"]
    )


_WORD = string.ascii_letters + string.digits + "_"
_BOUNDARIES = {
    "": frozenset(),
    "word": frozenset(_WORD),
    "word-dash": frozenset(_WORD + "-"),
    "word-dash-dot": frozenset(_WORD + "-."),
    "upper-digit": frozenset(string.ascii_uppercase + string.digits),
}


# --------------------------------------------------------------------------------------------
# Assignments, placeholders, references

KEY_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")
_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_KEY_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_KEY_MATERIAL = re.compile(r"[A-Za-z0-9+/]{40,}")

# Assignments: found from the secret word, then read forwards from the start of the name.
SECRET_STEMS = ("pass", "pwd", "secret", "key", "token", "credential")  # lowercase
# Matched against the name in snake case (`apiKey` and `API-KEY` both read `api_key`).
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:passwd|password|passphrase|pwd|secret|api_?key|access_key|auth_key|token"
    r"|credentials?|private_key)(?:_|$)"
)
_NAME_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# `name = value`, `"name": value`, `name="value"` (XML), `config["name"] = value`.
_ASSIGNMENT = re.compile(
    r"""(?P<key>[A-Za-z0-9_.-]+)["']?\]?[ \t]*(?P<sep>:=|=>|[:=])(?!=)[ \t]*"""
    r"""(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s'"`,;(){}\[\]<>]+))"""
)
# Last words of names that hold secret-related settings rather than secrets.
_HARMLESS_NAME_ENDINGS = frozenset(
    "url uri endpoint path file dir name type header field env var length len count id prefix"
    " suffix format ttl expiry expires timeout policy mode hint label version method scope"
    " scopes kind provider ref limit size regex pattern enabled range index position".split()
)
_PLACEHOLDER_WORDS = (
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "dummy",
    "sample",
    "your_",
    "your-",
    "yourkey",
    "xxxx",
    "****",
    "...",
    "redacted",
    "notasecret",
    "not-a-secret",
    "fake",
    "todo",
    "fixme",
    "replace",
)
_PLACEHOLDER_WORDS_RE = re.compile(
    "|".join(re.escape(word) for word in _PLACEHOLDER_WORDS), re.IGNORECASE
)
_PLACEHOLDER_VALUES = frozenset(
    "password passwd pass pw pwd secret token apikey api_key key none null nil true false"
    " undefined bearer basic required optional default test testing user username".split()
)
_REFERENCE = re.compile(
    r"""^(?:\$|%\(|%s|\{|<|\[|https?://|/|\./|~/)"""  # ${VAR} $VAR %(x)s {x} <x> URLs, paths
    r"|\$\{|\{\{|%\(|%[sdr]|os\.environ|getenv|process\.env|«secret:|\[REDACTED"
)
# A template's slot (`{host}`, `{user.name}`, `{b64:40}`): the text is a template, not a value.
_SLOT = re.compile(r"\{[A-Za-z_][\w.:]*\}")
# A segment that marks a stand-in: `sk-ant-test-key`, `dummy_token`, `key.fake`.
_STAND_IN_SEGMENT = re.compile(r"(?:^|[-_.])(?:test|dummy|fake|example|sample)(?:[-_.]|$)", re.I)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_CONSTANT = re.compile(r"[A-Z_][A-Z0-9_]*\Z")
_WHITESPACE = re.compile(r"\s")
_DIGIT = re.compile(r"[0-9]")
# The variable a token was assigned to: the last `name =`/`name:` before it on its line.
_NAME_BEFORE = re.compile(r"([A-Za-z_][\w.-]*)[\"']?\]?[ \t]*(?::=|=>|=|:)(?!/)")


def _snake_name(key: str) -> str:
    return "_".join(word.lower() for word in _NAME_WORDS.findall(key))


_ASSIGNMENT_KINDS = (
    ("pass", "password"),
    ("pwd", "password"),
    ("token", "token"),
    ("secret", "secret"),
    ("key", "api-key"),
)


def _assignment_kind(name: str) -> str:
    return next((kind for word, kind in _ASSIGNMENT_KINDS if word in name), "credential")


def _assigned_secret(match: re.Match[str], in_code: bool) -> tuple[str, str] | None:
    """(kind, group) of an assignment whose value looks like a literal secret, else None.

    *in_code*: the text is a program's source, where an unquoted value is an expression
    (`password = self.decode(arg)`), never a literal.
    """
    name = _snake_name(match["key"])
    if not _SECRET_NAME.search(name) or name.rsplit("_", 1)[-1] in _HARMLESS_NAME_ENDINGS:
        return None
    group = "dq" if match["dq"] is not None else "sq" if match["sq"] is not None else "bare"
    value = match[group]
    if group == "bare" and (in_code or _is_expression(value, match.string, match.end())):
        return None
    # `name:value` with no space is not YAML's mapping: an id, `host:port`, a time.
    if group == "bare" and match["sep"] == ":" and match.end("sep") == match.start(group):
        return None
    # Letters with at most two capitals make a word or two (`password="python"`,
    # `"testPass"` in tests), too often not a secret; random letters have more capitals.
    if value.isalpha() and sum(c.isupper() for c in value) <= 2:
        return None
    return (_assignment_kind(name), group) if is_literal_secret(value) else None


def _is_expression(value: str, text: str, end: int) -> bool:
    """An unquoted value that is a name, an attribute, a call (`token = token_from_env`) or
    the start of a template (`token = abc{slot}`)."""
    if text[end : end + 1] in ("(", "[", "{"):
        return True
    return bool(_IDENTIFIER.match(value)) and ("." in value or not _DIGIT.search(value))


def is_literal_secret(value: str) -> bool:
    """False for short or numeric values, placeholders, references and human text."""
    if len(value) < 6 or value.isdigit() or _WHITESPACE.search(value):
        return False
    if value.lower() in _PLACEHOLDER_VALUES or _PLACEHOLDER_WORDS_RE.search(value):
        return False
    if _REFERENCE.search(value) or _CONSTANT.match(value) or _SLOT.search(value):
        return False
    if _STAND_IN_SEGMENT.search(value):
        return False
    return len(set(value)) > 2


# Source files, where an unquoted assignment value is code, not a literal.
_CODE_SUFFIXES = frozenset(
    "py pyi js jsx mjs cjs ts tsx java kt kts go rb rs c h cc cpp hpp cs php swift scala".split()
)

_ENV_LINE = re.compile(r"[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.-]*[ \t]*[=:][ \t]*(.*)")
_ENV_TOKEN = re.compile(rf"[A-Za-z0-9+/=_-]{{{ENTROPY_MIN_LENGTH},}}")
_HEX = frozenset("0123456789abcdefABCDEF")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


# --------------------------------------------------------------------------------------------
# Detectors the scanner calls


@dataclass(frozen=True)
class Assignment:
    """A literal secret assigned to a name: where the value is, its kind, value and name."""

    start: int
    end: int
    kind: str
    value: str
    name: str


def assignment_at(text: str, name_start: int, in_code: bool) -> Assignment | None:
    """The assignment of a literal secret whose name starts at *name_start*, if there is one.

    *in_code*: the text is a program's source (see is_code_path).
    """
    match = _ASSIGNMENT.match(text, name_start)
    if match is None:
        return None
    found = _assigned_secret(match, in_code)
    if found is None:
        return None
    kind, group = found
    start, end = match.span(group)
    return Assignment(start, end, kind, match[group], match["key"])


def name_before(before: str) -> str | None:
    """The variable a token was assigned to: the last `name =`/`name:` in *before*."""
    names = _NAME_BEFORE.findall(before)
    return names[-1] if names else None


def private_key_blocks(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each private-key block holding key material; an unterminated block
    runs to the next file of a diff, or to the end of the text."""
    for begin in _PRIVATE_KEY_BEGIN.finditer(text):
        limit = text.find("\ndiff --git ", begin.end())
        limit = len(text) if limit < 0 else limit
        # Code that only names the marker (a parser, a test) has no key material after it.
        if not _KEY_MATERIAL.search(text, begin.end(), min(limit, begin.end() + 400)):
            continue
        end_match = _PRIVATE_KEY_END.search(text, begin.end(), limit)
        yield begin.start(), end_match.end() if end_match else limit


def env_secrets(line: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, value) of each random-looking value assigned on one line of a .env file."""
    assignment = _ENV_LINE.match(line)
    if assignment is None:
        return
    base = assignment.start(1)
    for token in _ENV_TOKEN.finditer(assignment[1]):
        if _looks_random(token[0]):
            yield base + token.start(), base + token.end(), token[0]


def is_code_path(path: str | None) -> bool:
    """A program's source file, where an unquoted assignment value is code, not a literal."""
    return path is not None and path.rsplit(".", 1)[-1].lower() in _CODE_SUFFIXES


def is_env_file(path: str) -> bool:
    """A .env file, whose values get the entropy check."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name in (".env", ".envrc") or name.startswith(".env.") or name.endswith(".env")


def _looks_random(token: str) -> bool:
    """Letters and digits, with about the entropy of a random string of its length and alphabet.

    A random string of n characters from an alphabet of k shows about
    k * (1 - (1 - 1/k) ** n) distinct characters, hence about log2 of that many bits each.
    """
    if not (any(c.isdigit() for c in token) and any(c.isalpha() for c in token)):
        return False
    if _UUID.match(token) or _PLACEHOLDER_WORDS_RE.search(token):
        return False
    alphabet = 16 if set(token) <= _HEX else 64
    distinct = alphabet * (1 - (1 - 1 / alphabet) ** len(token))
    return shannon_entropy(token) >= math.log2(distinct) - ENTROPY_MARGIN_BITS


def shannon_entropy(text: str) -> float:
    """Bits per character of *text*'s own character distribution."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())
