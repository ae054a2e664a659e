"""Characters and tokens of each stage's system prompt beyond the spec, and the billed input of
a 10-file implement session, before and after the compact standards.

    python -m bench.prompt_budget

before: the system prompt carries rules.md and the whole engineering-standards.md (what every
        implement request sent before the compact checklist).
after:  what the implement stage sends now: rules.md and the standards' title and review
        checklist, one line per item (rules_lint.compact_standards); the whole document only
        with `[stages.implement] full_standards = true`, once per conversation, in its first
        user turn.

The templates are measured as they are. The session is the one of bench/implement_session.py,
run for real: `specflow implement --file src/pkg/modN.py` for N = 0..9 against the loopback
Anthropic server, caching on, each scripted reply a 60-line file with its self-review; the
bench stops if any reply fails its contract. "after" is the requests as the server received
them; "before" is the same requests with the compact standards in the system prompt replaced by
the whole document. A third session runs with `full_standards = true`. Billed input = uncached
+ 1.25 x cache writes + 0.1 x cache reads, usage as the Messages API computes it (the prefix
up to each breakpoint, with its 20-block lookback; four characters a token), the same model for
every column; the server's own usage of the "after" session is printed beside it.

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
    Session,
    billed,
    lookback_usage,
    run_session,
)
from specflow.config import ReviewConfig
from specflow.contracts.rules_lint import compact_standards
from specflow.stages.prompts import Prompts
from specflow.stages.session import render_vars
from specflow.tokens import estimate_tokens

SYSTEM_TARGET = 6000
BILLED_TARGET = 0.80
SPEC_BLOCK = "# The spec\n\n"


def stage_systems(prompts: Prompts) -> dict[str, tuple[str, str]]:
    """(before, after) system prompt beyond the spec of each stage, as its blocks are built
    (session.rules_blocks and each stage's instructions block), from the templates as they are.
    """
    session: Any = SimpleNamespace(prompts=prompts, config=SimpleNamespace(review=ReviewConfig()))
    v = render_vars(session)
    rules, standards = prompts.rules().rstrip(), prompts.standards()
    whole = rules + "\n\n" + standards
    compact = rules + "\n\n" + compact_standards(standards)
    scope = rules + "\n\n" + prompts.render("scope.md.j2", **v)
    spec = whole + "\n\n" + prompts.render("spec.md.j2", **v)
    implement = prompts.render("implement.md.j2", **v)
    review = whole + "\n\n" + prompts.render("review.md.j2", **v)
    return {
        "scope": (scope, scope),
        "spec": (spec, spec),
        "implement": (whole + "\n\n" + implement, compact + "\n\n" + implement),
        "review": (review, review),
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


def print_requests(after: Session, before_bodies: list[dict[str, Any]], full: Session) -> None:
    print("\n10-file implement session, per request (~tokens): system beyond the spec; billed")
    print(f"  {'request':<9}{'before':>16}{'after':>16}{'full_standards':>22}")
    rows = zip(
        before_bodies,
        after.bodies,
        full.bodies,
        lookback_usage(before_bodies),
        lookback_usage(after.bodies),
        lookback_usage(full.bodies),
        strict=True,
    )
    for n, (b, a, f, ub, ua, uf) in enumerate(rows):
        cells = [
            f"{len(system_beyond_spec(body)):>7,} {billed(u):>7,.0f}"
            for body, u in ((b, ub), (a, ua), (f, uf))
        ]
        print(f"  {n:<9}{cells[0]:>16}{cells[1]:>16}{cells[2]:>22}")


def main() -> int:
    prompts = Prompts(None)
    standards = prompts.standards()
    compact, whole = compact_standards(standards), standards
    print(f"1 run; {machine()}")
    print(f"spec: {len(SPEC):,} chars (not counted below)")
    print_stages(prompts)
    after = run_session(True)
    full = run_session(True, full_standards=True)
    before_bodies = [as_before(body, compact, whole) for body in after.bodies]
    print_requests(after, before_bodies, full)
    b, a, f = (session_billed(x) for x in (before_bodies, after.bodies, full.bodies))
    widest = max(len(system_beyond_spec(body)) for body in after.bodies)
    print(
        f"\nbilled input, cached (Messages API model): before {b:,.0f}, after {a:,.0f} "
        f"({a / b:.0%}), full_standards = true {f:,.0f} ({f / b:.0%})"
    )
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
        f"(and {len(full.rows)}/{len(full.rows)} with full_standards)  PASS"
    )
    ok = widest <= SYSTEM_TARGET and a / b <= BILLED_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
