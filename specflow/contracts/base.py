"""What every output contract returns: the parsed value or the exact violations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Violation:
    message: str
    line: int | None = None  # 1-based line in the checked text

    def __str__(self) -> str:
        if not self.line or f"line {self.line}" in self.message:
            return self.message  # the message already says where
        return f"line {self.line}: {self.message}"


@dataclass
class ContractResult(Generic[T]):
    value: T | None = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations and self.value is not None
