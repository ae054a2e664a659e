"""The answers file: rendering, reading back, setting one answer, and malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from specflow.contracts.answers import Answer, parse_answers, render_answers, set_answer
from specflow.errors import StateError, UsageError

QUESTIONS = ["Which Oracle version?", "Which port\nmay it use?", "Who owns the alerts?"]


def test_render_answers_empty() -> None:
    assert render_answers(QUESTIONS) == (
        "# Answers\n"
        "\n"
        "Write each answer below its question. `skip: <reason>` is a valid answer.\n"
        "\n"
        "## 1. Which Oracle version?\n"
        "\n"
        "\n"
        "\n"
        "## 2. Which port may it use?\n"
        "\n"
        "\n"
        "\n"
        "## 3. Who owns the alerts?\n"
        "\n"
        "\n"
    )


def test_render_answers_with_answers_and_a_later_round() -> None:
    text = render_answers(QUESTIONS[:2], {2: "  9100\n"}, round=2)
    assert text.startswith("# Answers (round 2)\n\n")
    assert "## 2. Which port may it use?\n\n9100\n" in text


def test_parse_answers_reads_back_what_was_rendered() -> None:
    text = render_answers(QUESTIONS, {1: "19c", 3: "skip: nobody yet"})
    assert parse_answers(text) == [
        Answer(1, "Which Oracle version?", "19c"),
        Answer(2, "Which port may it use?", ""),
        Answer(3, "Who owns the alerts?", "skip: nobody yet"),
    ]


def test_a_comment_placeholder_counts_as_empty() -> None:
    text = "# Answers\n\n## 1. Q?\n\n<!-- your answer -->\n\n## 2. R?\n\nyes\n<!-- note -->\n"
    assert parse_answers(text) == [Answer(1, "Q?", ""), Answer(2, "R?", "yes")]


def test_multi_paragraph_answers_keep_their_markdown_and_fenced_headings() -> None:
    answer = "Oracle 19c.\n\n- thin mode\n\n```sql\n## 2. not a question\n```\n\n### Notes\n\nok"
    text = render_answers(QUESTIONS, {1: answer})
    assert parse_answers(text)[0] == Answer(1, "Which Oracle version?", answer)


def test_set_answer_changes_one_answer_and_keeps_the_rest() -> None:
    text = render_answers(QUESTIONS, {1: "19c", 3: "ops"})
    new = set_answer(text, 2, "9100\n")
    assert parse_answers(new) == [
        Answer(1, "Which Oracle version?", "19c"),
        Answer(2, "Which port may it use?", "9100"),
        Answer(3, "Who owns the alerts?", "ops"),
    ]
    assert new == text.replace(
        "## 2. Which port may it use?\n\n\n\n", "## 2. Which port may it use?\n\n9100\n\n"
    )
    assert set_answer(new, 2, "9200").count("9100") == 0


def test_set_answer_on_the_last_question_and_clearing_an_answer() -> None:
    text = render_answers(QUESTIONS, {3: "ops"})
    assert set_answer(text, 3, "sre").endswith("## 3. Who owns the alerts?\n\nsre\n")
    assert parse_answers(set_answer(text, 3, ""))[2].answer == ""


def test_set_answer_keeps_text_the_user_wrote_around_the_questions() -> None:
    text = "# Answers\n\nMy notes.\n\n## 1. Q?\n\nold\n\n## 2. R?\n\nkeep me\n"
    assert set_answer(text, 1, "new") == (
        "# Answers\n\nMy notes.\n\n## 1. Q?\n\nnew\n\n## 2. R?\n\nkeep me\n"
    )


def test_set_answer_for_a_missing_question() -> None:
    with pytest.raises(UsageError) as caught:
        set_answer(render_answers(QUESTIONS), 4, "x")
    assert str(caught.value) == "question 4 is not in the answers file; its questions are 1, 2, 3"


@pytest.mark.parametrize("answer", ["## 3. A new question", "```\nunclosed fence"])
def test_set_answer_refuses_markdown_that_changes_the_questions(answer: str) -> None:
    with pytest.raises(UsageError) as caught:
        set_answer(render_answers(QUESTIONS), 1, answer)
    assert str(caught.value) == (
        "the answer to question 1 would change the answers file's questions (it holds a `#` "
        "heading or an unclosed code fence); reword it, or edit the file directly"
    )


def test_a_heading_that_is_not_a_numbered_question() -> None:
    text = render_answers(QUESTIONS) + "\n## Notes\n\nmore\n"
    with pytest.raises(StateError) as caught:
        parse_answers(text, source=".specflow/tasks/x/answers.md")
    assert str(caught.value) == (
        ".specflow/tasks/x/answers.md, line 17: the heading `## Notes` is not "
        "`## <number>. <question>`; restore the question's heading, or if this line belongs "
        "to an answer, remove the `#` marks at its start"
    )


def test_a_repeated_question_number() -> None:
    text = "## 1. Q?\n\na\n\n## 1. R?\n\nb\n"
    with pytest.raises(StateError) as caught:
        parse_answers(text)
    assert str(caught.value) == (
        "answers.md, line 5: question 1 appears twice (lines 1 and 5); keep one of them"
    )


def test_a_level_one_heading_among_the_answers() -> None:
    text = "# Answers\n\n## 1. Q?\n\n# Big answer\n"
    with pytest.raises(StateError) as caught:
        parse_answers(text)
    assert str(caught.value) == (
        "answers.md, line 5: the `#` heading `# Big answer` is inside the answers; remove the "
        "`#` at its start, or move it above the first question"
    )


def test_set_answer_on_a_malformed_file_reports_the_file_problem() -> None:
    with pytest.raises(StateError, match="line 1: the heading `## Notes`"):
        set_answer("## Notes\n\n## 1. Q?\n", 1, "x")


def test_a_file_without_questions_has_no_answers() -> None:
    assert parse_answers("# Answers\n\nNothing yet.\n") == []


# -- answers from the command line and from a pipe ------------------------------------------


def test_piped_answers_in_order_and_by_number() -> None:
    from specflow.stages.answer_input import parse_piped_answers

    text = "3: ops team\n\nOracle 19c: thin mode\n  9100  \n"
    # "Oracle 19c: thin mode" is not `N: text`: it answers the next open question
    assert parse_piped_answers(text, [1, 2, 3], [1, 2, 3]) == {
        3: "ops team",
        1: "Oracle 19c: thin mode",
        2: "9100",
    }
    assert parse_piped_answers("2: skip: not known yet\n", [1, 2], [1, 2]) == {
        2: "skip: not known yet"
    }


def test_piped_answers_refuse_what_does_not_fit() -> None:
    from specflow.stages.answer_input import parse_piped_answers

    with pytest.raises(
        UsageError, match=r"line 2: there is no question 7 \(the questions are 1, 2\)"
    ):
        parse_piped_answers("a\n7: b\n", [1, 2], [1, 2])
    with pytest.raises(UsageError, match=r"3 unnumbered answer\(s\) but only 2 open question"):
        parse_piped_answers("a\nb\nc\n", [1, 2], [1, 2])


@pytest.fixture
def scoped(repo: Path, tmp_path: Path) -> Path:
    from tests.support.helpers import run
    from tests.support.samples import SCOPE_REPLY

    assert run("new", "Exporter", "--name", "exporter").exit_code == 0
    (tmp_path / "scope.md").write_text(SCOPE_REPLY)
    assert run("scope", "--reply", str(tmp_path / "scope.md")).exit_code == 0
    return repo / ".specflow" / "tasks" / "exporter" / "answers.md"


def _answers(path: Path) -> dict[int, str]:
    return {a.n: a.answer for a in parse_answers(path.read_text())}


def test_answer_takes_the_rest_of_the_words(scoped: Path) -> None:
    from tests.support.helpers import run

    result = run("answer", "3", "Postgres", "15;", "the", "table", "has", "2M", "rows")
    assert result.exit_code == 0, result.output
    assert _answers(scoped)[3] == "Postgres 15; the table has 2M rows"


def test_answer_reads_standard_input(scoped: Path) -> None:
    from tests.support.helpers import run

    result = run("answer", input="19c\n4: vault\n2M rows\n")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "Recorded the answer to question 1.\nRecorded the answer to question 2.\n"
        "Recorded the answer to question 4.\n2 question(s) still open.\n"
    )
    assert {n: a for n, a in _answers(scoped).items() if a} == {1: "19c", 2: "2M rows", 4: "vault"}
    one = run("answer", "5", input="skip: not known yet\n")
    assert one.exit_code == 0
    assert _answers(scoped)[5] == "skip: not known yet"
    too_many = run("answer", input="a\nb\n")  # only question 3 is open
    assert too_many.exit_code == 2
    assert "nothing was recorded" in too_many.stderr
    assert _answers(scoped)[3] == ""
