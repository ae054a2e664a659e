"""The fake-secret corpus: cases for the tests and bench/secrets.py, expanded at run time."""

from __future__ import annotations

import random
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CORPUS = Path(__file__).with_name("corpus.toml")
B64 = string.ascii_letters + string.digits + "+/"
ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "upper": string.ascii_uppercase,
    "updig": string.ascii_uppercase + string.digits,
    "lower": string.ascii_lowercase,
    "digit": string.digits,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "b64": B64,
    "dash": string.ascii_letters + string.digits + "_-",
}
_SLOT = re.compile(r"\{(" + "|".join(ALPHABETS) + r"|pem):(\d+)\}")


@dataclass(frozen=True)
class Case:
    """One corpus entry, expanded: the text, the random pieces in it, where it would live."""

    rule: str  # the rule that must find it (secret) or that it imitates (clean)
    text: str
    pieces: tuple[str, ...]  # the random parts: none may survive redaction
    path: str | None


def expand(template: str, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """Fill each {ALPHABET:N} slot of *template* with random characters."""
    pieces: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name, count = match[1], int(match[2])
        if name == "pem":
            value = "\n".join("".join(rng.choice(B64) for _ in range(64)) for _ in range(count))
        else:
            value = "".join(rng.choice(ALPHABETS[name]) for _ in range(count))
        pieces.append(value)
        return value

    return _SLOT.sub(fill, template), tuple(pieces)


def load(kind: str, seed: int = 20261201) -> list[Case]:
    """The corpus's `secret` or `clean` cases, expanded with a generator seeded by *seed*."""
    rng = random.Random(seed)
    with CORPUS.open("rb") as handle:
        table = tomllib.load(handle)
    cases = []
    for entry in table[kind]:
        text, pieces = expand(entry["text"], rng)
        cases.append(Case(entry.get("rule") or entry["family"], text, pieces, entry.get("path")))
    return cases
