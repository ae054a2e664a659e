"""Characters and tokens of each stage's system prompt beyond the spec, and the billed input of
a 10-file implement session, before and after the compact standards and the outline history.

    python -m bench.prompt_budget

before: every implement request carried rules.md and the whole engineering-standards.md in
        its system prompt, and the conversation kept each earlier reply whole.
after:  what the implement stage sends now (the defaults): rules.md and the standards' title
        and review checklist, one line per item (rules_lint.compact_standards), in the system
        prompt; with each file, the detailed standards sections it calls for, each once per
        conversation (`standards = "relevant"`, stages/implement/standards.py); the
        conversation keeps an outline of each written file in place of its reply
        (`history = "outline"`, stages/implement/outline.py).

The templates are measured as they are. The session is the one of bench/implement_session.py,
run for real: `specflow implement --file src/pkg/modN.py` for N = 0..9 against the loopback
Anthropic server, caching on, each scripted reply a 60-line file with its self-review; the
bench stops if any reply fails its contract. Five columns, from four sessions:
  before          `standards = "checklist"`, `history = "whole"`, with the checklist in each
                  request's system prompt replaced by the whole document (what the stage sent
                  before);
  after           the defaults, the requests as the server received them;
  checklist       `standards = "checklist"`: no detail at all;
  whole standards `standards = "whole"`: the whole document once, in the first user turn;
  whole history   `standards = "checklist"`, `history = "whole"` as sent: the compact system
                  prompt alone.
Billed input = uncached + 1.25 x cache writes + 0.1 x cache reads, usage as the Messages API
computes it (the prefix up to each breakpoint, with its 20-block lookback; four characters a
token), the same model for every column; the server's own usage of the "after" session is
printed beside it.

Targets: implement system prompt beyond the spec <= 6,000 chars on every request; billed input
of the session with caching <= 80 % of before; every scripted reply passes its contract.
"""

from __future__ import annotations

import copy
import sys
from types import SimpleNamespace
from typing import Any

from bench._harness import machine, target
from bench.implement_session import (
    SPEC,
    billed,
    lookback_usage,
    run_session,
)
from specflow.config import ReviewConfig
from specflow.contracts.rules_lint import compact_standards
from specflow.stages.prompts import Prompts
from specflow.stages.session import render_vars, rules_blocks
from specflow.tokens import estimate_tokens

SYSTEM_TARGET = 6000
BILLED_TARGET = 0.80
SPEC_BLOCK = "# The spec\n\n"


def stage_systems(prompts: Prompts) -> dict[str, tuple[str, str]]:
    """(before, after) system prompt beyond the spec of each stage, built as the stages build
    it (session.rules_blocks, then the stage's instructions block) from the templates as they
    are. Before, every stage that carries the standards carried the whole document; now the
    implement and review stages carry their checklist (compact=True), the spec stage still
    the whole document."""
    session: Any = SimpleNamespace(prompts=prompts, config=SimpleNamespace(review=ReviewConfig()))
    v = render_vars(session)

    def rules(standards: bool, compact: bool = False) -> str:
        blocks = rules_blocks(session, standards=standards, spec=None, compact=compact)
        return "\n\n".join(b.text for b in blocks)

    whole = rules(True)
    scope = rules(False) + "\n\n" + prompts.render("scope.md.j2", **v)
    spec = whole + "\n\n" + prompts.render("spec.md.j2", **v)
    implement = prompts.render("implement.md.j2", **{**v, "path": ""})
    review = prompts.render("review.md.j2", **v)
    return {
        "scope": (scope, scope),
        "spec": (spec, spec),
        "implement": (whole + "\n\n" + implement, rules(True, True) + "\n\n" + implement),
        "review": (whole + "\n\n" + review, rules(True, True) + "\n\n" + review),
    }


def system_beyond_spec(body: dict[str, Any]) -> str:
    """The system prompt of one recorded request, without its spec block."""
    blocks = body["system"]
    return "\n\n".join(b["text"] for b in blocks if not b["text"].startswith(SPEC_BLOCK))


def as_before(body: dict[str, Any], compact: str, whole: str) -> dict[str, Any]:
    """*body* with the compact standards of its system prompt replaced by the whole document."""
    before = copy.deepcopy(body)
    swapped = 0
    for block in before["system"]:
        if compact in block["text"]:
            block["text"] = block["text"].replace(compact, whole)
            swapped += 1
    if swapped != 1:
        raise SystemExit(f"expected the compact standards in one system block, found {swapped}")
    return before


def session_billed(bodies: list[dict[str, Any]]) -> float:
    return sum(billed(u) for u in lookback_usage(bodies))


def print_stages(prompts: Prompts) -> None:
    print("system prompt beyond the spec (chars / ~tokens), templates as they are:")
    print(f"  {'stage':<10}{'before':>16}{'after':>16}")
    for stage, (b, a) in stage_systems(prompts).items():
        print(
            f"  {stage:<10}{len(b):>8,} / {estimate_tokens(b):>5,}"
            f"{len(a):>8,} / {estimate_tokens(a):>5,}"
        )


COLUMNS = ("before", "after", "checklist", "whole standards", "whole history")


def print_requests(sessions: dict[str, list[dict[str, Any]]]) -> None:
    print("\n10-file implement session, per request (~tokens): system beyond the spec; billed")
    print(f"  {'request':<9}" + "".join(f"{name:>18}" for name in COLUMNS))
    usages = {name: lookback_usage(sessions[name]) for name in COLUMNS}
    for n in range(len(sessions["after"])):
        cells = [
            f"{len(system_beyond_spec(sessions[name][n])):>7,} {billed(usages[name][n]):>7,.0f}"
            for name in COLUMNS
        ]
        print(f"  {n:<9}" + "".join(f"{cell:>18}" for cell in cells))


def main() -> int:
    prompts = Prompts(None)
    standards = prompts.standards()
    compact, whole = compact_standards(standards), standards
    print(f"1 run; {machine()}")
    print(f"spec: {len(SPEC):,} chars (not counted below)")
    print_stages(prompts)
    after = run_session(True)
    checklist = run_session(True, standards="checklist")
    whole_standards = run_session(True, standards="whole")
    whole_history = run_session(True, standards="checklist", history="whole")
    sessions = {
        "before": [as_before(body, compact, whole) for body in whole_history.bodies],
        "after": after.bodies,
        "checklist": checklist.bodies,
        "whole standards": whole_standards.bodies,
        "whole history": whole_history.bodies,
    }
    print_requests(sessions)
    totals = {name: session_billed(bodies) for name, bodies in sessions.items()}
    b, a = totals["before"], totals["after"]
    widest = max(len(system_beyond_spec(body)) for body in after.bodies)
    print("\nbilled input, cached (Messages API model):")
    for name in COLUMNS:
        print(f"  {name:<16}{totals[name]:>8,.0f}  ({totals[name] / b:.0%} of before)")
    print(f"  the loopback server's own usage of the after session: {after.billed:,.0f}")
    print(
        f"target: implement system prompt beyond the spec <= {SYSTEM_TARGET:,} chars on every "
        f"request: largest {widest:,}  {target(widest <= SYSTEM_TARGET)}"
    )
    print(
        f"target: billed input with caching <= {BILLED_TARGET:.0%} of before: {a / b:.1%}  "
        f"{target(a / b <= BILLED_TARGET)}"
    )
    print(
        # run_session stops the bench when a reply breaks its contract, so reaching here is it
        f"target: every scripted reply passes its contract: {len(after.rows)}/{len(after.rows)} "
        "in each of the four sessions  PASS"
    )
    ok = widest <= SYSTEM_TARGET and a / b <= BILLED_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
