"""The scope contract: questions form and blocker form, with exact violations and lines."""

from __future__ import annotations

from specflow.contracts.base import ContractResult
from specflow.contracts.models import BlockerReply, ScopeReply
from specflow.contracts.scope import check_scope
from tests.support.samples import SCOPE_REPLY

QUESTIONS = [
    "Which Oracle version runs the job table?",
    "Is the exporter allowed a read-only account?",
    "Which port may it listen on?",
    "How often may it query the table?",
    "Which job states count as stuck?",
]


def scope_reply(
    questions: list[str] | None = None,
    risks: str = "- The job table may be partitioned.",
    simplification: str = "Expose one gauge per job state; no history.",
) -> str:
    items = "\n".join(f"{n}. {q}" for n, q in enumerate(questions or QUESTIONS, start=1))
    return (
        f"## Scoping Questions\n\n{items}\n\n"
        f"## Current Risks / Ambiguities\n\n{risks}\n\n"
        f"## Proposed Simplification\n\n{simplification}\n"
    )


BLOCKER = """## Blocker

The Oracle job table is not reachable from this network and no schema is attached.

## What I Need From You

- The DDL of the job table.
- A read-only account.

## Phase 0 Discovery Plan

1. Run `DESCRIBE jobs` on a replica.
2. Confirm network access from the exporter host.
"""


def messages(result: ContractResult[ScopeReply | BlockerReply]) -> list[tuple[int | None, str]]:
    assert result.value is None
    return [(v.line, v.message) for v in result.violations]


# --- the questions form ----------------------------------------------------------------------


def test_valid_questions_form_gives_the_typed_reply() -> None:
    result = check_scope(scope_reply())
    assert result.ok
    assert result.value == ScopeReply(
        questions=QUESTIONS,
        risks=["The job table may be partitioned."],
        simplification="Expose one gauge per job state; no history.",
    )
    assert isinstance(result.value, ScopeReply) and result.value.kind == "questions"


def test_bulleted_questions_with_sub_bullets_and_wrapped_lines_count_once_each() -> None:
    questions = "\n".join(f"- {q}" for q in QUESTIONS[:4])
    text = scope_reply().replace(
        "\n".join(f"{n}. {q}" for n, q in enumerate(QUESTIONS, start=1)),
        questions + "\n- Should stuck mean\n  older than one hour?\n  - yes\n  - no",
    )
    result = check_scope(text)
    assert result.ok, result.violations
    assert isinstance(result.value, ScopeReply)
    assert result.value.questions[-1] == "Should stuck mean older than one hour?"
    assert len(result.value.questions) == 5


def test_headings_match_apart_from_case_and_surrounding_whitespace() -> None:
    text = scope_reply().replace("## Scoping Questions", "##   scoping QUESTIONS  ")
    assert check_scope(text).ok


def test_a_heading_inside_a_code_fence_is_not_a_heading() -> None:
    simplification = "Ship one file:\n\n```markdown\n## Blocker\n# not a heading\n```"
    result = check_scope(scope_reply(simplification=simplification))
    assert result.ok, result.violations
    assert isinstance(result.value, ScopeReply)
    assert result.value.simplification == simplification


def test_prose_before_the_first_heading() -> None:
    result = check_scope("Here are my questions.\n\n" + scope_reply())
    assert messages(result) == [
        (
            1,
            "text before the first heading (line 1); "
            "the reply must start with `## Scoping Questions`",
        )
    ]


def test_an_html_comment_before_the_first_heading_is_not_text() -> None:
    assert check_scope("<!-- scope -->\n" + scope_reply()).ok


def test_four_questions_are_too_few() -> None:
    result = check_scope(scope_reply(QUESTIONS[:4]))
    assert messages(result) == [
        (1, "`## Scoping Questions` has 4 questions; the contract allows 5–8")
    ]


def test_nine_questions_are_too_many() -> None:
    nine = QUESTIONS + ["Who owns it?", "Where are logs?", "Which Python?", "Which OS?"]
    result = check_scope(scope_reply(nine))
    assert messages(result) == [
        (1, "`## Scoping Questions` has 9 questions; the contract allows 5–8")
    ]


def test_the_question_range_can_be_configured() -> None:
    assert check_scope(scope_reply(QUESTIONS[:4]), min_questions=4, max_questions=6).ok
    result = check_scope(scope_reply(), min_questions=2, max_questions=3)
    assert messages(result) == [
        (1, "`## Scoping Questions` has 5 questions; the contract allows 2–3")
    ]


def test_a_question_that_does_not_end_with_a_question_mark() -> None:
    questions = QUESTIONS[:2] + ["Tell me the port."] + QUESTIONS[3:]
    result = check_scope(scope_reply(questions))
    assert messages(result) == [
        (
            5,
            "question 3 (line 5) does not end with `?`; each list item must be one question",
        )
    ]


def test_questions_outside_a_list_are_reported_and_not_counted() -> None:
    text = scope_reply().replace("## Scoping Questions\n\n", "## Scoping Questions\n\nWhy now?\n\n")
    result = check_scope(text)
    assert messages(result) == [
        (
            3,
            "text outside the list in `## Scoping Questions` (line 3); "
            "every question must be a list item",
        )
    ]


def test_no_questions_at_all() -> None:
    text = scope_reply().replace(
        "\n".join(f"{n}. {q}" for n, q in enumerate(QUESTIONS, start=1)), "<!-- none -->"
    )
    assert messages(check_scope(text)) == [
        (1, "`## Scoping Questions` has 0 questions; the contract allows 5–8")
    ]


def test_risks_need_at_least_one_list_item() -> None:
    result = check_scope(scope_reply(risks="Nothing stands out."))
    assert messages(result) == [
        (
            9,
            "`## Current Risks / Ambiguities` has no list items (line 9); "
            "list at least one risk or ambiguity as `- <risk>`",
        )
    ]


def test_empty_risks_and_empty_simplification() -> None:
    result = check_scope(scope_reply(risks="", simplification="<!-- later -->"))
    assert messages(result) == [
        (
            9,
            "`## Current Risks / Ambiguities` is empty (line 9); "
            "list at least one risk or ambiguity as `- <risk>`",
        ),
        (13, "`## Proposed Simplification` is empty (line 13); propose one simplification"),
    ]


def test_sections_out_of_order() -> None:
    text = (
        "## Scoping Questions\n\n"
        + "\n".join(f"- {q}" for q in QUESTIONS)
        + "\n\n## Proposed Simplification\n\nOne gauge.\n\n"
        "## Current Risks / Ambiguities\n\n- Partitions.\n"
    )
    assert messages(check_scope(text)) == [
        (
            9,
            "`## Proposed Simplification` (line 9) is out of order; "
            "it comes after `## Current Risks / Ambiguities`",
        )
    ]


def test_a_missing_section_says_where_it_belongs() -> None:
    text = scope_reply().split("## Proposed Simplification")[0]
    assert messages(check_scope(text)) == [
        (
            None,
            "`## Proposed Simplification` is missing; "
            "it comes after `## Current Risks / Ambiguities`",
        )
    ]


def test_an_extra_section_is_reported_with_the_sections_allowed() -> None:
    text = scope_reply() + "\n## Next Steps\n\nI will write the spec.\n"
    assert messages(check_scope(text)) == [
        (
            17,
            "extra section `## Next Steps` (line 17); the sections are "
            "`## Scoping Questions`, `## Current Risks / Ambiguities`, "
            "`## Proposed Simplification`",
        )
    ]


def test_a_misspelt_section_gets_a_suggestion() -> None:
    text = scope_reply().replace("## Current Risks / Ambiguities", "## Current Risks")
    assert messages(check_scope(text)) == [
        (
            None,
            "`## Current Risks / Ambiguities` is missing; it comes after `## Scoping Questions`",
        ),
        (
            9,
            "extra section `## Current Risks` (line 9); did you mean "
            "`## Current Risks / Ambiguities`?",
        ),
    ]


def test_a_duplicated_section() -> None:
    text = scope_reply() + "\n## Proposed Simplification\n\nAnother idea.\n"
    assert messages(check_scope(text)) == [
        (17, "`## Proposed Simplification` appears twice (lines 13 and 17); keep one")
    ]


def test_a_level_one_heading_with_a_contract_title() -> None:
    text = scope_reply().replace("## Proposed Simplification", "# Proposed Simplification")
    assert messages(check_scope(text)) == [
        (
            13,
            "`# Proposed Simplification` (line 13) must be a level-2 heading: "
            "`## Proposed Simplification`",
        )
    ]


def test_a_level_three_heading_inside_a_section_is_content() -> None:
    simplification = "### Option A\n\nOne gauge per state."
    assert check_scope(scope_reply(simplification=simplification)).ok


def test_several_violations_come_in_reading_order() -> None:
    text = "Sure!\n\n" + scope_reply(QUESTIONS[:3] + ["Port"]).split("## Proposed")[0]
    assert messages(check_scope(text)) == [
        (
            None,
            "`## Proposed Simplification` is missing; "
            "it comes after `## Current Risks / Ambiguities`",
        ),
        (
            1,
            "text before the first heading (line 1); "
            "the reply must start with `## Scoping Questions`",
        ),
        (3, "`## Scoping Questions` has 4 questions; the contract allows 5–8"),
        (8, "question 4 (line 8) does not end with `?`; each list item must be one question"),
    ]


# --- deciding the form -----------------------------------------------------------------------


def test_a_first_heading_of_neither_form_names_both_starts() -> None:
    result = check_scope("## Questions\n\n1. Why?\n")
    assert messages(result) == [
        (
            1,
            "the first heading is `## Questions` (line 1); a scope reply starts with "
            "`## Scoping Questions` (questions form) or `## Blocker` (blocker form)",
        )
    ]


def test_a_reply_without_headings() -> None:
    result = check_scope("1. Why?\n2. How?\n")
    assert messages(result) == [
        (
            None,
            "the reply has no headings; a scope reply starts with `## Scoping Questions` "
            "(questions form) or `## Blocker` (blocker form)",
        )
    ]


def test_prose_and_a_wrong_first_heading() -> None:
    result = check_scope("Hello.\n\n## Risks\n\n- x\n")
    assert messages(result) == [
        (
            1,
            "text before the first heading (line 1); the reply must start with "
            "`## Scoping Questions` or `## Blocker`",
        ),
        (
            3,
            "the first heading is `## Risks` (line 3); a scope reply starts with "
            "`## Scoping Questions` (questions form) or `## Blocker` (blocker form)",
        ),
    ]


# --- the blocker form ------------------------------------------------------------------------


def test_valid_blocker_form() -> None:
    result = check_scope(BLOCKER)
    assert result.ok
    assert result.value == BlockerReply(
        blocker="The Oracle job table is not reachable from this network "
        "and no schema is attached.",
        needs=["The DDL of the job table.", "A read-only account."],
        discovery_plan="1. Run `DESCRIBE jobs` on a replica.\n"
        "2. Confirm network access from the exporter host.",
    )
    assert isinstance(result.value, BlockerReply) and result.value.kind == "blocker"


def test_blocker_needs_in_prose_are_kept_as_text() -> None:
    text = BLOCKER.replace(
        "- The DDL of the job table.\n- A read-only account.",
        "The DDL of the job table, and:\n\n- A read-only account.",
    )
    result = check_scope(text)
    assert isinstance(result.value, BlockerReply)
    assert result.value.needs == "The DDL of the job table, and:\n\n- A read-only account."


def test_blocker_form_with_an_empty_section() -> None:
    text = BLOCKER.replace(
        "- The DDL of the job table.\n- A read-only account.\n", "<!-- fill in -->\n"
    )
    assert messages(check_scope(text)) == [
        (
            5,
            "`## What I Need From You` is empty (line 5); list what the user must supply",
        )
    ]


def test_blocker_form_missing_a_section_and_with_prose_before_it() -> None:
    text = "I am blocked.\n\n" + BLOCKER.split("## Phase 0")[0]
    assert messages(check_scope(text)) == [
        (
            None,
            "`## Phase 0 Discovery Plan` is missing; it comes after `## What I Need From You`",
        ),
        (1, "text before the first heading (line 1); the reply must start with `## Blocker`"),
    ]


def test_blocker_form_does_not_accept_question_sections() -> None:
    text = BLOCKER + "\n## Scoping Questions\n\n1. Why?\n"
    assert messages(check_scope(text)) == [
        (
            15,
            "extra section `## Scoping Questions` (line 15); the sections are `## Blocker`, "
            "`## What I Need From You`, `## Phase 0 Discovery Plan`",
        )
    ]


def test_a_question_worded_with_which_and_does_is_still_seen_as_answered() -> None:
    description = "Prometheus exporter for the Oracle job table. The exporter listens on port 9187."
    asked = SCOPE_REPLY.replace(
        "1. Which Oracle version and driver does the exporter connect with?",
        "1. Which port does the exporter listen on?",
    )
    result = check_scope(asked, description=description)
    assert [v.rule for v in result.violations] == ["scope.answered-question"]
    assert "The exporter listens on port 9187." in str(result.violations[0])
    # near miss: the description names no port, so the question stands
    assert check_scope(asked, description="Prometheus exporter for the Oracle job table.").ok
