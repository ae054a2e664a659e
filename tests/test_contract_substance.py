"""The content rules that take context: the file on disk, the change, the plan, resolutions."""

from __future__ import annotations

import pytest

from specflow.contracts.evidence import changed_files, number_hunk_lines
from specflow.contracts.implement import check_implement
from specflow.contracts.paths import plan_entry, unsafe_path_reason
from specflow.contracts.review import check_review
from specflow.contracts.rules import check_disabled
from specflow.contracts.spec import check_spec, template_headings
from specflow.contracts.spec_content import unknown_blocks
from specflow.errors import ConfigError
from specflow.stages.prompts import Prompts
from tests.samples import CHECKLIST, SPEC_REPLY

HEADINGS = template_headings(Prompts(None).spec_template())
REVIEW = "".join(f"- {name}: PASS — checked.\n" for name in CHECKLIST)
CURRENT = "def load():\n    return 1\n\n\nclass Signer:\n    def unsign(self):\n        return 2\n"
DIFF = (
    "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -10,2 +10,3 @@\n"
    " x = 1\n-y = 2\n+y = 3\n+z = y + 1\n"
)


def implement(code: str) -> str:
    return f"```python\n{code}```\n\n## Self-Review\n\n{REVIEW}"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (".git/hooks/post-checkout", "inside `.git`"),
        ("sub/.GIT/config", "inside `.git`"),
        (".Specflow/tasks/x.md", "inside `.specflow`"),
        ("/etc/cron.d/x", "absolute"),
        ("C:\\temp\\x.py", "absolute"),
        ("../../etc/cron.d/x", "leaves the repository"),
    ],
)
def test_unsafe_paths(path: str, reason: str) -> None:
    assert reason in (unsafe_path_reason(path) or "")


@pytest.mark.parametrize("path", ["src/app.py", ".gitignore", ".github/ci.yml", "a/.gitkeep"])
def test_safe_paths(path: str) -> None:
    assert unsafe_path_reason(path) is None


def test_what_the_file_plan_takes_as_a_file() -> None:
    assert plan_entry("TimestampSigner.unsign") == (False, None)
    assert plan_entry("TimestampSigner.unsign", lambda p: True) == (True, None)
    assert plan_entry("/metrics") == (False, None)
    assert plan_entry("config.toml") == (True, None)
    assert plan_entry("Makefile", lambda p: p == "Makefile") == (True, None)
    assert plan_entry("https://x.org/a.py") == (False, None)


def test_unknown_blocks_names_files_by_path() -> None:
    plan = ["src/a.py", "src/b.py"]
    assert unknown_blocks("the batch size in `src/b.py`", plan) == (["src/b.py"], None)
    blocked = unknown_blocks("the batch size", plan, "U1")
    assert blocked.paths == plan
    assert blocked.note is not None and blocked.note.startswith("U1 names no planned file")


def test_duplicate_unknowns_are_one_item_and_a_resolved_one_may_not_reopen() -> None:
    item = (
        "- UNKNOWN: the scrape interval in production — verify: read prometheus.yml — blocks: "
        "the cache lifetime in `src/exporter/collector.py`\n"
    )
    twice = SPEC_REPLY.replace("## Out of Scope", item + "\n## Out of Scope")
    result = check_spec(twice, HEADINGS)
    assert result.value is not None and len(result.value.unknowns) == 1
    again = check_spec(
        twice, HEADINGS, resolved=[("The scrape interval in production.", "30 seconds")]
    )
    assert [v.rule for v in again.violations] == ["spec.unknown-reopened"]
    assert '"30 seconds"' in again.violations[0].message


def test_removed_definitions_are_named_unless_the_spec_says_so() -> None:
    code = "def load():\n    return 1\n"
    result = check_implement(implement(code), "app.py", CHECKLIST, current=CURRENT)
    assert [v.rule for v in result.violations] == ["implement.removed-definition"]
    assert "`Signer`, `Signer.unsign`" in result.violations[0].message
    allowed = ["Remove the `Signer` class; tokens are no longer signed."]
    assert check_implement(
        implement(code), "app.py", CHECKLIST, current=CURRENT, directives=allowed
    ).ok
    assert check_implement(implement(CURRENT), "app.py", CHECKLIST, current=CURRENT).ok


def test_a_reply_that_is_not_python_falls_back_to_the_syntax_check() -> None:
    result = check_implement(implement("def f(:\n    pass  # ...\n"), "app.py", CHECKLIST)
    assert [v.rule for v in result.violations] == [""]
    assert "Python syntax error" in result.violations[0].message


def test_review_evidence_and_location_against_the_change() -> None:
    changes = changed_files(DIFF)

    def rules(finding: str, planned: tuple[str, ...] = ()) -> list[str]:
        text = f"## Verdict\n\nFAIL\n\n## Findings\n\n{finding}\n"
        result = check_review(text, set(changes), changes=changes, planned=planned)
        return [v.rule or "form" for v in result.violations]

    good = "- [MAJOR] app.py:12 — Tests — z is untested. Evidence: `z  =  y + 1`"
    assert rules(good) == []
    assert rules(good.replace(":12", ":999")) == ["review.location"]
    assert rules(good.replace(":12", ":15")) == []  # within the slack of the hunk
    assert rules(good.replace("z  =  y + 1", "w = 4")) == ["review.evidence"]
    assert rules(good.replace("z  =  y + 1", "y = 2")) == []  # a removed line
    missing = "- [MAJOR] app/cli.py:1 — Scope — the planned file is missing from the change."
    assert rules(missing, ("app/cli.py",)) == []
    assert rules(missing) == ["form"]


def test_number_hunk_lines() -> None:
    assert number_hunk_lines(DIFF).split("\n")[4:8] == [
        "   10  x = 1",
        "      -y = 2",
        "   11 +y = 3",
        "   12 +z = y + 1",
    ]


def test_unknown_rule_ids_are_a_config_error() -> None:
    assert check_disabled(["python.print"]) == frozenset({"python.print"})
    with pytest.raises(ConfigError, match="unknown rule id `python.prnt`"):
        check_disabled(["python.prnt"], "config.toml [contracts] disabled")


# --- honest replies the content rules must accept, each with a near miss they still reject ---


def spec_rules(text: str) -> list[str]:
    return [v.rule or "form" for v in check_spec(text, HEADINGS).violations]


def with_recovery(cell: str) -> str:
    return SPEC_REPLY.replace("serve last values, mark stale |", f"{cell} |")


def test_a_recovery_cell_that_rules_out_retrying_needs_no_bound() -> None:
    assert spec_rules(with_recovery("do not retry; serve last values")) == []
    assert spec_rules(with_recovery("never retry, serve last values")) == []
    assert spec_rules(with_recovery("no retries; serve last values")) == []
    near = with_recovery("retry the query; do not page anyone")
    assert spec_rules(near) == ["spec.matrix-cell"]


def test_concurrency_na_ignores_negated_sentences_and_a_plain_queue() -> None:
    na = SPEC_REPLY.replace(
        "One lock guards the cached result; no I/O under the lock.", "N/A — single-threaded."
    )
    negated = na.replace(
        "- One gauge per job state,", "- No background threads.\n- One gauge per job state,"
    )
    assert spec_rules(negated) == []
    queue = na.replace("Oracle job table's", "Oracle job queue's")
    assert spec_rules(queue) == []
    threads = na.replace(
        "- One gauge per job state,", "- Two worker threads refresh the gauges.\n- One gauge,"
    )
    assert spec_rules(threads) == ["spec.concurrency-na"]
    after = na.replace(
        "- One gauge per job state,", "- Workers share no state.\n- One gauge per job state,"
    )
    assert spec_rules(after) == ["spec.concurrency-na"]  # the negation comes after
    task_queue = na.replace("Oracle job table's", "Celery task queue's")
    assert spec_rules(task_queue) == ["spec.concurrency-na"]


def with_directive(directive: str) -> str:
    return SPEC_REPLY.replace(
        "2. Cache the query result for 15 seconds.",
        f"2. Cache the query result for 15 seconds.\n3. {directive}",
    )


@pytest.mark.parametrize(
    "directive",
    [
        "Handle errors from `cursor.execute` by raising `ExportError`.",
        "Close the `oracledb` connection properly in `collector.close()`.",
    ],
)
def test_an_anchored_directive_with_one_vague_phrase_is_not_vague(directive: str) -> None:
    assert spec_rules(with_directive(directive)) == []


@pytest.mark.parametrize(
    "directive",
    [
        "Handle errors appropriately.",
        "Add caching as needed.",
        "Handle errors from `cursor.execute` appropriately.",  # two vague phrases
        "Set `BATCH_SIZE` to TBD.",  # undecided, however anchored
    ],
)
def test_a_vague_directive_is_still_vague(directive: str) -> None:
    assert spec_rules(with_directive(directive)) == ["spec.vague-directive"]


def test_a_one_word_out_of_scope_item_does_not_conflict() -> None:
    item = SPEC_REPLY.replace("- No schema changes.", "- No schema changes.\n- Authentication.")
    honest = with_directive("Log authentication failures from `cx_Oracle` at WARNING.")
    honest = honest.replace("- No schema changes.", "- No schema changes.\n- Authentication.")
    assert spec_rules(honest) == []
    assert spec_rules(item) == []
    near = with_directive("Add per-job metrics labelled by `job_id`.")
    assert spec_rules(near) == ["spec.out-of-scope-conflict"]


def test_a_revision_may_keep_an_unknown_that_differs_from_every_resolved_item() -> None:
    resolved = [("The Oracle version.", "19c"), ("The batch size.", "500 rows")]
    result = check_spec(SPEC_REPLY, HEADINGS, resolved=resolved)
    assert result.ok, result.violations
    assert result.value is not None and len(result.value.unknowns) == 1


def implement_rules(code: str) -> list[str]:
    return [
        v.rule or "form" for v in check_implement(implement(code), "app.py", CHECKLIST).violations
    ]


@pytest.mark.parametrize(
    "code",
    [
        "# Other imports\nimport os\n",
        "# Log the response body truncated to 200 characters\nx = 1\n",
        "# rest of the line after the colon is the value\nx = 1\n",
        "import logging\n\nLOG = logging.getLogger(__name__)\n"
        'LOG.info(\n    "Processing remaining jobs..."\n)\n',
        "from typing import Protocol, TypeVar\n\nT = TypeVar('T')\n\n\n"
        "class Reader(Protocol[T]):\n    def read(self) -> T: ...\n",
    ],
)
def test_honest_code_is_not_elision(code: str) -> None:
    assert implement_rules(code) == []


@pytest.mark.parametrize(
    "code",
    [
        "# ... rest unchanged ...\nx = 1\n",
        "# existing code\nx = 1\n",
        "# rest of the code omitted\nx = 1\n",
        "# imports unchanged\nx = 1\n",
        'def f() -> None:\n    """...rest unchanged..."""\n',
        'x = 1\n"""...rest unchanged..."""\n',
        "class Reader(Base[int]):\n    def read(self) -> int: ...\n",
    ],
)
def test_elision_is_still_found(code: str) -> None:
    assert implement_rules(code) == ["implement.elision"]


def test_sql_joined_from_constants_is_not_built_from_values() -> None:
    head = "def count(cursor, state):\n    return cursor.execute("
    honest = head + '"SELECT COUNT(*) FROM jobs " + "WHERE state = ?", (state,))\n'
    assert implement_rules(honest) == []
    for built in (
        '"SELECT COUNT(*) FROM jobs WHERE state = " + state)\n',
        '"SELECT COUNT(*) FROM jobs " + "WHERE state = " + state)\n',
        '"SELECT COUNT(*) FROM jobs WHERE state = %s" % state)\n',
        'f"SELECT COUNT(*) FROM jobs WHERE state = {state}")\n',
    ):
        assert implement_rules(head + built) == ["python.sql-string"], built
