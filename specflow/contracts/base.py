"""What every output contract returns: the parsed value or the exact violations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Violation(NamedTuple):
    """What is wrong, where, and (for the content rules) which rule and how to fix it.

    `rule` is a stable id (`spec.vague-directive`); the form checks leave it empty and
    reports name them `<stage>.form`. `str()` is what the re-ask loop sends back to the
    model: the message with its line, then the fix.
    """

    message: str
    line: int | None = None  # 1-based line in the checked text
    rule: str = ""
    fix: str = ""

    @property
    def located(self) -> str:
        """The message with its line (unless the message already says where)."""
        if not self.line or f"line {self.line}" in self.message:
            return self.message
        return f"line {self.line}: {self.message}"

    def __str__(self) -> str:
        return f"{self.located}; fix: {self.fix}" if self.fix else self.located


class ContractResult(Generic[T]):
    """The violations a checked text has, and its typed value when it has none.

    The value is built on first use: `specflow check` reads only the violations, and so
    never imports pydantic, which the values are made of (contracts/models.py).
    """

    def __init__(self, violations: list[Violation], build: Callable[[], T] | None = None) -> None:
        if not violations and build is None:
            raise ValueError("a result without violations needs the builder of its value")
        self.violations = violations
        self.notes: list[str] = []  # what the check did besides judging (an unwrapped fence)
        self._build = build if not violations else None
        self._value: T | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def value(self) -> T | None:
        """The typed value of a text that holds the contract; None when it does not."""
        if self._value is None and self._build is not None:
            self._value = self._build()
            self._build = None
        return self._value
