"""The typed values the contracts produce: what a reply that holds its contract contains.

Kept apart from the parsers so that checking a text (`specflow check`) needs no pydantic: a
contract builds its value only when a caller asks for it (ContractResult.value).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["PASS", "FAIL", "N/A"]
Severity = Literal["BLOCKER", "MAJOR", "MINOR", "NIT"]
Verdict = Literal["PASS", "FAIL"]


# --- scope -----------------------------------------------------------------------------------


class ScopeReply(BaseModel):
    """The normal scope reply: questions for the user, the risks seen, a simpler design."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["questions"] = "questions"
    questions: list[str]
    risks: list[str]
    simplification: str


class BlockerReply(BaseModel):
    """The blocker reply: what stops the work, what the user must supply, how to find out."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["blocker"] = "blocker"
    blocker: str
    needs: list[str] | str
    discovery_plan: str


# --- spec ------------------------------------------------------------------------------------


class SpecSection(BaseModel):
    """One section of the spec under its template heading."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    title: str
    body: str
    line: int
    na: bool


class Unknown(BaseModel):
    """An open question the spec cannot decide yet, and how to close it."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    id: str
    what: str
    verify: str
    blocks: str
    line: int


class SpecDoc(BaseModel):
    """A spec that holds its contract, with the parts later stages use."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    sections: list[SpecSection]
    file_plan: list[str]
    unknowns: list[Unknown]
    out_of_scope: list[str]
    test_commands: list[str]


# --- implement -------------------------------------------------------------------------------


class ReviewItem(BaseModel):
    """One line of the self-review: a checklist item, its status, why, and the fix."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str
    status: Status
    reason: str
    fix: str | None = None


class ImplementReply(BaseModel):
    """A file written whole, and the model's review of it against the checklist."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    path: str | None
    language: str | None
    code: str
    self_review: list[ReviewItem]


# --- review ----------------------------------------------------------------------------------


class Finding(BaseModel):
    """One problem the reviewer found: how bad, where, which rule, what, and the proof."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    severity: Severity
    path: str
    line: int | None = None
    rule: str
    message: str
    evidence: str


class ReviewReply(BaseModel):
    """The reviewer's verdict on a diff and the findings behind it."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    verdict: Verdict
    findings: list[Finding]
