"""The implement contract: one whole file in one code block, a self-review per checklist item,
and a syntax check where specflow knows the language."""

from __future__ import annotations

import pytest

from specflow.contracts.base import ContractResult
from specflow.contracts.implement import check_implement
from specflow.contracts.models import ImplementReply, ReviewItem
from specflow.contracts.self_review import parse_checklist
from specflow.errors import ConfigError

STANDARDS = """# Engineering standards

## Logging

Use the logging module.

## Review Checklist

- Logging: logging framework, not print.
- **Error propagation**: no swallowed exceptions.
- Tests: behaviour covered.

## Afterword

- Not: a checklist item.
"""
CHECKLIST = ["Logging", "Error propagation", "Tests"]
CODE = 'import logging\n\nLOG = logging.getLogger(__name__)\nPATTERN = "\\d+"\n'
REVIEW = (
    "- Logging: PASS — a module logger, no print.\n"
    "- Error propagation: N/A — nothing is caught.\n"
    "- Tests: PASS — tests/test_app.py covers the pattern."
)
FAIL_RULE = "implement.self-review-fail"
LINE_FORM = "`- <Name>: PASS|FAIL|N/A — <reason>`"
LAYOUT = (
    "the reply is an optional `## File: <path>`, one fenced code block with the whole file, "
    "then `## Self-Review`"
)


def reply(
    code: str = CODE,
    review: str = REVIEW,
    heading: str | None = "## File: src/app.py",
    info: str = "python",
) -> str:
    top = f"{heading}\n\n" if heading else ""
    return f"{top}```{info}\n{code}```\n\n## Self-Review\n\n{review}\n"


def messages(result: ContractResult[ImplementReply]) -> list[tuple[int | None, str]]:
    assert result.value is None
    return [(v.line, v.message) for v in result.violations]


# --- the checklist ---------------------------------------------------------------------------


def test_parse_checklist_reads_the_names_of_the_review_checklist() -> None:
    assert parse_checklist(STANDARDS) == CHECKLIST


def test_parse_checklist_without_the_section() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_checklist("# Standards\n\n## Logging\n\n- Logging: x\n")
    assert str(caught.value) == (
        "the engineering standards have no `## Review Checklist` section; add one with one "
        "item per check, e.g. `- Logging: <what to check>`"
    )


def test_parse_checklist_with_an_item_without_a_name() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_checklist("## Review Checklist\n\n- Logging: x\n- check the tests\n")
    assert str(caught.value) == (
        "the engineering standards, line 4: the checklist item is not "
        "`- <Name>: <what to check>`; give it a short name and a colon"
    )


def test_parse_checklist_with_a_repeated_name() -> None:
    with pytest.raises(ConfigError, match=r"line 4: the checklist item `logging` appears twice"):
        parse_checklist("## Review Checklist\n\n- Logging: x\n- logging: y\n")


# --- valid replies ---------------------------------------------------------------------------


def test_valid_reply_gives_the_file_and_its_review() -> None:
    result = check_implement(reply(), "src/app.py", CHECKLIST)
    assert result.ok, result.violations
    assert result.value == ImplementReply(
        path="src/app.py",
        language="python",
        code=CODE,
        self_review=[
            ReviewItem(name="Logging", status="PASS", reason="a module logger, no print."),
            ReviewItem(name="Error propagation", status="N/A", reason="nothing is caught."),
            ReviewItem(name="Tests", status="PASS", reason="tests/test_app.py covers the pattern."),
        ],
    )


def test_the_file_heading_is_optional_and_may_name_the_path() -> None:
    result = check_implement(reply(heading=None), "src/app.py", CHECKLIST)
    assert result.ok, result.violations
    result = check_implement(reply(heading="## File: `./src/app.py`"), None, CHECKLIST)
    assert result.value is not None and result.value.path == "./src/app.py"
    result = check_implement(reply(heading=None, info="py"), None, CHECKLIST)
    assert result.value is not None
    assert (result.value.path, result.value.language) == (None, "python")


def test_review_lines_in_any_order_any_case_with_emphasis() -> None:
    review = (
        "- **tests**: **FAIL** — none -- fix: added one\n"
        "- LOGGING: pass — fine\n"
        "- Error propagation: n/a: no handlers"
    )
    result = check_implement(
        reply(review=review), "src/app.py", CHECKLIST, disabled=frozenset({FAIL_RULE})
    )
    assert result.value is not None, result.violations
    assert [(i.name, i.status, i.fix) for i in result.value.self_review] == [
        ("Tests", "FAIL", "added one"),
        ("Logging", "PASS", None),
        ("Error propagation", "N/A", None),
    ]


def test_a_file_that_holds_a_fence_uses_a_longer_fence() -> None:
    markdown = "# Notes\n\n```python\nx = 1\n```\n"
    text = f"````markdown\n{markdown}````\n\n## Self-Review\n\n{REVIEW}\n"
    result = check_implement(text, "docs/notes.md", CHECKLIST)
    assert result.value is not None, result.violations
    assert (result.value.code, result.value.language) == (markdown, "markdown")


def test_an_empty_checklist_accepts_any_well_formed_review() -> None:
    result = check_implement(reply(review="- Style: PASS — fine"), "src/app.py", [])
    assert result.value is not None
    assert result.value.self_review == [ReviewItem(name="Style", status="PASS", reason="fine")]


def test_an_invalid_escape_in_python_is_not_a_syntax_error_nor_a_warning() -> None:
    # pytest turns warnings into errors here, so a leaked SyntaxWarning would fail this test.
    assert check_implement(reply(code='X = "\\d"\n'), "src/app.py", CHECKLIST).ok


# --- the layout ------------------------------------------------------------------------------


def test_two_code_blocks() -> None:
    text = reply(code="x = 1\n```\n\n```python\ny = 2\n")
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (
            7,
            "the reply has 2 fenced code blocks (lines 3 and 7); it must hold exactly one, "
            "with the whole content of `src/app.py`",
        )
    ]


def test_no_code_block() -> None:
    text = "## File: src/app.py\n\n    x = 1\n\n## Self-Review\n\n" + REVIEW + "\n"
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (
            None,
            "the reply has no fenced code block; put the whole content of `src/app.py` in one "
            "fenced block",
        ),
        (3, f"text (line 3) outside the code block; {LAYOUT}"),
    ]


def test_prose_around_the_code_block() -> None:
    text = "Here is the file.\n\n" + reply(heading=None).replace(
        "```\n\n## Self", "```\n\nHope this helps.\n\n## Self"
    )
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (1, f"text (line 1) outside the code block; {LAYOUT}"),
        (10, f"text (line 10) outside the code block; {LAYOUT}"),
    ]


def test_text_before_the_file_heading() -> None:
    text = "Sure.\n\n" + reply()
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (1, f"text before `## File: src/app.py` (line 1); {LAYOUT}")
    ]


def test_a_wrong_file_path() -> None:
    text = reply(heading="## File: `src/other.py`")
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (
            1,
            "`` ## File: `src/other.py` `` names `src/other.py` but the requested file is "
            "`src/app.py` (line 1); write only `src/app.py`",
        )
    ]


def test_a_file_heading_without_a_path() -> None:
    text = reply(heading="## File:")
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (1, "`## File:` names no file (line 1); write `## File: src/app.py`")
    ]


def test_an_unexpected_heading() -> None:
    text = reply().replace("## Self-Review", "## Notes\n\nnone\n\n## Self-Review")
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (10, f"unexpected heading `## Notes` (line 10); {LAYOUT}")
    ]


def test_the_code_block_inside_the_self_review() -> None:
    text = "## Self-Review\n\n" + REVIEW + "\n\n```python\nx = 1\n```\n"
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (7, f"the code block (line 7) is in `## Self-Review`; {LAYOUT}"),
        (
            7,
            "text (line 7) in `## Self-Review` is outside its list; write one "
            f"{LINE_FORM} per checklist item",
        ),
    ]


def test_the_self_review_missing_or_empty() -> None:
    text = "```python\nx = 1\n```\n"
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (None, "`## Self-Review` is missing; it comes after the code block")
    ]
    text = reply(review="<!-- todo -->")
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (
            10,
            f"`## Self-Review` is empty (line 10); write one {LINE_FORM} line per checklist "
            "item: Logging, Error propagation, Tests",
        )
    ]


def test_the_self_review_twice() -> None:
    text = reply() + "\n## Self-Review\n\n" + REVIEW + "\n"
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (16, "`## Self-Review` appears twice (lines 10 and 16); keep one")
    ]


# --- self-review lines -----------------------------------------------------------------------


def test_fail_without_a_fix() -> None:
    review = REVIEW.replace("PASS — tests/test_app.py covers", "FAIL — nothing covers")
    assert messages(check_implement(reply(review=review), "src/app.py", CHECKLIST)) == [
        (
            14,
            "`## Self-Review` line 14: `Tests` is FAIL without a fix; append "
            "`— fix: <what was or must be changed>`",
        )
    ]


def test_a_missing_checklist_item() -> None:
    review = "\n".join(REVIEW.split("\n")[:2])
    assert messages(check_implement(reply(review=review), "src/app.py", CHECKLIST)) == [
        (10, "`## Self-Review` has no line for `Tests`; add `- Tests: PASS|FAIL|N/A — <reason>`")
    ]


def test_an_unknown_and_a_repeated_item() -> None:
    review = REVIEW + "\n- Style: PASS — fine\n- Logging: PASS — again"
    assert messages(check_implement(reply(review=review), "src/app.py", CHECKLIST)) == [
        (
            15,
            "`## Self-Review` line 15 names `Style`, which is not a checklist item; the items "
            "are: Logging, Error propagation, Tests",
        ),
        (16, "`Logging` appears twice in `## Self-Review` (lines 12 and 16); keep one"),
    ]


def test_malformed_review_lines() -> None:
    review = "- Logging: PASS\n- Error propagation: looks fine\n- Tests FAIL none\n\nAll good."
    assert messages(check_implement(reply(review=review), "src/app.py", CHECKLIST)) == [
        (10, "`## Self-Review` has no line for `Tests`; add `- Tests: PASS|FAIL|N/A — <reason>`"),
        (
            12,
            "`## Self-Review` line 12: `Logging` has no reason after PASS; write "
            "`- Logging: PASS — <reason>`",
        ),
        (
            13,
            "`## Self-Review` line 13: `Error propagation` has no status; write "
            "`- Error propagation: PASS|FAIL|N/A — <reason>`",
        ),
        (14, f"`## Self-Review` line 14 is not {LINE_FORM}"),
        (
            16,
            "text (line 16) in `## Self-Review` is outside its list; write one "
            f"{LINE_FORM} per checklist item",
        ),
    ]


# --- syntax ----------------------------------------------------------------------------------


def test_a_python_syntax_error_gives_the_file_line_and_the_reply_line() -> None:
    code = "import os\n\n\ndef main(:\n    pass\n"
    assert messages(check_implement(reply(code=code), "src/app.py", CHECKLIST)) == [
        (
            7,
            "Python syntax error in `src/app.py` line 4 (reply line 7): invalid syntax; "
            "the block must hold the whole file and parse",
        )
    ]


def test_the_language_comes_from_the_path_before_the_fence() -> None:
    # A .json path is checked as JSON even when the fence says python.
    text = reply(code='{"a": 1,\n "b": }\n', info="python", heading=None)
    assert messages(check_implement(text, "config/app.json", CHECKLIST)) == [
        (
            3,
            "JSON syntax error in `config/app.json` line 2 (reply line 3): Expecting value; "
            "the block must hold the whole file and parse",
        )
    ]


def test_bad_yaml() -> None:
    text = reply(code="name: ci\n- on: push\n", info="yaml", heading=None)
    assert messages(check_implement(text, ".github/ci.yml", CHECKLIST)) == [
        (
            3,
            "YAML syntax error in `.github/ci.yml` line 2 (reply line 3): expected <block end>, "
            "but found '-'; the block must hold the whole file and parse",
        )
    ]


def test_bad_yaml_in_a_later_document() -> None:
    code = "a: 1\n---\nb: [1, 2\n"
    result = check_implement(reply(code=code, info="yaml", heading=None), None, CHECKLIST)
    assert [v.message.split(":")[0] for v in result.violations] == [
        "YAML syntax error in the code block line 4 (reply line 5)"
    ]


def test_bad_toml() -> None:
    text = reply(code="[tool]\nname = \n", info="toml", heading=None)
    assert messages(check_implement(text, "pyproject.toml", CHECKLIST)) == [
        (
            3,
            "TOML syntax error in `pyproject.toml` line 2 (reply line 3): Invalid value; "
            "the block must hold the whole file and parse",
        )
    ]


def test_valid_json_yaml_and_toml() -> None:
    for path, code in [
        ("a.json", '{"a": [1, 2]}\n'),
        ("a.yaml", "a: 1\n---\nb: 2\n"),
        ("a.toml", "[a]\nb = 1\n"),
    ]:
        result = check_implement(reply(code=code, heading=None, info=""), path, CHECKLIST)
        assert result.ok, (path, result.violations)


def test_unknown_languages_are_not_checked() -> None:
    text = reply(code="fn main( {\n", info="rust", heading=None)
    result = check_implement(text, "src/main.rs", CHECKLIST)
    assert result.value is not None and result.value.language == "rust"
    result = check_implement(reply(code="def (:\n", info="", heading=None), None, CHECKLIST)
    assert result.value is not None and result.value.language is None


def test_a_cut_off_reply_leaves_the_code_block_open() -> None:
    text = "## File: src/app.py\n\n```python\nimport os\n\ndef main(:\n"
    assert messages(check_implement(text, "src/app.py", CHECKLIST)) == [
        (None, "`## Self-Review` is missing; it comes after the code block"),
        (
            3,
            "the code block (line 3) is never closed: the reply ends inside it; "
            "close it with ```` ``` ````",
        ),
    ]
