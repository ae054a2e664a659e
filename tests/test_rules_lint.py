"""`specflow rules lint`: each finding kind breaks on its corpus case and passes its near miss;
the shipped rules are clean; an ejected rules file is the one linted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specflow.contracts.rules_lint import (
    RulesFile,
    compact_standards,
    lint_rules,
    rules_in_force,
)
from tests.helpers import run

CORPUS = Path(__file__).parent / "rules_lint"
FIX = {
    "hedge": "state the rule outright (must, never, only when ...) or drop it",
    "filler": "rewrite it as an instruction with a condition that can be checked, or delete it",
    "duplicate": "keep one of the two; a restatement costs tokens on every request",
    "contradiction": "decide which holds and delete the other, or narrow both with a condition",
}
EXPECTED = {
    "hedge": [("hedge", 2, '"probably" hedges a rule')],
    "filler": [
        (
            "filler",
            5,
            '"It is important to write high quality code." neither directs nor states a '
            "checkable condition",
        )
    ],
    "duplicate": [
        (
            "duplicate",
            5,
            '"Every retry is logged at WARNING with its attempt number." repeats rules.md:3',
        )
    ],
    "contradiction": [
        (
            "contradiction",
            4,
            '`always retry validation errors once` contradicts rules.md:3 ("Never retry a '
            'validation error.")',
        )
    ],
    "do-dont": [
        (
            "contradiction",
            5,
            'a `## DO` item contradicts rules.md:9 ("No logging of request bodies.")',
        )
    ],
}


def lint_one(name: str) -> list[tuple[str, int, str]]:
    path = CORPUS / f"{name}.md"
    report = lint_rules([RulesFile("rules.md", str(path), "project", path.read_text())], len)
    for finding in report.findings:
        assert finding.fix == FIX[finding.kind]
    return [(f.kind, f.line, f.message) for f in report.findings]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_finding_kind_breaks_on_its_case(name: str) -> None:
    assert lint_one(name) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_near_miss_passes(name: str) -> None:
    assert lint_one(f"{name}-near-miss") == []


def test_the_corpus_has_a_near_miss_for_every_case() -> None:
    cases = {p.stem for p in CORPUS.glob("*.md") if not p.stem.endswith("-near-miss")}
    misses = {p.stem.removesuffix("-near-miss") for p in CORPUS.glob("*-near-miss.md")}
    assert cases == misses == set(EXPECTED)


def test_the_shipped_rules_are_clean(repo: Path) -> None:
    result = run("rules", "lint")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("no findings\n")
    assert "rules.md (packaged)" in result.output
    assert (
        "exempt: rules.md:49 `## DO NOT` is the intentional recap of the hard rules: exempt "
        "from the duplicate check"
    ) in result.output


def test_an_ejected_rules_file_is_linted_and_findings_exit_1(repo: Path) -> None:
    own = repo / ".specflow" / "rules"
    own.mkdir(parents=True)
    (own / "rules.md").write_text((CORPUS / "hedge.md").read_text())
    result = run("rules", "lint")
    assert result.exit_code == 1
    assert "rules.md (project)" in result.output
    assert f'rules.md:2: hedge: "probably" hedges a rule — fix: {FIX["hedge"]}' in result.output
    data = json.loads(run("rules", "lint", "--json").output)
    assert [f["kind"] for f in data["findings"]] == ["hedge"]
    assert data["files"][0]["source"] == "project"


def test_a_rules_file_that_is_not_utf8_is_named(repo: Path) -> None:
    own = repo / ".specflow" / "rules"
    own.mkdir(parents=True)
    (own / "engineering-standards.md").write_bytes(b"# Standards\n\xff\n")
    result = run("rules", "lint")
    assert result.exit_code != 0
    assert "engineering-standards.md: not UTF-8 text (byte 12)" in result.output
    assert "Traceback" not in result.output


def test_the_carried_total_is_the_rules_and_the_checklist_only(repo: Path) -> None:
    files = rules_in_force(None)
    report = lint_rules(files, len)
    standards = next(f.text for f in files if f.name == "engineering-standards.md")
    compact = compact_standards(standards)
    assert "## Review Checklist" in compact and "## Logging" not in compact
    rules = next(f.text for f in files if f.name == "rules.md")
    assert report.carried["chars"] == len(rules.strip() + "\n\n" + compact.strip())
    assert report.carried["parts"] == ["rules.md", "engineering-standards.md (Review Checklist)"]
