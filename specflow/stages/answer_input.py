"""Answers piped into `specflow answer`: one per line in question order, or `N: text`."""

from __future__ import annotations

import re

from specflow.errors import UsageError

_NUMBERED = re.compile(r"\s*(\d+)\s*:\s*(.*\S)\s*")


def parse_piped_answers(
    text: str, open_numbers: list[int], all_numbers: list[int]
) -> dict[int, str]:
    """question number -> answer, from *text*: a line `N: text` answers question N; any other
    non-blank line answers the next open question (of *open_numbers*, in order) that no
    `N:` line answers. Everything is checked before anything is recorded."""
    numbered: dict[int, str] = {}
    plain: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _NUMBERED.fullmatch(line)
        if match is None:
            plain.append(line.strip())
            continue
        number = int(match.group(1))
        if number not in all_numbers:
            listed = ", ".join(map(str, all_numbers))
            raise UsageError(
                f"standard input line {n}: there is no question {number} (the questions are "
                f"{listed}); nothing was recorded"
            )
        numbered[number] = match.group(2)
    rest = [q for q in open_numbers if q not in numbered]
    if len(plain) > len(rest):
        raise UsageError(
            f"standard input has {len(plain)} unnumbered answer(s) but only {len(rest)} open "
            f"question(s) are left for them ({', '.join(map(str, rest)) or 'none'}); number "
            "them `N: text`; nothing was recorded"
        )
    return {**numbered, **dict(zip(rest, plain, strict=False))}
