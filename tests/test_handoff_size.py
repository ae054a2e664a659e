"""The implement handoff prompt stays one bounded, self-contained message for every file."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.helpers import run, specced_task
from tests.support.samples import SPEC_REPLY_NO_UNKNOWNS, implement_reply

SLUG = "exporter"
FILES = [f"src/exporter/part{n}.py" for n in range(1, 9)]
PLAN = "".join(
    f"- `{path}` (create) — part {n} of the exporter.\n" for n, path in enumerate(FILES, 1)
)
SPEC = re.sub(
    r"(## Architecture & File Plan\n\n)(?:- .*\n)+",
    lambda m: m.group(1) + PLAN,
    SPEC_REPLY_NO_UNKNOWNS,
)


def _code(n: int) -> str:
    """About 60 lines with a line no summary contains."""
    body = "".join(f"    total += {i}  # body line {n}.{i}\n" for i in range(55))
    return f"def run_part{n}(rows, *, limit):\n    total = 0\n{body}    return total\n"


def test_the_prompt_for_the_1st_3rd_and_8th_file_is_bounded(repo: Path, tmp_path: Path) -> None:
    specced_task(tmp_path, SLUG, SPEC)
    prompt_file = repo / ".specflow" / "tasks" / SLUG / "handoff" / "implement.prompt.md"
    sizes: dict[int, int] = {}
    prompts: dict[int, str] = {}
    for n, path in enumerate(FILES, 1):
        result = run("implement", "--file", path)
        assert result.exit_code == 0, result.output
        prompts[n] = prompt_file.read_text()
        sizes[n] = len(prompts[n])
        reply = tmp_path / "reply.md"
        reply.write_text(implement_reply(path, _code(n)))
        assert run("implement", "--file", path, "--reply", str(reply)).exit_code == 0
    for n in (1, 3, 8):
        text = prompts[n]
        # one message: the system parts and a single user turn, no replayed reply
        assert text.count("===== USER =====") == 1
        assert "===== ASSISTANT =====" not in text
        assert text.count("# The spec") == 1
        for earlier in range(1, n):
            # summarised by path and signature, not replayed
            assert (
                f"- `{FILES[earlier - 1]}` (written: 58 lines: def run_part{earlier}(rows, limit))"
                in text
            )
            assert f"# body line {earlier}." not in text
        for later in FILES[n:]:
            assert f"- `{later}` (later: do not create it now)" in text
    # bounded: the first file's prompt plus one summary line per file written before
    per_file = len(" (written: 58 lines: def run_part1(rows, limit))")
    for n in (3, 8):
        assert sizes[n] - sizes[1] <= (n - 1) * per_file
    assert sizes[8] < sizes[1] * 1.2
    assert len(_code(1)) * 7 > sizes[8] - sizes[1] + 1000  # replaying the code would not fit


def test_a_rejected_reply_writes_a_correction_prompt(repo: Path, tmp_path: Path) -> None:
    specced_task(tmp_path, SLUG, SPEC)
    reply = tmp_path / "reply.md"
    reply.write_text(implement_reply(FILES[0], _code(1)).replace("## Self-Review", "## Review"))
    result = run("implement", "--file", FILES[0], "--reply", str(reply))
    assert result.exit_code == 1
    reask = repo / ".specflow" / "tasks" / SLUG / "handoff" / "implement.reask.md"
    text = reask.read_text()
    assert text.startswith("Your previous reply broke the implement output contract:\n\n- ")
    assert "Send the whole reply again, corrected, in the contract format. Output only" in text
    assert "attempt 0" not in text
    violations = [line for line in text.splitlines() if line.startswith("- ")]
    assert violations and all(v[2:] in result.stderr for v in violations)
    assert (
        f"A correction prompt that says exactly what to fix is in "
        f".specflow/tasks/{SLUG}/handoff/implement.reask.md" in result.stderr
    )
    assert not (repo / FILES[0]).exists()


def test_a_rejected_spec_reply_writes_its_correction_prompt(repo: Path, tmp_path: Path) -> None:
    specced_task(tmp_path, SLUG, SPEC)
    bad = tmp_path / "bad-spec.md"
    bad.write_text(SPEC.replace("## Intent", "## Purpose"))
    result = run("spec", "--reply", str(bad))
    assert result.exit_code == 1
    reask = repo / ".specflow" / "tasks" / SLUG / "handoff" / "spec.reask.md"
    assert reask.read_text().startswith("Your previous reply broke the spec output contract:")
    assert "spec.reask.md" in result.stderr


def test_log_estimates_the_tokens_of_a_handoff_exchange(repo: Path, tmp_path: Path) -> None:
    import json

    from specflow.stages.anchoring import estimate_tokens

    specced_task(tmp_path, SLUG, SPEC)
    assert run("implement", "--file", FILES[0]).exit_code == 0
    prompt = repo / ".specflow" / "tasks" / SLUG / "handoff" / "implement.prompt.md"
    reply = tmp_path / "reply.md"
    reply.write_text(implement_reply(FILES[0], _code(1)))
    assert run("implement", "--file", FILES[0], "--reply", str(reply)).exit_code == 0
    stages = json.loads(run("log", "--json").output)["stages"]
    assert stages["implement"]["input_tokens"] == estimate_tokens(prompt.read_text()) > 1000
    assert stages["implement"]["output_tokens"] == estimate_tokens(reply.read_text()) > 0
    assert stages["implement"]["estimated"] is True
    text = run("log").output
    line = next(row for row in text.splitlines() if row.startswith("implement"))
    assert f"~{stages['implement']['input_tokens']:,}" in line
    assert text.endswith(
        "~ estimated: replies brought with --reply (handoff) have no token count\n"
    )


def test_the_handoff_prompt_carries_the_whole_standards_when_configured(
    repo: Path, tmp_path: Path
) -> None:
    specced_task(tmp_path, SLUG, SPEC)
    config = repo / ".specflow" / "config.toml"
    config.write_text('[stages.implement]\nstandards = "whole"\n')
    detail = "Keep logic in importable functions and classes"  # a line of ## Structure
    prompt_file = repo / ".specflow" / "tasks" / SLUG / "handoff" / "implement.prompt.md"
    assert run("implement", "--file", FILES[0]).exit_code == 0
    first = prompt_file.read_text()
    assert first.count(detail) == 1 and "## Engineering standards" in first
    reply = tmp_path / "reply.md"
    reply.write_text(implement_reply(FILES[0], _code(1)))
    assert run("implement", "--file", FILES[0], "--reply", str(reply)).exit_code == 0
    assert run("implement", "--file", FILES[1]).exit_code == 0
    second = prompt_file.read_text()
    assert second.count(detail) == 1  # every paste prompt stands alone
    assert "## A fresh conversation" not in second  # the file plan names the files done
    config.write_text("")
    assert run("implement", "--file", FILES[1]).exit_code == 0
    assert detail not in prompt_file.read_text()  # the default: the sections it calls for
