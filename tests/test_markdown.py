"""The shared Markdown reader: what it makes of the constructs contracts meet."""

from __future__ import annotations

from specflow.contracts.markdown import Block, Document, Inline, Section, headed_fences, parse


def _only(doc: Document) -> Section:
    assert doc.preamble is None
    assert len(doc.sections) == 1
    return doc.sections[0]


def test_underlined_text_is_a_paragraph_and_a_dash_underline_a_rule() -> None:
    section = _only(parse("## A\n\nSome text\n---\n\nMore\n===\n"))
    assert section.blocks == [
        Block("paragraph", 3, 3),
        Block("hr", 4, 4),
        Block("paragraph", 6, 7),
    ]
    assert [i.source for i in section.inlines] == ["A", "Some text", "More\n==="]
    assert not section.is_empty


def test_a_link_reference_definition_is_text_not_nothing() -> None:
    text = "[top]: /x\n\n## A\n\n[spec]: https://example.com/spec\n\n## B\n\n[r]: /z\n\nAfter.\n"
    doc = parse(text)
    assert doc.preamble is not None and doc.preamble.line == 1
    first, second = doc.sections
    assert first.blocks == [Block("paragraph", 5, 5)]
    assert Inline("[spec]: https://example.com/spec", 5, False) in first.inlines
    assert second.blocks == [Block("paragraph", 9, 9), Block("paragraph", 11, 11)]
    assert parse("## C\n").sections[0].is_empty


def test_lines_and_cells_stay_right_after_multibyte_characters() -> None:
    text = (
        "## Résumé — é\n"
        "\n"
        "Ligne é\n"
        "\n"
        "- élément `x`\n"
        "- \\*literal, not emphasis\n"
        "\n"
        "| Col é | B |\n"
        "|---|---|\n"
        "| `a\\|b` | ç |\n"
        "| only |\n"
    )
    section = _only(parse(text))
    assert section.title == "Résumé — é"
    assert [(i.text, i.line) for i in section.items] == [
        ("élément `x`", 5),
        ("\\*literal, not emphasis", 6),
    ]
    (table,) = section.tables
    assert table.header == ["Col é", "B"]
    assert table.rows == [["`a|b`", "ç"], ["only", ""]]  # `\|` is a pipe; a short row padded
    assert (table.line, table.row_lines) == (8, [10, 11])
    assert [i.line for i in section.inlines if i.source in ("only", "")] == [11, 11]


def test_a_fence_left_open_is_not_closed_by_a_quoted_fence() -> None:
    section = _only(parse("## A\n\n```py\nx = 1\n\n> ```\n"))
    (fence,) = section.fences
    assert (fence.info, fence.content, fence.closed) == ("py", "x = 1\n\n> ```\n", False)


def test_a_fence_inside_a_quote_closes_with_its_quote_marker() -> None:
    section = _only(parse("## A\n\n> quoted\n> continued\n>\n> ~~~~ sh\n> ls\n> ~~~~\n"))
    (fence,) = section.fences
    assert (fence.info, fence.content, fence.markup, fence.closed) == ("sh", "ls\n", "~~~~", True)
    assert (fence.line, fence.end_line) == (6, 8)
    assert Inline("quoted\ncontinued", 3, True) in section.inlines
    assert section.blocks == [Block("quote", 3, 8)]


def test_items_keep_their_own_text_and_leave_nested_lists_out() -> None:
    text = "## A\n\n1. First?\n   still the first.\n   - nested\n2. Second?\n\n   More of it.\n"
    section = _only(parse(text))
    assert [(i.text, i.line, i.end_line, i.ordered) for i in section.items] == [
        ("First?\nstill the first.", 3, 5, True),
        ("Second?\nMore of it.", 6, 8, True),
    ]
    ruled = _only(parse("## A\n\n- foo\n  ***\n  bar\n- baz\n"))
    assert [item.text for item in ruled.items] == ["foo\nbar", "baz"]


def test_headings_inside_fences_and_closing_hashes() -> None:
    doc = parse("# Title #\n\n```md\n## Not a section\n```\n\n## Next ##\n\n### Deeper\n")
    assert [(s.level, s.title, s.line) for s in doc.sections] == [(1, "Title", 1), (2, "Next", 7)]
    assert doc.sections[1].blocks == [Block("heading", 9, 9)]


def test_headed_fences_pairs_each_heading_with_the_fence_under_it() -> None:
    text = (
        "### `a.py`\n\n```python\nx = 1\n```\n\n"
        "## Other\n\n```\nnot under a level-3 heading\n```\n\n"
        "### `b.txt`\n\n````\n```\ninner\n```\n````\n"
    )
    assert headed_fences(text) == [("`a.py`", "x = 1\n"), ("`b.txt`", "```\ninner\n```\n")]


def test_a_table_after_a_paragraph_needs_a_leading_pipe_or_a_blank_line() -> None:
    def tables(text: str) -> list[list[str]]:
        return [table.header for table in _only(parse(text)).tables]

    assert tables("## A\n\nLead-in:\n| A | B |\n|---|---|\n| 1 | 2 |\n") == [["A", "B"]]
    assert tables("## A\n\nLead-in:\n\nA | B\n--|--\n1 | 2\n") == [["A", "B"]]
    assert tables("## A\n\nLead-in:\nA | B\n--|--\n1 | 2\n") == []  # one paragraph


def test_a_fence_is_closed_only_by_a_closing_line_of_its_own() -> None:
    def fence(text: str) -> tuple[str, bool]:
        (only,) = parse(text).fences
        return only.content, only.closed

    assert fence("```\nx\n```\n") == ("x\n", True)
    assert fence("```\n```") == ("", True)
    assert fence("```") == ("", False)
    assert fence("```\nx") == ("x", False)
    assert fence("```\nx\n    ```\n") == ("x\n    ```\n", False)  # indented 4: content
    assert fence("> ```\n> > ```\n") == ("> ```\n", False)  # one quote deeper: content
    assert fence("- ```\n  x\n  ```\n") == ("x\n", True)


def test_text_the_parser_drops_ends_before_the_next_block() -> None:
    first, second = parse("## A\n\n[x]: /u\n  ## B\n\nb\n").sections
    assert (first.body_text, first.end_line) == ("[x]: /u", 3)
    assert (second.title, second.line) == ("B", 4)


def test_quoted_underlines_and_quoted_list_items_lose_their_quote_markers() -> None:
    assert [i.source for i in parse("> a\n> ---\n").inlines] == ["a"]
    assert [i.source for i in parse("> - a\n>   ***\n>   after\n").inlines] == ["a", "after"]
    nested = parse("> - a\n>   > b\n>\n>   after\n")
    assert [(i.source, i.quoted) for i in nested.inlines] == [
        ("a", True),
        ("b", True),
        ("after", True),
    ]


def test_one_or_two_dashes_under_text_stay_text() -> None:
    for underline in ("-", "--"):
        (section,) = parse(f"## A\n\nText\n{underline}\n").sections
        assert section.blocks == [Block("paragraph", 3, 4)]
        assert Inline(f"Text\n{underline}", 3, False) in section.inlines


def test_a_lone_surrogate_is_replaced_not_fatal() -> None:
    doc = parse("## A\n\nbad \ud800 char\n")
    assert [i.source for i in doc.inlines] == ["A", "bad ? char"]


def test_headed_fences_skips_a_heading_without_a_title() -> None:
    assert headed_fences("### \n\n```\nx\n```\n") == []
