"""Output tokens of whole-file replies against edit replies for small changes to long files.

    python -m bench.edit_tokens

Six existing Python files of 300-800 lines each get a change of 1-5 lines (spread over up to
three places). For each, the reply is written twice: the whole new file (tests/samples
implement_reply), and `## Edit:` SEARCH/REPLACE blocks with two lines of context around each
change plus the same self-review. Every edit reply is checked with contracts/edits.check_edit
and must produce exactly the whole-file content. Tokens are specflow's estimate (4 characters
each), the figure the anchoring ledger uses for text not yet sent.

Target: edit replies <= 15 % of the whole-file output tokens.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from specflow.contracts.edits import check_edit  # noqa: E402
from specflow.stages.anchoring import estimate_tokens  # noqa: E402
from tests.samples import implement_reply  # noqa: E402

TARGET = 0.15
CASES = [(300, 1), (420, 2), (550, 3), (640, 4), (720, 5), (800, 3)]  # (lines, changed lines)
CONTEXT = 2


def source(n_lines: int, seed: int) -> list[str]:
    lines = [f'"""Module {seed}."""', "", "from __future__ import annotations", ""]
    n = 0
    while len(lines) < n_lines:
        lines += [
            f"def handler_{seed}_{n}(value: int) -> int:",
            f'    """Handle case {n}."""',
            f"    result = value * {n + 1} + {seed}",
            "    return result",
            "",
        ]
        n += 1
    return lines[:n_lines]


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


def main() -> int:
    total_whole = total_edit = 0
    print(f"{'file':<22}{'lines':>6}{'changed':>8}{'whole':>8}{'edit':>7}{'share':>7}")
    for seed, (n_lines, count) in enumerate(CASES):
        path = f"src/pkg/big{seed}.py"
        old = source(n_lines, seed)
        new, picks = changed(old, count)
        old_text, new_text = "\n".join(old) + "\n", "\n".join(new) + "\n"
        whole = estimate_tokens(implement_reply(path, new_text))
        text = edit_reply(path, old, picks)
        applied = check_edit(text, path, old_text)
        if applied.text != new_text:
            print(f"{path}: the edit reply does not give the new file: {applied.violations}")
            return 1
        edit = estimate_tokens(text)
        total_whole, total_edit = total_whole + whole, total_edit + edit
        print(f"{path:<22}{n_lines:>6}{count:>8}{whole:>8,}{edit:>7,}{edit / whole:>7.1%}")
    share = total_edit / total_whole
    print(f"total: whole-file {total_whole:,} tokens, edits {total_edit:,} tokens = {share:.1%}")
    print(f"target <= {TARGET:.0%}: {'met' if share <= TARGET else 'MISSED'}")
    return 0 if share <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
