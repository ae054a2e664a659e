"""Edit replies: `## Edit: PATH` with SEARCH/REPLACE blocks, parsed and applied."""

from __future__ import annotations

from specflow.contracts.edits import (
    EDIT_MIN_LINES,
    EditReply,
    apply_edits,
    check_edit,
    is_edit_reply,
    offers_edits,
    parse_edit_reply,
)

PATH = "src/pkg/module.py"
CURRENT = "".join(f"value_{n} = {n}\n" for n in range(1, 101))
REVIEW = "## Self-Review\n- Logging: PASS — no logging here\n"


def block(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def reply(*blocks: str, path: str = PATH) -> str:
    return f"## Edit: {path}\n```python\n{''.join(blocks)}```\n{REVIEW}"


def messages(text: str, current: str | None = CURRENT, path: str | None = PATH) -> list[str]:
    return [str(v) for v in check_edit(text, path, current).violations]


def test_one_block_replaces_its_lines_and_nothing_else() -> None:
    result = check_edit(reply(block("value_7 = 7\n", "value_7 = 70\n")), PATH, CURRENT)
    assert result.violations == []
    assert result.text == CURRENT.replace("value_7 = 7\n", "value_7 = 70\n")


def test_several_blocks_apply_in_order_to_the_file_as_it_stands() -> None:
    text = reply(
        block("value_2 = 2\n", "value_2 = 20\nvalue_2b = 21\n"),
        # the second block finds a line the first one wrote
        block("value_2b = 21\nvalue_3 = 3\n", "value_3 = 30\n"),
        block("value_100 = 100\n", ""),
    )
    result = check_edit(text, PATH, CURRENT)
    expected = CURRENT.replace(
        "value_2 = 2\nvalue_3 = 3\n", "value_2 = 20\nvalue_3 = 30\n"
    ).replace("value_100 = 100\n", "")
    assert result.violations == []
    assert result.text == expected


def test_blocks_may_each_have_their_own_fence() -> None:
    first = block("value_1 = 1\n", "value_1 = 10\n")
    second = block("value_9 = 9\n", "value_9 = 90\n")
    text = f"## Edit: `{PATH}`\n```python\n{first}```\n\n```python\n{second}```\n{REVIEW}"
    parsed = parse_edit_reply(text)
    assert isinstance(parsed, EditReply)
    assert parsed.path == PATH
    assert [b.number for b in parsed.blocks] == [1, 2]
    result = check_edit(text, PATH, CURRENT)
    assert result.text is not None and "value_9 = 90\n" in result.text


def test_a_block_matching_twice_names_the_count_and_the_lines() -> None:
    current = "a = 1\nreturn a\nb = 2\nreturn a\n"
    assert messages(reply(block("return a\n", "return b\n")), current) == [
        f"line 3: edit block 1: SEARCH matches 2 places in `{PATH}` (lines 2, 4); add "
        "neighbouring lines until it matches exactly one"
    ]


def test_a_block_matching_nothing_names_the_block_and_the_nearest_lines() -> None:
    text = reply(
        block("value_1 = 1\n", "value_1 = 10\n"),
        block("value_41 = 41\nvalue_42 = 4two\nvalue_43 = 43\n", "x = 1\n"),
    )
    assert messages(text) == [
        f"line 8: edit block 2: SEARCH matches nothing in `{PATH}` (after 1 earlier block). "
        "The nearest lines are 41–43:\n"
        "    41: value_41 = 41\n"
        "    42: value_42 = 42\n"
        "    43: value_43 = 43\n"
        "SEARCH line 2 `value_42 = 4two` differs from file line 42 `value_42 = 42`. "
        "Copy SEARCH exactly from the current file (indentation and blank lines count), or "
        "send the whole file"
    ]


def test_every_failing_block_is_named_not_only_the_first() -> None:
    text = reply(block("nowhere = 1\n", "x\n"), block("value_5 = 5\n", "y\n"), block("gone\n", ""))
    found = messages(text)
    assert [m.split(":")[1].strip() for m in found] == ["edit block 1", "edit block 3"]


def test_indentation_is_not_forgiven() -> None:
    current = "def f():\n    return 1\n" * 1
    found = messages(reply(block("def f():\n  return 1\n", "def f():\n    return 2\n")), current)
    assert len(found) == 1 and "SEARCH matches nothing" in found[0]


def test_trailing_whitespace_is_tolerated_when_nothing_matches_exactly() -> None:
    current = "a = 1   \nb = 2\t\n"
    result = check_edit(reply(block("a = 1\nb = 2\n", "a = 3\n")), PATH, current)
    assert result.violations == []
    assert result.text == "a = 3\n"


def test_crlf_file_keeps_crlf() -> None:
    current = "one\r\ntwo\r\nthree\r\n"
    result = check_edit(reply(block("two\n", "2\n2b\n")), PATH, current)
    assert result.text == "one\r\n2\r\n2b\r\nthree\r\n"


def test_crlf_reply_matches_an_lf_file() -> None:
    text = reply(block("two\n", "2\n")).replace("\n", "\r\n")
    assert check_edit(text, PATH, "one\ntwo\n").text == "one\n2\n"


def test_mixed_line_endings_keep_the_untouched_lines_as_they_are() -> None:
    current = "a\r\nb\nc\r\n"
    assert check_edit(reply(block("b\n", "B\n")), PATH, current).text == "a\r\nB\r\nc\r\n"


def test_no_trailing_newline_is_kept() -> None:
    current = "first\nlast"
    assert check_edit(reply(block("last\n", "final\n")), PATH, current).text == "first\nfinal"
    assert check_edit(reply(block("first\n", "1st\n")), PATH, current).text == "1st\nlast"
    assert check_edit(reply(block("last\n", "")), PATH, current).text == "first"


def test_an_empty_search_is_a_violation_unless_the_file_is_empty() -> None:
    assert messages(reply(block("", "new = 1\n"))) == [
        f"line 3: edit block 1: SEARCH is empty, but `{PATH}` is not; copy the lines next to "
        "the change into SEARCH and repeat them in REPLACE with the change"
    ]
    assert check_edit(reply(block("", "new = 1\n")), PATH, "").text == "new = 1\n"


def test_an_edit_for_a_file_that_does_not_exist_asks_for_the_whole_file() -> None:
    assert messages(reply(block("a\n", "b\n")), current=None) == [
        f"line 1: `{PATH}` does not exist yet, so there is nothing to edit; send the whole "
        "file in one fenced code block instead of `## Edit:`"
    ]


def test_an_edit_for_another_path_is_a_violation() -> None:
    found = messages(reply(block("value_1 = 1\n", "x\n"), path="src/other.py"))
    assert found == [
        f"line 1: `## Edit: src/other.py` names another file; this request is for `{PATH}`"
    ]


def test_form_violations_are_precise() -> None:
    unclosed = f"## Edit: {PATH}\n```python\n<<<<<<< SEARCH\na\n=======\nb\n```\n{REVIEW}"
    assert messages(unclosed) == [
        "line 3: edit block 1: the fence ends before `>>>>>>> REPLACE`; a block is "
        "`<<<<<<< SEARCH`, the lines to find, `=======`, the new lines, `>>>>>>> REPLACE`"
    ]
    stray = reply("some words\n" + block("value_1 = 1\n", "x\n"))
    assert messages(stray)[0].startswith("line 3: `some words` is outside a SEARCH/REPLACE block")
    loose = block("value_1 = 1\n", "x\n")
    unfenced = f"## Edit: {PATH}\n{loose}\n{REVIEW}"
    assert messages(unfenced) == [
        f"line 2: text outside a ``` fence in `## Edit: {PATH}` (lines 2, 5, 6); every "
        "SEARCH/REPLACE block sits inside a fence; an edit reply is `## Edit: <path>`, fenced "
        "`<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE` blocks, then `## Self-Review`"
    ]
    before = "Here is the edit.\n\n" + reply(block("value_1 = 1\n", "x\n"))
    assert messages(before)[0].startswith("line 1: text before `## Edit:`")
    two = reply(block("value_1 = 1\n", "x\n")) + f"## Edit: {PATH}\n```\n{block('a', 'b')}```\n"
    assert any("2 `## Edit:` sections; one reply edits one file" in m for m in messages(two))


def test_a_divider_line_inside_the_replace_text_needs_a_whole_file() -> None:
    # Seven `=` on a line of its own cannot appear inside a block: it would be read as the
    # divider. A near miss with eight is file content.
    current = "title\n========\nbody\n"
    result = check_edit(reply(block("title\n========\n", "Title\n========\n")), PATH, current)
    assert result.text == "Title\n========\nbody\n"


def test_is_edit_reply_tells_the_forms_apart() -> None:
    assert is_edit_reply(reply(block("a\n", "b\n")))
    assert not is_edit_reply(f"## File: {PATH}\n```python\nx = 1\n```\n{REVIEW}")
    # a code block that happens to contain the heading text is not the edit form
    assert not is_edit_reply(f"```markdown\n## Edit: {PATH}\n```\n{REVIEW}")


def test_offers_edits_only_for_existing_files_over_the_threshold() -> None:
    assert not offers_edits(None)
    assert not offers_edits("x\n" * EDIT_MIN_LINES)
    assert offers_edits("x\n" * (EDIT_MIN_LINES + 1))


def test_apply_edits_names_the_file_it_was_given() -> None:
    parsed = parse_edit_reply(reply(block("nope\n", "x\n")))
    assert isinstance(parsed, EditReply)
    applied = apply_edits("a\n", parsed.blocks, "pkg/a.py")
    assert applied.text is None
    assert "SEARCH matches nothing in `pkg/a.py`" in applied.violations[0].message
