"""One token estimate for the whole package (specflow/tokens.py)."""

from __future__ import annotations

import pytest

from specflow import tokens
from specflow.gitx import chunks
from specflow.stages import anchoring


@pytest.mark.parametrize(("text", "expected"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2)])
def test_characters_over_four_rounded_up(text: str, expected: int) -> None:
    assert tokens.estimate_tokens(text) == expected


def test_the_diff_budget_and_the_anchoring_use_the_same_estimate() -> None:
    assert chunks.estimate_tokens is tokens.estimate_tokens
    assert anchoring.estimate_tokens is tokens.estimate_tokens
