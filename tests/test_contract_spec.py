"""The spec contract: template headings, N/A, the error matrix, the file plan, UNKNOWN items,
hedging — and the shared Markdown reader underneath."""

from __future__ import annotations

import pytest

from specflow.contracts.base import ContractResult
from specflow.contracts.markdown import code_span, code_spans, parse, unquote_code
from specflow.contracts.models import SpecDoc, SpecSection, Unknown
from specflow.contracts.spec import check_spec, template_headings
from specflow.errors import ConfigError

TEMPLATE = """<!-- every `##` heading below is required -->

## Intent
<!-- why -->

## Scope

## Architecture & File Plan

## Error Handling Matrix
<!-- Failure | Detection | Logging | Recovery -->

```markdown
## Not A Template Heading
```

## Concurrency Decisions

## Testing Strategy

## Out of Scope

## Open Items
"""
HEADINGS = template_headings(TEMPLATE)
FORM = "`UNKNOWN: <what> — verify: <fastest way to find out> — blocks: <decisions it blocks>`"

SECTIONS = {
    "Intent": "On-call sees stuck Oracle jobs as Prometheus metrics.",
    "Scope": "- Read the job table.\n- Serve `/metrics`.",
    "Architecture & File Plan": (
        "- `src/exporter/collector.py` (create) — queries the job table.\n"
        "- `src/exporter/server.py` (change) — serves the metrics.\n"
        "- `pyproject.toml` (change) — adds `oracledb`."
    ),
    "Error Handling Matrix": (
        "| Failure | Detection | Logging | Recovery |\n"
        "|---|---|---|---|\n"
        "| DB unreachable | connect raises | ERROR with DSN host | retry with backoff |"
    ),
    "Concurrency Decisions": "N/A — one thread serves requests and queries on demand.",
    "Testing Strategy": "Fakes replace the database; run `pytest -q tests/exporter`.",
    "Out of Scope": "- No schema migrations.\n- No alerting rules.",
    "Open Items": (
        "- UNKNOWN: Oracle version — verify: `SELECT banner FROM v$version` — "
        "blocks: thin or thick driver mode"
    ),
}


def spec(**changes: str) -> str:
    """A valid spec, with sections replaced by keyword (spaces for `&`: use the dict)."""
    body = dict(SECTIONS)
    for key, value in changes.items():
        body[_TITLES[key]] = value
    return "\n\n".join(f"## {title}\n\n{text}" for title, text in body.items()) + "\n"


_TITLES = {
    "intent": "Intent",
    "scope": "Scope",
    "plan": "Architecture & File Plan",
    "matrix": "Error Handling Matrix",
    "concurrency": "Concurrency Decisions",
    "testing": "Testing Strategy",
    "out": "Out of Scope",
    "open": "Open Items",
}


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def messages(result: ContractResult[SpecDoc]) -> list[tuple[int | None, str]]:
    assert result.value is None
    return [(v.line, v.message) for v in result.violations]


# --- the template ----------------------------------------------------------------------------


def test_template_headings_are_the_level_two_headings_in_order() -> None:
    assert HEADINGS == [
        "Intent",
        "Scope",
        "Architecture & File Plan",
        "Error Handling Matrix",
        "Concurrency Decisions",
        "Testing Strategy",
        "Out of Scope",
        "Open Items",
    ]


def test_a_template_heading_repeated_counts_once() -> None:
    assert template_headings("## A\n## B\n## a\n# Title\n### Sub\n") == ["A", "B"]


def test_a_template_without_headings_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"the spec template has no `##` headings"):
        check_spec(spec(), [])


# --- a valid spec ----------------------------------------------------------------------------


def test_valid_spec_gives_sections_plan_unknowns_and_test_commands() -> None:
    text = spec()
    result = check_spec(text, HEADINGS)
    assert result.ok, result.violations
    doc = result.value
    assert doc is not None
    assert [s.title for s in doc.sections] == HEADINGS
    assert doc.sections[0] == SpecSection(title="Intent", body=SECTIONS["Intent"], line=1, na=False)
    assert [s.title for s in doc.sections if s.na] == ["Concurrency Decisions"]
    assert doc.file_plan == [
        "src/exporter/collector.py",
        "src/exporter/server.py",
        "pyproject.toml",
    ]
    assert doc.unknowns == [
        Unknown(
            id="U1",
            what="Oracle version",
            verify="`SELECT banner FROM v$version`",
            blocks="thin or thick driver mode",
            line=line_of(text, "- UNKNOWN"),
        )
    ]
    assert doc.out_of_scope == ["No schema migrations.", "No alerting rules."]
    assert doc.test_commands == ["pytest -q tests/exporter"]


def test_headings_match_apart_from_case_and_whitespace_and_keep_the_template_title() -> None:
    text = spec().replace("## Out of Scope", "##   OUT OF SCOPE   ")
    result = check_spec(text, HEADINGS)
    assert result.value is not None
    assert result.value.sections[6].title == "Out of Scope"


def test_a_heading_inside_a_code_fence_is_not_a_section() -> None:
    text = spec(intent="Export metrics.\n\n```markdown\n## Scope\n# Title\n```")
    assert check_spec(text, HEADINGS).ok


def test_common_test_runners_are_collected() -> None:
    testing = "Run `go test ./...`, `npm test`, `cargo test`, `make test` and `ls -la`."
    result = check_spec(spec(testing=testing), HEADINGS)
    assert result.value is not None
    assert result.value.test_commands == ["go test ./...", "npm test", "cargo test", "make test"]


# --- headings --------------------------------------------------------------------------------


def test_text_before_the_first_heading() -> None:
    result = check_spec("# Spec: exporter\n\n" + spec(), HEADINGS)
    assert messages(result) == [
        (
            1,
            "extra section `# Spec: exporter` (line 1); the sections are `## Intent`, "
            "`## Scope`, `## Architecture & File Plan`, `## Error Handling Matrix`, "
            "`## Concurrency Decisions`, `## Testing Strategy`, `## Out of Scope`, "
            "`## Open Items`",
        )
    ]
    result = check_spec("Here is the spec.\n\n" + spec(), HEADINGS)
    assert messages(result) == [
        (1, "text before the first heading (line 1); the reply must start with `## Intent`")
    ]


def test_a_missing_section() -> None:
    text = spec().replace(
        "## Out of Scope\n\n- No schema migrations.\n- No alerting rules.\n\n", ""
    )
    assert messages(check_spec(text, HEADINGS)) == [
        (None, "`## Out of Scope` is missing; it comes after `## Testing Strategy`")
    ]


def test_a_missing_first_section() -> None:
    text = spec().replace("## Intent\n\n" + SECTIONS["Intent"] + "\n\n", "")
    assert messages(check_spec(text, HEADINGS)) == [
        (None, "`## Intent` is missing; it must come first")
    ]


def test_an_extra_section_gets_the_nearest_missing_heading() -> None:
    text = spec().replace("## Error Handling Matrix", "## Error Handling")
    line = line_of(text, "## Error Handling")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            None,
            "`## Error Handling Matrix` is missing; it comes after `## Architecture & File Plan`",
        ),
        (
            line,
            f"extra section `## Error Handling` (line {line}); "
            "did you mean `## Error Handling Matrix`?",
        ),
    ]


def test_sections_out_of_order() -> None:
    scope = "## Scope\n\n" + SECTIONS["Scope"] + "\n\n"
    text = spec().replace(scope, "").replace("## Open Items", scope + "## Open Items")
    line = line_of(text, "## Scope")
    assert messages(check_spec(text, HEADINGS)) == [
        (line, f"`## Scope` (line {line}) is out of order; it comes after `## Intent`")
    ]


def test_a_duplicated_section() -> None:
    text = spec() + "\n## Scope\n\n- More scope.\n"
    first, second = line_of(text, "## Scope"), text.count("\n") - 2
    assert messages(check_spec(text, HEADINGS)) == [
        (second, f"`## Scope` appears twice (lines {first} and {second}); keep one")
    ]


def test_a_project_template_without_the_special_sections() -> None:
    headings = template_headings("## Goal\n\n## Plan\n")
    result = check_spec("## Goal\n\nFaster exports.\n\n## Plan\n\nCache the query.\n", headings)
    assert result.value == SpecDoc(
        sections=[
            SpecSection(title="Goal", body="Faster exports.", line=1, na=False),
            SpecSection(title="Plan", body="Cache the query.", line=5, na=False),
        ],
        file_plan=[],
        unknowns=[],
        out_of_scope=[],
        test_commands=[],
    )


# --- empty and N/A sections ------------------------------------------------------------------


@pytest.mark.parametrize(
    "na",
    [
        "N/A — one thread.",
        "N/A - one thread.",
        "N/A: one thread.",
        "N/A -- one thread.",
        "n/a — one thread.",
        "**N/A** — one thread.",
    ],
)
def test_na_with_a_reason_is_accepted(na: str) -> None:
    result = check_spec(spec(concurrency=na), HEADINGS)
    assert result.value is not None, result.violations
    assert result.value.sections[4].na is True


@pytest.mark.parametrize("na", ["N/A", "N/A.", "N/A —", "N/A because one thread."])
def test_na_without_a_reason_is_a_violation(na: str) -> None:
    text = spec(concurrency=na)
    line = line_of(text, na + "\n")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            line,
            f"`## Concurrency Decisions` is N/A without a reason (line {line}); "
            "write `N/A — <why it does not apply>`",
        )
    ]


def test_a_section_may_be_na_even_the_matrix() -> None:
    result = check_spec(spec(matrix="N/A — nothing can fail: the data is static."), HEADINGS)
    assert result.ok, result.violations


def test_an_empty_section_and_a_comment_only_section() -> None:
    text = spec(intent="", scope="<!-- What is in -->")
    assert messages(check_spec(text, HEADINGS)) == [
        (1, "`## Intent` is empty (line 1); write its content or `N/A — <reason>`"),
        (5, "`## Scope` is empty (line 5); write its content or `N/A — <reason>`"),
    ]


# --- the error handling matrix ---------------------------------------------------------------


def test_the_matrix_missing_a_column() -> None:
    matrix = "| Failure | Detection | Recovery |\n|---|---|---|\n| DB down | error | retry |"
    text = spec(matrix=matrix)
    line = line_of(text, "| Failure")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            line,
            f"the table in `## Error Handling Matrix` (line {line}) is missing the column "
            "Logging; its columns must include Failure, Detection, Logging, Recovery",
        )
    ]


def test_the_matrix_missing_two_columns() -> None:
    matrix = "| Failure | Detection |\n|---|---|\n| DB down | error |"
    text = spec(matrix=matrix)
    line = line_of(text, "| Failure")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            line,
            f"the table in `## Error Handling Matrix` (line {line}) is missing the columns "
            "Logging, Recovery; its columns must include Failure, Detection, Logging, Recovery",
        )
    ]


def test_the_matrix_columns_are_case_insensitive_and_extra_columns_are_allowed() -> None:
    matrix = (
        "| Owner | **failure** | DETECTION | logging | Recovery |\n|---|---|---|---|---|\n"
        "| db team | DB down | error | ERROR | retry 3 times with backoff |"
    )
    assert check_spec(spec(matrix=matrix), HEADINGS).ok


def test_the_matrix_needs_a_table() -> None:
    text = spec(matrix="- DB down: retry.")
    line = line_of(text, "## Error Handling Matrix")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            line,
            f"`## Error Handling Matrix` has no table (line {line}); it needs a Markdown table "
            "with the columns Failure, Detection, Logging, Recovery and one row per failure",
        )
    ]


def test_a_matrix_glued_to_the_text_above_it_says_so() -> None:
    table = (
        "Failure | Detection | Logging | Recovery\n--|--|--|--\n"
        "DB down | timeout | warn | retry twice"
    )
    text = spec(matrix="The failures:\n" + table)
    line = line_of(text, "## Error Handling Matrix")
    header = line_of(text, "Failure | Detection")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            line,
            f"`## Error Handling Matrix` has no table (line {line}); it needs a Markdown table "
            "with the columns Failure, Detection, Logging, Recovery and one row per failure; "
            f"line {header} looks like a table's header row read as part of the text above "
            "it: put a blank line before the table",
        )
    ]
    assert check_spec(spec(matrix="The failures:\n\n" + table), HEADINGS).ok


def test_a_matrix_with_rows_of_different_widths_says_so() -> None:
    text = spec(
        matrix="| Failure | Detection | Logging | Recovery |\n|---|---|---|\n| a | b | c | d |"
    )
    header = line_of(text, "| Failure")
    (message,) = [m for _, m in messages(check_spec(text, HEADINGS))]
    assert message.endswith(
        f"; line {header} looks like a table's header row, but the row under it has 3 cells "
        "to its 4: give them the same number"
    )


def test_a_table_shown_in_a_code_block_gets_no_table_hint() -> None:
    text = spec(matrix="```\n| Failure | Detection |\n|---|---|\n```")
    (message,) = [m for _, m in messages(check_spec(text, HEADINGS))]
    assert message.endswith(
        "with the columns Failure, Detection, Logging, Recovery and one row per failure"
    )


def test_the_matrix_needs_rows_and_filled_cells() -> None:
    header = "| Failure | Detection | Logging | Recovery |\n|---|---|---|---|"
    text = spec(matrix=header)
    line = line_of(text, "| Failure")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            line,
            f"the table in `## Error Handling Matrix` (line {line}) has no rows; "
            "add one row per failure",
        )
    ]
    text = spec(matrix=header + "\n| DB down | error | ERROR |  |")
    row = line + 2
    assert messages(check_spec(text, HEADINGS)) == [
        (
            row,
            f"the table in `## Error Handling Matrix` (line {line}): the row on line {row} "
            "has an empty Recovery cell",
        )
    ]


# --- the file plan ---------------------------------------------------------------------------


def test_a_file_plan_without_backticked_paths() -> None:
    text = spec(plan="Create the collector and the server, and use `oracledb`.")
    line = line_of(text, "## Architecture")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            line,
            f"`## Architecture & File Plan` names no files (line {line}); list each file to "
            "create or change as a backticked path, e.g. `src/app/main.py`",
        )
    ]


def test_the_file_plan_cannot_be_na() -> None:
    text = spec(plan="N/A — nothing to build.")
    line = line_of(text, "## Architecture")
    assert messages(check_spec(text, HEADINGS)) == [
        (
            line,
            f"`## Architecture & File Plan` cannot be N/A (line {line}); list each file to "
            "create or change as a backticked path, e.g. `src/app/main.py`",
        )
    ]


def test_what_counts_as_a_path() -> None:
    plan = (
        "| File | Why |\n|---|---|\n| `src/a.py` | entry |\n\n"
        "Also `Makefile`, `docs/`, `README.md`, `a b.py`, `https://x.io/a`, `run()`, "
        "`src/a.py` again, and ``conf/app.toml``."
    )
    result = check_spec(spec(plan=plan), HEADINGS)
    assert result.value is not None
    assert result.value.file_plan == ["src/a.py", "docs/", "README.md", "conf/app.toml"]


# --- UNKNOWN items ---------------------------------------------------------------------------


def test_unknowns_accept_each_separator_bold_labels_and_a_code_span_wrapper() -> None:
    items = (
        "- UNKNOWN: A — verify: ask ops — blocks: port\n"
        "- **UNKNOWN:** B -- verify: `pip show --verbose x` -- blocks: pinning\n"
        "- UNKNOWN: C - verify: read the runbook - blocks: paging\n"
        "- `UNKNOWN: D — verify: ask the DBA — blocks: batch size`\n\n"
        "Two in one paragraph: UNKNOWN: E — verify: e — blocks: f\n"
        "UNKNOWN: G — verify: g — blocks: h"
    )
    text = spec(open=items)
    result = check_spec(text, HEADINGS)
    assert result.value is not None, result.violations
    got = [(u.id, u.what, u.verify, u.blocks) for u in result.value.unknowns]
    assert got == [
        ("U1", "A", "ask ops", "port"),
        ("U2", "B", "`pip show --verbose x`", "pinning"),
        ("U3", "C", "read the runbook", "paging"),
        ("U4", "D", "ask the DBA", "batch size"),
        ("U5", "E", "e", "f"),
        ("U6", "G", "g", "h"),
    ]
    assert [u.line for u in result.value.unknowns][-2:] == [
        line_of(text, "Two in one"),
        line_of(text, "UNKNOWN: G"),
    ]


def test_unknowns_anywhere_are_collected_but_not_in_fences_or_quoted_code() -> None:
    intent = (
        "Export metrics. UNKNOWN: SLA — verify: ask on-call — blocks: scrape interval\n\n"
        "```text\nUNKNOWN: not an item\n```\n\n"
        "The form is `see UNKNOWN: x` in the docs. <!-- UNKNOWN: a note to self -->"
    )
    result = check_spec(spec(intent=intent, open="None open."), HEADINGS)
    assert result.value is not None, result.violations
    assert [(u.id, u.what) for u in result.value.unknowns] == [("U1", "SLA")]


@pytest.mark.parametrize(
    ("item", "missing"),
    [
        ("UNKNOWN: Oracle version", "the `verify:` part and the `blocks:` part"),
        ("UNKNOWN: Oracle version — verify: ask the DBA", "the `blocks:` part"),
        ("UNKNOWN: Oracle version — blocks: driver mode", "the `verify:` part"),
        ("UNKNOWN: — verify: ask the DBA — blocks: driver mode", "what is unknown"),
        ("UNKNOWN: Oracle version — verify: — blocks: driver mode", "the text after `verify:`"),
        ("UNKNOWN: Oracle version — verify: ask — blocks:", "the text after `blocks:`"),
        ("UNKNOWN:", "what is unknown, the `verify:` part and the `blocks:` part"),
    ],
)
def test_a_malformed_unknown_names_the_missing_part(item: str, missing: str) -> None:
    text = spec(open=f"- {item}")
    line = line_of(text, "- UNKNOWN")
    assert messages(check_spec(text, HEADINGS)) == [
        (line, f"UNKNOWN on line {line} is missing {missing}; write it as {FORM}")
    ]


def test_an_unknown_with_its_parts_swapped() -> None:
    text = spec(open="- UNKNOWN: version — blocks: mode — verify: ask")
    line = line_of(text, "- UNKNOWN")
    assert messages(check_spec(text, HEADINGS)) == [
        (line, f"UNKNOWN on line {line} has `blocks:` before `verify:`; write it as {FORM}")
    ]


# --- hedging ---------------------------------------------------------------------------------


def test_hedging_words_are_reported_with_the_word_and_line() -> None:
    intent = (
        "We maybe cache results.\n"
        "This Probably helps, and I  think it should work.\n\n"
        "| Failure | Note |\n|---|---|\n| x | maybe |"
    )
    text = spec(intent=intent)
    advice = f"fix: state the decision, or record what is not known as {FORM}"
    result = check_spec(text, HEADINGS)
    assert result.value is None
    assert [(v.line, v.rule, str(v)) for v in result.violations] == [
        (3, "spec.hedge", f'hedging "maybe" (line 3); {advice}'),
        (4, "spec.hedge", f'hedging "Probably" (line 4); {advice}'),
        (4, "spec.hedge", f'hedging "I  think" (line 4); {advice}'),
        (4, "spec.hedge", f'hedging "should work" (line 4); {advice}'),
        (8, "spec.hedge", f'hedging "maybe" (line 8); {advice}'),
    ]


def test_the_hedge_list_comes_from_the_rules_in_force() -> None:
    from specflow.contracts.rules import DEFAULT_HEDGES, hedges_from_rules
    from specflow.errors import ConfigError
    from specflow.stages.prompts import Prompts

    assert hedges_from_rules(Prompts(None).rules()) == list(DEFAULT_HEDGES)
    text = spec(intent="Perhaps we cache; hopefully it holds. Arguably fine.")
    assert [v.message for v in check_spec(text, HEADINGS).violations] == [
        'hedging "Perhaps" (line 3)',
        'hedging "hopefully" (line 3)',
    ]
    ejected = hedges_from_rules("# Rules\n\n- No hedging: not `arguably`.\n")
    assert ejected == ["arguably"]
    assert [v.message for v in check_spec(text, HEADINGS, hedges=ejected).violations] == [
        'hedging "Arguably" (line 3)'
    ]
    assert check_spec(text, HEADINGS, disabled=frozenset({"spec.hedge"})).ok
    with pytest.raises(ConfigError, match=r"rules.md, line 3: the `No hedging:` line names no"):
        hedges_from_rules("# Rules\n\n- No hedging: none of them.\n")


def test_hedging_spelled_with_letters_that_fold_to_ascii_is_still_found() -> None:
    # The pattern is case-insensitive, so "ı" matches "i" and "ſ" matches "s"; the quick
    # lowercase scan that skips text without a hedging word must not hide these.
    text = spec(intent="I thınk the pool is enough, and ſhould work as is.")
    assert [v.message.split(" (")[0] for v in check_spec(text, HEADINGS).violations] == [
        'hedging "I thınk"',
        'hedging "ſhould work"',
    ]


def test_hedging_inside_quotes_and_code_is_not_reported() -> None:
    intent = (
        'The ticket says “this should work”, and the user wrote "maybe later".\n\n'
        "> I think we should probably cache.\n\n"
        "Call `maybe_retry()` or `probably`; maybeline and unprobably are not words.\n\n"
        "```python\n# maybe\n```\n\n"
        "<!-- maybe -->"
    )
    assert check_spec(spec(intent=intent), HEADINGS).ok


def test_hedging_in_a_list_and_a_heading_of_level_three() -> None:
    text = spec(scope="### Maybe later\n\n- Read the table, probably.")
    assert [v.message.split(" (")[0] for v in check_spec(text, HEADINGS).violations] == [
        'hedging "Maybe"',
        'hedging "probably"',
    ]


# --- the Markdown reader ---------------------------------------------------------------------


def test_code_spans_follow_the_backtick_rules() -> None:
    source = "a `b` c ``d`e`` \\`f` g `h"
    assert [source[s:e] for s, e in code_spans(source)] == ["`b`", "``d`e``", "` g `"]
    assert code_spans("no code") == []
    assert code_spans("`unclosed") == []


def test_code_span_round_trips_through_unquote_code() -> None:
    for text in ["plain", "a ` b", "`x`", "``", "a  b"]:
        assert unquote_code(code_span(text)) == text


def test_parse_splits_sections_and_reads_items_tables_and_fences() -> None:
    doc = parse(
        "Intro\n\n## One\n\n1. first\n   - nested\n2. second\n\n"
        "> - quoted item\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\n"
        "```py\n## not a heading\n```\n\n## Two\n"
    )
    assert doc.preamble is not None and doc.preamble.body_text == "Intro"
    one, two = doc.sections
    assert (one.title, one.line, one.end_line) == ("One", 3, 17)
    assert [(i.text, i.line, i.ordered) for i in one.items] == [
        ("first", 5, True),
        ("second", 7, True),
    ]
    assert [(t.header, t.rows, t.line, t.row_lines) for t in one.tables] == [
        (["A", "B"], [["1", "2"]], 11, [13])
    ]
    assert [(f.info, f.content, f.line) for f in one.fences] == [("py", "## not a heading\n", 15)]
    assert (two.title, two.is_empty, two.body_text) == ("Two", True, "")


def test_crlf_line_endings_give_the_same_lines() -> None:
    text = spec().replace("\n", "\r\n")
    result = check_spec(text, HEADINGS)
    assert result.ok
    assert result.value is not None and result.value.sections[1].line == 5


def test_the_value_is_built_on_first_use_and_once() -> None:
    from specflow.stages.prompts import Prompts
    from tests.support.samples import SPEC_REPLY

    packaged = template_headings(Prompts(None).spec_template())
    result = check_spec(SPEC_REPLY, packaged)
    assert result.ok and result.violations == []
    first = result.value
    assert isinstance(first, SpecDoc)
    assert result.value is first
    assert [u.id for u in first.unknowns] == ["U1"]
    broken = check_spec(SPEC_REPLY.replace("## Out of Scope", "## Outside"), packaged)
    assert not broken.ok and broken.value is None
