"""The corpus in tests/contracts/: for every content rule a reply that breaks it and a near
miss that must pass, checked through `specflow check STAGE FILE --json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specflow.stages.check import run_check

CORPUS = Path(__file__).parent / "contracts"

# file: (stage, the rule it breaks, or None when it must hold the contract)
EXPECTED: dict[str, tuple[str, str | None]] = {
    "spec.vague-directive.break.md": ("spec", "spec.vague-directive"),
    "spec.vague-directive.pass.md": ("spec", None),
    "spec.hedge.break.md": ("spec", "spec.hedge"),
    "spec.hedge.pass.md": ("spec", None),
    "spec.matrix-cell.break.md": ("spec", "spec.matrix-cell"),
    "spec.matrix-cell.pass.md": ("spec", None),
    "spec.concurrency-na.break.md": ("spec", "spec.concurrency-na"),
    "spec.concurrency-na.pass.md": ("spec", None),
    "spec.out-of-scope-conflict.break.md": ("spec", "spec.out-of-scope-conflict"),
    "spec.out-of-scope-conflict.pass.md": ("spec", None),
    "spec.file-plan-path.break.md": ("spec", "spec.file-plan-path"),
    "spec.file-plan-path.pass.md": ("spec", None),
    "spec.unknown-duplicate.pass.md": ("spec", None),
    "spec.outer-fence.break.md": ("spec", "reply.outer-fence"),
    "spec.outer-fence.pass.md": ("spec", None),
    "implement.elision.break.md": ("implement", "implement.elision"),
    "implement.elision.pass.md": ("implement", None),
    "implement.self-review-fail.break.md": ("implement", "implement.self-review-fail"),
    "implement.self-review-fail.pass.md": ("implement", None),
    "python.swallowed-exception.break.md": ("implement", "python.swallowed-exception"),
    "python.swallowed-exception.pass.md": ("implement", None),
    "python.print.break.md": ("implement", "python.print"),
    "python.print.pass.md": ("implement", None),
    "python.exit.break.md": ("implement", "python.exit"),
    "python.exit.pass.md": ("implement", None),
    "python.shell-true.break.md": ("implement", "python.shell-true"),
    "python.shell-true.pass.md": ("implement", None),
    "python.sql-string.break.md": ("implement", "python.sql-string"),
    "python.sql-string.pass.md": ("implement", None),
    "implement.secret.break.md": ("implement", "implement.secret"),
    "implement.secret.pass.md": ("implement", None),
    "implement.outer-fence.pass.md": ("implement", None),
    "review.hedge.break.md": ("review", "review.hedge"),
    "review.hedge.pass.md": ("review", None),
    "review.bluff.break.md": ("review", "review.hedge"),
    "scope.duplicate-question.break.md": ("scope", "scope.duplicate-question"),
    "scope.duplicate-question.pass.md": ("scope", None),
    "scope.hedge.break.md": ("scope", "scope.hedge"),
    "scope.hedge.pass.md": ("scope", None),
}


def test_every_corpus_file_has_a_verdict() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.md")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_corpus_verdicts(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    stage, rule = EXPECTED[name]
    code = run_check(stage, name, None, as_json=True)
    report = json.loads(capsys.readouterr().out)
    assert report["stage"] == stage
    rules = [v["rule"] for v in report["violations"]]
    if rule is None:
        assert (code, report["ok"], report["violations"]) == (0, True, []), report
    else:
        assert (code, report["ok"]) == (1, False)
        assert rules and set(rules) == {rule}, report
        assert all(v["fix"] for v in report["violations"])
