"""`specflow check`: the plain form runs without click, and says exactly what click says."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from specflow.cli import run
from specflow.stages.check import check_args, fast_check
from tests.support.helpers import fresh_run
from tests.support.samples import CHECKLIST, SCOPE_REPLY, SPEC_REPLY

# What the plain form must never load: each one costs more than checking a short file.
SLOW_IMPORTS = (
    "click",
    "dataclasses",
    "pathlib",
    "pydantic",
    "jinja2",
    "hashlib",
    "anthropic",
    "git",
)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.md").write_text(SPEC_REPLY, encoding="utf-8")
    (tmp_path / "bad-spec.md").write_text("Intro\n\n" + SPEC_REPLY + "\nThis should work.\n")
    (tmp_path / "scope.md").write_text(SCOPE_REPLY, encoding="utf-8")
    (tmp_path / "bad-scope.md").write_text("## Scoping Questions\n\n1. Only one?\n")
    (tmp_path / "reply.md").write_text("Here is the file.\n")
    (tmp_path / "review.md").write_text("Looks fine to me.\n")
    (tmp_path / "latin1.md").write_bytes("## Intent\n\ncaf\xe9\n".encode("latin-1"))
    (tmp_path / "folder").mkdir()
    return tmp_path


PLAIN = [
    ["spec", "spec.md"],
    ["spec", "bad-spec.md"],
    ["scope", "scope.md"],
    ["scope", "bad-scope.md"],
    ["implement", "reply.md", "--path", "src/app.py"],
    ["implement", "--path=src/app.py", "reply.md"],
    ["implement", "reply.md"],
    ["review", "review.md"],
    ["spec", "missing.md"],
    ["spec", "latin1.md"],
    ["scope", "-"],
]


def _outcome(
    call: object, argv: list[str], capsys: pytest.CaptureFixture[str], stdin: str
) -> tuple[int | None, str, str]:
    import sys

    sys.stdin = io.StringIO(stdin)
    try:
        code = call(argv)  # type: ignore[operator]
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


def _through_click(argv: list[str]) -> int:
    import sys

    saved = sys.argv
    sys.argv = ["specflow", "check", *argv]
    try:
        return run()
    finally:
        sys.argv = saved


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_the_plain_form_prints_what_click_prints(
    files: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    fast = _outcome(fast_check, argv, capsys, SCOPE_REPLY)
    slow = _outcome(_through_click, argv, capsys, SCOPE_REPLY)
    assert fast == slow
    assert fast[0] in (0, 1, 2)
    assert fast[1] or fast[2]  # it said something


def test_the_plain_form_reports_each_outcome(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _outcome(fast_check, ["spec", "spec.md"], capsys, "") == (
        0,
        "spec.md: holds the spec contract\n",
        "",
    )
    code, out, err = _outcome(fast_check, ["scope", "bad-scope.md"], capsys, "")
    assert code == 1
    assert "bad-scope.md:1: `## Scoping Questions` has 1 question; the contract allows 5–8\n" in out
    assert err == f"bad-scope.md: {len(out.splitlines())} violation(s) of the scope contract\n"
    assert _outcome(fast_check, ["spec", "missing.md"], capsys, "") == (
        2,
        "",
        "error: missing.md: no such file\n",
    )
    assert _outcome(fast_check, ["scope", "-"], capsys, SCOPE_REPLY) == (
        0,
        "<stdin>: holds the scope contract\n",
        "",
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-h"],
        ["spec"],
        ["spec", "a.md", "b.md"],
        ["specs", "spec.md"],
        ["spec", "folder"],
        ["spec", "spec.md", "--path"],
        ["spec", "spec.md", "--bogus"],
        ["--", "spec", "spec.md"],
    ],
    ids=" ".join,
)
def test_anything_else_is_left_to_click(
    files: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_args(argv) is None
    assert fast_check(argv) is None
    assert capsys.readouterr() == ("", "")


def test_a_bug_in_the_plain_form_is_reported_as_one(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("specflow.stages.check.checked", broken)
    code, out, err = _outcome(fast_check, ["spec", "spec.md"], capsys, "")
    assert (code, out) == (70, "")
    assert "RuntimeError: boom" in err
    assert "unexpected error (a bug)" in err


def test_the_plain_form_loads_no_slow_module(files: Path) -> None:
    review = "".join(f"- {name}: PASS — nothing to do\n" for name in CHECKLIST)
    (files / "good-reply.md").write_text(
        f"## File: a.py\n\n```python\nx = 1\n```\n\n## Self-Review\n\n{review}"
    )
    (files / "good-review.md").write_text(
        "## Verdict\n\nFAIL\n\n## Findings\n\n"
        "- [MAJOR] a.py:1 — Logging — no log on failure. Evidence: `x = 1`\n"
    )
    done = fresh_run(
        files,
        ["check", "spec", "spec.md"],
        ["check", "scope", "bad-scope.md"],
        ["check", "spec", "bad-spec.md"],
        ["check", "implement", "good-reply.md", "--path", "a.py"],
        ["check", "implement", "reply.md"],
        ["check", "review", "good-review.md"],
        ["check", "review", "review.md"],
        watch=SLOW_IMPORTS,
        entry="specflow.__main__:main",
    )
    assert (done.codes, done.loaded) == ([0, 1, 1, 0, 1, 0, 1], [])
    assert "good-reply.md: holds the implement contract" in done.output
    assert "good-review.md: holds the review contract" in done.output


def test_the_console_entry_hands_other_forms_to_click(files: Path) -> None:
    done = fresh_run(files, ["check", "--help"], watch=("click",), entry="specflow.__main__:main")
    assert (done.codes, done.loaded) == ([0], ["click"])
    assert "Usage: specflow check [OPTIONS]" in done.output


def test_a_check_leaves_no_reference_cycles(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The plain form runs with the cyclic collector off, so what it drops must be freed by
    # reference counting alone.
    import gc

    for argv in (["spec", "spec.md"], ["spec", "bad-spec.md"], ["scope", "bad-scope.md"]):
        fast_check(argv)  # the first run loads modules, which do hold cycles
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for argv in (["spec", "spec.md"], ["spec", "bad-spec.md"], ["scope", "bad-scope.md"]):
            assert fast_check(argv) in (0, 1)
        found = gc.collect()
        left = [type(o).__name__ for o in gc.garbage[:8]]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert (found, left) == (0, [])
    capsys.readouterr()


def test_stdin_that_is_not_utf8_is_a_usage_error(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python's own stdin decodes with surrogateescape under a C locale: read the bytes.
    raw = io.BytesIO(b"## Verdict\n\xff\n")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(raw, "utf-8", errors="surrogateescape"))
    assert fast_check(["review", "-"]) == 2
    assert capsys.readouterr() == ("", "error: <stdin>: not UTF-8 text\n")


def test_a_byte_order_mark_is_not_text(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "bom.md").write_bytes(b"\xef\xbb\xbf" + SCOPE_REPLY.encode())
    assert fast_check(["scope", "bom.md"]) == 0
    assert capsys.readouterr().out == "bom.md: holds the scope contract\n"


def test_a_closed_or_vanished_stdout_keeps_the_verdict(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    monkeypatch.setattr("sys.stdout", None)  # started with stdout closed (`>&-`)
    assert fast_check(["scope", "bad-scope.md"]) == 1
    assert fast_check(["spec", "spec.md"]) == 0
    monkeypatch.setattr("sys.stdout", Gone())  # the reader went away (`| head -0`)
    assert fast_check(["scope", "bad-scope.md"]) == 1
    assert fast_check(["spec", "spec.md"]) == 0
    assert "violation(s)" in capsys.readouterr().err


def test_click_and_the_plain_form_know_the_same_stages() -> None:
    from specflow.cli.app import STAGES as CLI_STAGES
    from specflow.contracts.registry import STAGES

    assert CLI_STAGES == STAGES


@pytest.mark.parametrize(
    "config",
    [
        '[contracts]\ndisabled = ["spec.hedge"]\n',
        'contracts.disabled = ["spec.hedge"]\n',
        'contracts = { disabled = ["spec.hedge"] }\n',
    ],
    ids=["table", "dotted-key", "inline-table"],
)
def test_check_honours_the_projects_disabled_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], config: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    hedged = SPEC_REPLY.replace(
        "2. Cache the query result for 15 seconds.",
        "2. Cache the query result for 15 seconds, which should work for most scrapes.",
    )
    (tmp_path / "spec.md").write_text(hedged)
    assert fast_check(["spec", "spec.md"]) == 1  # near miss: no config, the hedge is found
    assert '"should work"' in capsys.readouterr().out
    (tmp_path / ".specflow").mkdir()
    (tmp_path / ".specflow" / "config.toml").write_text('provider = "handoff"\n')
    assert fast_check(["spec", "spec.md"]) == 1  # a config without [contracts]: same verdict
    (tmp_path / ".specflow" / "config.toml").write_text(config)
    capsys.readouterr()
    assert fast_check(["spec", "spec.md"]) == 0
    assert _through_click(["spec", "spec.md", "--json"]) == 0
