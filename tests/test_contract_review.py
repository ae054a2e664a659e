"""The review contract: verdict, findings with evidence, severities, rendering; and the
registry that dispatches every stage's check."""

from __future__ import annotations

import pytest

from specflow.contracts.base import ContractResult
from specflow.contracts.models import Finding, ReviewReply
from specflow.contracts.registry import STAGES, check
from specflow.contracts.review import (
    SEVERITIES,
    blocks,
    check_review,
    render_review,
    severity_rank,
)
from specflow.errors import UsageError

FORM = "`` - [SEVERITY] path:line — <rule or spec section> — <what is wrong>. Evidence: `<code>` ``"
DIFF = {"src/app.py", "src/db.py"}
MAJOR = (
    "- [MAJOR] src/app.py:42 — Error propagation — the exception is swallowed. "
    "Evidence: `except Exception: pass`"
)
NIT = '- [NIT] `src/db.py` — Style — a long line. Evidence: ``q = f"`{t}`"``'


def review(verdict: str = "FAIL", findings: str = MAJOR) -> str:
    return f"## Verdict\n{verdict}\n## Findings\n{findings}\n"


def messages(result: ContractResult[ReviewReply]) -> list[tuple[int | None, str]]:
    assert result.value is None
    return [(v.line, v.message) for v in result.violations]


# --- valid replies ---------------------------------------------------------------------------


def test_fail_with_a_major_finding() -> None:
    result = check_review(review(findings=MAJOR + "\n" + NIT), DIFF)
    assert result.ok, result.violations
    assert result.value == ReviewReply(
        verdict="FAIL",
        findings=[
            Finding(
                severity="MAJOR",
                path="src/app.py",
                line=42,
                rule="Error propagation",
                message="the exception is swallowed",
                evidence="except Exception: pass",
            ),
            Finding(
                severity="NIT",
                path="src/db.py",
                line=None,
                rule="Style",
                message="a long line",
                evidence='q = f"`{t}`"',
            ),
        ],
    )


def test_pass_with_none() -> None:
    result = check_review(review("PASS", "None."), DIFF)
    assert result.value == ReviewReply(verdict="PASS", findings=[])


def test_blank_lines_emphasis_and_a_line_range_are_accepted() -> None:
    text = (
        "## Verdict\n\n**PASS**\n\n## Findings\n\n"
        "- **[MINOR]** ./src/db.py:3-9 -- spec §Scope -- an unrequested flag. "
        "**Evidence:** `--verbose`\n"
    )
    result = check_review(text, DIFF)
    assert result.value is not None, result.violations
    finding = result.value.findings[0]
    assert (finding.severity, finding.path, finding.line, finding.rule) == (
        "MINOR",
        "./src/db.py",
        3,
        "spec §Scope",
    )
    assert finding.evidence == "--verbose"


def test_paths_are_not_checked_without_a_diff() -> None:
    assert check_review(review(findings=MAJOR.replace("src/app.py", "other.py")), None).ok


# --- verdict and findings that disagree ------------------------------------------------------


def test_pass_with_a_major_finding() -> None:
    assert messages(check_review(review("PASS"), DIFF)) == [
        (
            4,
            "the verdict is PASS but the finding on line 4 is MAJOR; "
            "a BLOCKER or MAJOR finding means FAIL",
        )
    ]


def test_fail_without_a_major_finding() -> None:
    assert messages(check_review(review("FAIL", NIT), DIFF)) == [
        (
            None,
            "the verdict is FAIL but no finding is BLOCKER or MAJOR; list the finding that "
            "fails the change, or make the verdict PASS",
        )
    ]
    assert messages(check_review(review("FAIL", "None."), DIFF))[0][1].startswith(
        "the verdict is FAIL but no finding"
    )


def test_the_threshold_moves_the_bar() -> None:
    assert check_review(review("PASS"), DIFF, threshold="BLOCKER").ok
    assert messages(check_review(review("PASS", NIT), DIFF, threshold="NIT")) == [
        (
            4,
            "the verdict is PASS but the finding on line 4 is NIT; "
            "a BLOCKER or MAJOR or MINOR or NIT finding means FAIL",
        )
    ]


def test_a_finding_whose_path_is_not_in_the_diff() -> None:
    text = review(findings=MAJOR.replace("src/app.py", "src/other.py"))
    assert messages(check_review(text, DIFF)) == [
        (
            4,
            "the finding on line 4 names `src/other.py`, which is not in the diff; findings "
            "point at changed files: `src/app.py`, `src/db.py`",
        )
    ]


# --- malformed findings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "- MAJOR src/app.py:1 — r — m. Evidence: `x`",
            "does not start with a severity in brackets, e.g. `[MAJOR]`",
        ),
        (
            "- [CRITICAL] src/app.py:1 — r — m. Evidence: `x`",
            "has the severity `[CRITICAL]`; use one of BLOCKER, MAJOR, MINOR, NIT",
        ),
        ("- [MAJOR] — r — m. Evidence: `x`", "has no file path after the severity"),
        (
            "- [MAJOR] src/app.py:1 — m. Evidence: `x`",
            "is missing the rule or spec section it rests on (parts are separated by ` — `)",
        ),
        ("- [MAJOR] src/app.py:1 — r — . Evidence: `x`", "does not say what is wrong"),
        ("- [MAJOR] src/app.py:1 — r — m.", "has no `Evidence:` quoting the code"),
        ("- [MAJOR] src/app.py:1 — r — m. Evidence:", "has an empty `Evidence:`"),
    ],
)
def test_a_malformed_finding_names_the_part(line: str, problem: str) -> None:
    # FAIL is not judged while a finding cannot be read: only the format error is reported.
    assert messages(check_review(review("FAIL", line), DIFF)) == [
        (4, f"the finding on line 4 {problem}; write it as {FORM}")
    ]


def test_prose_in_findings_and_an_empty_findings_section() -> None:
    text = review(findings="Looks fine overall.\n\n" + MAJOR)
    assert messages(check_review(text, DIFF)) == [
        (
            4,
            f"text (line 4) in `## Findings` is outside its list; write one {FORM} per "
            "finding, or exactly `None.`",
        )
    ]
    assert messages(check_review(review("PASS", ""), DIFF)) == [
        (3, "`## Findings` is empty (line 3); write `None.` when there are no findings")
    ]


# --- the verdict and the headings ------------------------------------------------------------


def test_a_verdict_that_is_not_pass_or_fail() -> None:
    assert messages(check_review(review("PASS with nits", "None."), DIFF)) == [
        (1, "`## Verdict` must be exactly `PASS` or `FAIL` (line 1); found `PASS with nits`")
    ]
    assert messages(check_review("## Verdict\n\n## Findings\nNone.\n", DIFF)) == [
        (1, "`## Verdict` is empty (line 1); write `PASS` or `FAIL`")
    ]


def test_headings_text_before_and_a_missing_section() -> None:
    assert messages(check_review("Review:\n\n" + review(), DIFF)) == [
        (1, "text before the first heading (line 1); the reply must start with `## Verdict`")
    ]
    assert messages(check_review("## Verdict\nPASS\n", DIFF)) == [
        (None, "`## Findings` is missing; it comes after `## Verdict`")
    ]


# --- severities and rendering ----------------------------------------------------------------


def test_severity_rank_and_blocks() -> None:
    assert SEVERITIES == ("BLOCKER", "MAJOR", "MINOR", "NIT")
    assert [severity_rank(s) for s in SEVERITIES] == [3, 2, 1, 0]
    assert severity_rank(" major ") == 2
    with pytest.raises(ValueError, match="unknown severity 'HIGH'; use one of BLOCKER"):
        severity_rank("HIGH")
    finding = Finding(severity="MINOR", path="a.py", rule="r", message="m", evidence="x")
    assert blocks([finding], "MINOR") and blocks([finding], "NIT")
    assert not blocks([finding], "MAJOR") and not blocks([], "NIT")


def test_render_review_round_trips() -> None:
    reply = ReviewReply(
        verdict="FAIL",
        findings=[
            Finding(
                severity="BLOCKER",
                path="src/app.py",
                line=7,
                rule="Secrets",
                message="a token in code",
                evidence='TOKEN = "abc"',
            ),
            Finding(severity="NIT", path="src/db.py", rule="Style", message="why?", evidence="`x`"),
        ],
    )
    text = render_review(reply)
    assert text == (
        "## Verdict\n\nFAIL\n\n## Findings\n\n"
        '- [BLOCKER] src/app.py:7 — Secrets — a token in code. Evidence: `TOKEN = "abc"`\n'
        "- [NIT] src/db.py — Style — why? Evidence: `` `x` ``\n"
    )
    assert check_review(text, DIFF).value == reply
    empty = ReviewReply(verdict="PASS", findings=[])
    assert render_review(empty) == "## Verdict\n\nPASS\n\n## Findings\n\nNone.\n"
    assert check_review(render_review(empty), DIFF).value == empty


# --- the registry ----------------------------------------------------------------------------


def test_registry_dispatches_each_stage() -> None:
    assert STAGES == ("scope", "spec", "implement", "review")
    assert check("review", review(), diff_paths=DIFF).ok
    assert not check("review", review("PASS"), threshold="BLOCKER", diff_paths={"x"}).ok
    assert check("spec", "## Goal\n\nFast.\n", headings=["Goal"]).ok
    text = "```python\nx = 1\n```\n## Self-Review\n- Tests: PASS — yes\n"
    assert check("implement", text, checklist=["Tests"], path="a.py").ok
    assert check(
        "scope", "## Blocker\nx\n## What I Need From You\ny\n## Phase 0 Discovery Plan\nz\n"
    ).ok


def test_registry_refuses_an_unknown_stage_and_missing_context() -> None:
    with pytest.raises(UsageError, match="unknown stage `plan`; the stages are scope, spec"):
        check("plan", "")
    with pytest.raises(TypeError, match=r"check\('spec', ...\) needs headings="):
        check("spec", "## Goal\n")


def test_comments_around_the_verdict_and_none_are_ignored() -> None:
    text = "## Verdict\n<!-- PASS or FAIL -->\nPASS\n## Findings\nNone.\n<!-- one per line -->\n"
    assert check_review(text, DIFF).value == ReviewReply(verdict="PASS", findings=[])
