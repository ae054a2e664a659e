"""Terminal output: the spinner's elapsed seconds, and a re-ask that does not repeat itself."""

from __future__ import annotations

import io

from specflow.ui import Elapsed, StreamPrinter
from tests.support.helpers import run
from tests.support.samples import SCOPE_REPLY
from tests.support.scripted import ScriptedProvider

QUESTION = "Which Oracle version and driver does the exporter connect with?"


def test_the_spinner_label_shows_the_seconds_waited() -> None:
    now = [100.0]
    label = Elapsed("scope: waiting for claude-sonnet-4-5 (anthropic)", lambda: now[0])
    assert str(label) == "scope: waiting for claude-sonnet-4-5 (anthropic) (0 s)"
    now[0] = 112.7
    assert label.__rich__() == "scope: waiting for claude-sonnet-4-5 (anthropic) (12 s)"


def test_a_retry_is_not_streamed_again() -> None:
    out = io.StringIO()
    printer = StreamPrinter(out)
    printer.waiting("scope: waiting")
    printer("first reply")
    printer.retrying("scope: waiting for the corrected reply")
    printer("second reply")
    printer.done()
    assert out.getvalue() == (
        "scope: waiting\nfirst reply\nscope: waiting for the corrected reply\n"
    )
    assert printer.chars == len("first reply") + len("second reply")
    printer.waiting("spec: waiting")  # the next stage streams again
    printer("spec reply")
    printer.done()
    assert out.getvalue().endswith("spec: waiting\nspec reply\n")


def test_the_questions_show_once_after_a_reask(repo: object, scripted: ScriptedProvider) -> None:
    assert run("new", "Prometheus exporter").exit_code == 0
    scripted.enqueue("Here are my thoughts: FIRST-ATTEMPT", SCOPE_REPLY)
    result = run("scope")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("FIRST-ATTEMPT") == 1
    assert "scope: reply 1 broke the contract (kept in attempts/); asking again" in result.stderr
    assert QUESTION not in result.stderr  # the accepted reply is not streamed a second time
    assert result.output.count(QUESTION) == 1  # it is shown once, as the stage's result
