"""Output tokens of whole-file replies against edit replies for small changes to long files.

    python -m bench.edit_tokens

Six existing Python files of about 300-800 lines each (committed in a scratch repository and planned
as `(modify)` in the spec) get a change of 1-5 lines, spread over up to three places.
`specflow implement --file PATH` runs for each against the loopback Anthropic server twice, in
two repositories: once answered with the whole new file (tests.support.samples
implement_reply), once with `## Edit:` SEARCH/REPLACE blocks with two lines of context around
each change, plus the same self-review. Each reply must pass its contract and leave exactly
the new content on disk. Output tokens are the usage the server reported for each reply, as
recorded in the task's transcript.jsonl (the loopback server counts four characters a token).

Target: edit replies <= 15 % of the whole-file output tokens.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from bench._harness import (
    bench_env,
    git,
    loopback,
    message_text,
    read_transcript,
    scratch,
    specflow,
    target,
)
from bench.implement_session import PLAN, SPEC
from tests.support.fakes import RecordedRequest
from tests.support.samples import SCOPE_REPLY, implement_reply

TARGET = 0.15
CASES = [(300, 1), (420, 2), (550, 3), (640, 4), (720, 5), (800, 3)]  # (lines, changed lines)
CONTEXT = 2


def source(n_lines: int, seed: int) -> list[str]:
    lines = [f'"""Module {seed}."""', "", "from __future__ import annotations", ""]
    n = 0
    while len(lines) + 5 <= n_lines:  # whole functions only: the file must parse
        lines += [
            f"def handler_{seed}_{n}(value: int) -> int:",
            f'    """Handle case {n}."""',
            f"    result = value * {n + 1} + {seed}",
            "    return result",
            "",
        ]
        n += 1
    return lines


def changed(lines: list[str], count: int) -> tuple[list[str], list[int]]:
    """The file with *count* result lines changed, spread over up to three places."""
    where = [i for i, line in enumerate(lines) if line.startswith("    result")]
    picks = [where[len(where) * (k + 1) // (count + 1)] for k in range(count)]
    new = list(lines)
    for i in picks:
        new[i] = new[i].replace("+", "-")
    return new, picks


def edit_reply(path: str, old: list[str], picks: list[int]) -> str:
    blocks = []
    for i in picks:
        lo, hi = max(0, i - CONTEXT), min(len(old), i + CONTEXT + 1)
        search = old[lo:hi]
        replace = [line.replace("+", "-") if k + lo == i else line for k, line in enumerate(search)]
        blocks.append(
            "<<<<<<< SEARCH\n"
            + "\n".join(search)
            + "\n=======\n"
            + "\n".join(replace)
            + "\n>>>>>>> REPLACE\n"
        )
    review = implement_reply(path, "x = 1\n").split("## Self-Review", 1)[1]
    return f"## Edit: {path}\n```python\n{''.join(blocks)}```\n## Self-Review{review}"


SLUG = "small-changes"
_FILE_TO_WRITE = re.compile(r"## File to write: `([^`]+)`")


def cases() -> list[tuple[str, str, str, str]]:
    """(path, old text, new text, edit reply) of each case."""
    out = []
    for seed, (n_lines, count) in enumerate(CASES):
        path = f"src/pkg/big{seed}.py"
        old = source(n_lines, seed)
        new, picks = changed(old, count)
        out.append(
            (path, "\n".join(old) + "\n", "\n".join(new) + "\n", edit_reply(path, old, picks))
        )
    return out


def spec_for(paths: list[str]) -> str:
    plan = "\n".join(f"- `{p}` (modify) — change the factor of a few handlers." for p in paths)
    return SPEC.replace(PLAN, plan)


def run(replies: dict[str, str], expected: dict[str, str], olds: dict[str, str]) -> list[int]:
    """Output tokens of each reply, through `specflow implement` and the loopback server."""

    def answer(request: RecordedRequest) -> str:
        body: dict[str, Any] = request.body if isinstance(request.body, dict) else {}
        found = _FILE_TO_WRITE.search(message_text(body["messages"][-1]))
        return replies[found.group(1)] if found else "The last user message names no file."

    with scratch() as s, loopback(answer, usage_mode="auto") as server:
        env = bench_env(s.home, server)
        for path, text in olds.items():
            (s.repo / path).parent.mkdir(parents=True, exist_ok=True)
            (s.repo / path).write_text(text, encoding="utf-8")
        git(s.repo, env, "add", "-A")
        git(s.repo, env, "commit", "-qm", "the long files")
        specflow(s.repo, env, "init")
        specflow(s.repo, env, "new", "Change the handlers' factor", "--name", SLUG)
        (s.base / "scope.md").write_text(SCOPE_REPLY, encoding="utf-8")
        (s.base / "spec.md").write_text(spec_for(list(olds)), encoding="utf-8")
        specflow(s.repo, env, "scope", "--reply", str(s.base / "scope.md"))
        for n in range(1, 6):
            specflow(s.repo, env, "answer", str(n), f"Answer {n}: as the description says.")
        specflow(s.repo, env, "spec", "--reply", str(s.base / "spec.md"))
        for path in olds:
            specflow(s.repo, env, "implement", "--file", path)
            if (s.repo / path).read_text(encoding="utf-8") != expected[path]:
                raise SystemExit(f"{path}: the reply did not leave the new content on disk")
        records = read_transcript(s.repo / ".specflow" / "tasks" / SLUG / "transcript.jsonl")
    rows = [r for r in records if r["stage"] == "implement" and r["provider"] == "anthropic"]
    if [r["contract_ok"] for r in rows] != [True] * len(olds):
        raise SystemExit("a reply broke its contract (or was re-asked); see the transcript")
    return [int(r["output_tokens"]) for r in rows]


def main() -> int:
    rows = cases()
    olds = {path: old for path, old, _, _ in rows}
    expected = {path: new for path, _, new, _ in rows}
    whole = run({p: implement_reply(p, new) for p, _, new, _ in rows}, expected, olds)
    edits = run({p: edit for p, _, _, edit in rows}, expected, olds)
    print("output tokens as the loopback server reported them, through `specflow implement`:")
    print(f"{'file':<22}{'lines':>6}{'changed':>8}{'whole':>8}{'edit':>7}{'share':>7}")
    for (path, old, _, _), (_, count), w, e in zip(rows, CASES, whole, edits, strict=True):
        print(f"{path:<22}{old.count(chr(10)):>6}{count:>8}{w:>8,}{e:>7,}{e / w:>7.1%}")
    share = sum(edits) / sum(whole)
    print(f"total: whole-file {sum(whole):,} tokens, edits {sum(edits):,} tokens = {share:.1%}")
    print(
        f"target: edit replies <= {TARGET:.0%} of whole-file output tokens: "
        f"{share:.1%}  {target(share <= TARGET)}"
    )
    return 0 if share <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
