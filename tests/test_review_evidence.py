"""The gate holds a review reply to the change: findings point inside its hunks and quote
code it shows, or name a planned file the change lacks; the prompt numbers the hunk lines."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import git
from tests.support.fakes import Text
from tests.support.fakes.anthropic_server import AnthropicServer
from tests.support.helpers import run, specced_task
from tests.support.samples import SPEC_REPLY_NO_UNKNOWNS, review_reply

COLLECTOR = "src/exporter/collector.py"
SERVER = "src/exporter/server.py"
CODE = (
    "import os\n\n\ndef collect():\n"
    "    try:\n        return os.getcwd()\n    except OSError:\n        pass\n"
)
CORRECT = (
    f"- [MAJOR] {COLLECTOR}:7 — Error propagation — the OSError is swallowed. "
    "Evidence: `except OSError: pass`"
)


def _stage(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", rel)


def _review(*args: str) -> tuple[int, dict[str, object]]:
    result = run("review", "--json", "--no-cache", *args)
    return result.exit_code, json.loads(result.stdout)


def _sent(request: object) -> str:
    return json.dumps(request.body, ensure_ascii=False)  # type: ignore[attr-defined]


def test_a_correct_finding_holds_first_time(repo: Path, claude: AnthropicServer) -> None:
    _stage(repo, COLLECTOR, CODE)
    claude.script(Text(review_reply([CORRECT])))
    code, data = _review()
    assert code == 1 and data["outcome"] == "FAIL"
    assert len(claude.requests) == 1
    assert data["findings"][0]["line"] == 7


def test_the_prompt_numbers_each_hunk_line(repo: Path, claude: AnthropicServer) -> None:
    _stage(repo, COLLECTOR, CODE)
    claude.script(Text(review_reply()))
    code, _ = _review()
    assert code == 0
    sent = json.loads(_sent(claude.requests[0]))["messages"][0]["content"]
    text = sent if isinstance(sent, str) else "".join(b.get("text", "") for b in sent)
    assert "    7 +    except OSError:" in text
    assert "    1 +import os" in text
    assert "cite those numbers" in text


def test_a_finding_outside_the_change_is_asked_again(repo: Path, claude: AnthropicServer) -> None:
    _stage(repo, COLLECTOR, CODE)
    outside = CORRECT.replace(f"{COLLECTOR}:7", f"{COLLECTOR}:999")
    claude.script(Text(review_reply([outside])), Text(review_reply([CORRECT])))
    code, data = _review()
    assert code == 1 and data["findings"][0]["line"] == 7
    assert len(claude.requests) == 2
    reask = _sent(claude.requests[1])
    assert "points outside the change" in reask and "1–8" in reask


def test_a_finding_quoting_code_not_in_the_change_is_asked_again(
    repo: Path, claude: AnthropicServer
) -> None:
    _stage(repo, COLLECTOR, CODE)
    bluff = CORRECT.replace("`except OSError: pass`", "`except Exception: pass`")
    claude.script(Text(review_reply([bluff])), Text(review_reply([CORRECT])))
    code, data = _review()
    assert code == 1 and data["findings"][0]["evidence"] == "except OSError: pass"
    assert len(claude.requests) == 2
    assert "which is not in the change" in _sent(claude.requests[1])


def test_whitespace_in_evidence_is_not_held_against_it(repo: Path, claude: AnthropicServer) -> None:
    # near miss: the quote spans two lines of the change, joined with one space
    _stage(repo, COLLECTOR, CODE)
    claude.script(Text(review_reply([CORRECT.replace("`except", "`  except")])))
    code, _ = _review()
    assert code == 1 and len(claude.requests) == 1


def test_a_planned_file_missing_from_the_change_holds(
    repo: Path, tmp_path: Path, claude: AnthropicServer
) -> None:
    specced_task(tmp_path, "exporter", SPEC_REPLY_NO_UNKNOWNS)
    _stage(repo, COLLECTOR, CODE)
    missing = f"- [MAJOR] {SERVER}:1 — File plan — the planned server is missing from the change."
    claude.script(Text(review_reply([missing])))
    code, data = _review()
    assert code == 1 and len(claude.requests) == 1
    assert data["task"] == "exporter"
    assert data["findings"][0]["path"] == SERVER and data["findings"][0]["evidence"] == ""


def test_an_unplanned_missing_file_is_asked_again(
    repo: Path, tmp_path: Path, claude: AnthropicServer
) -> None:
    # near miss of the above: the file is in no plan, so the finding names nothing changed
    specced_task(tmp_path, "exporter", SPEC_REPLY_NO_UNKNOWNS)
    _stage(repo, COLLECTOR, CODE)
    stray = "- [MAJOR] src/other.py:1 — File plan — the other module is missing."
    claude.script(Text(review_reply([stray])), Text(review_reply([CORRECT])))
    code, _ = _review()
    assert code == 1 and len(claude.requests) == 2
    assert "has no `Evidence:` quoting the code" in _sent(claude.requests[1])


def test_a_handoff_reply_is_held_to_the_same_evidence_rules(repo: Path, tmp_path: Path) -> None:
    _stage(repo, COLLECTOR, CODE)
    assert run("review", "--staged").exit_code == 0  # writes the prompt: NOT REVIEWED
    prompt = (repo / ".specflow/cache/review/handoff/review.prompt.md").read_text()
    assert "    7 +    except OSError:" in prompt
    bluff = tmp_path / "bluff.md"
    bluff.write_text(review_reply([CORRECT.replace(":7 ", ":300 ")]))
    rejected = run("review", "--staged", "--reply", str(bluff))
    assert rejected.exit_code != 0
    assert "points outside the change" in rejected.output
    good = tmp_path / "good.md"
    good.write_text(review_reply([CORRECT]))
    recorded = run("review", "--staged", "--reply", str(good))
    assert recorded.exit_code == 1 and "specflow review: FAIL" in recorded.stdout
