"""Characters and tokens of each stage's system prompt beyond the spec, and of each request of
a 10-file implement session, before and after the compact prompt.

    python -m bench.prompt_budget

before: today's templates, system prompt = rules.md + the whole engineering-standards.md.
after:  templates with docs/integration/prompt-budget.patch applied (to a scratch copy),
        system prompt = rules.md + the standards' title and Review Checklist only; the detail
        sections relevant to a file (rules_lint.relevant_sections) can go in its user turn, each
        once per conversation: a third figure shows what that adds.

The session is computed, not run (the integration into the implement stage is not in this
tree): 10 files `src/pkg/modN.py`, each request = system + history + the rendered user turn,
each reply a 60-line file with its self-review (tests/samples.implement_reply). Caching as the
implement stage sets it: breakpoints at the end of the system prompt and on the newest user
turn, so request k reads the prefix up to turn k-1 from the cache and writes reply k-1 + turn
k. Billed input = 1.25 x cache writes + 0.1 x cache reads (as bench/implement_session.py).
Tokens are specflow's estimate (4 characters each).

Targets: implement system prompt beyond the spec <= 6,000 chars on every request; billed input
of the session with caching <= 80 % of before.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from specflow.contracts.implement import parse_checklist  # noqa: E402
from specflow.contracts.rules_lint import compact_standards, relevant_sections  # noqa: E402
from specflow.contracts.spec import template_headings  # noqa: E402
from specflow.stages.anchoring import estimate_tokens  # noqa: E402
from specflow.stages.prompts import Prompts  # noqa: E402
from tests.samples import implement_reply  # noqa: E402

FILES = [f"src/pkg/mod{n}.py" for n in range(10)]
ROLES = [
    "load settings from the environment; ORACLE_DSN is required",
    "the job record and its states",
    "read job rows from the database; retry a dropped connection with backoff",
    "keep the last query result for the scrape interval under one lock",
    "turn state counts into gauges",
    "run the query and build the metrics; log each failure",
    "serve /metrics over HTTP in a worker thread; shut down cleanly",
    "parse and validate the command-line arguments",
    "the entry point: wire the objects, exit codes",
    "a fake cursor for tests",
]
SYSTEM_TARGET = 6000
BILLED_TARGET = 0.80
PATCH = ROOT / "docs" / "integration" / "prompt-budget.patch"


def spec_text() -> str:
    plan = "\n".join(f"- `{p}` (create) — {role}." for p, role in zip(FILES, ROLES, strict=True))
    return (
        "## Intent\n\nExport the job table's state counts as Prometheus metrics.\n\n"
        f"## Architecture & File Plan\n\n{plan}\n\n## Implementation Directives\n\n"
        + "\n".join(
            f"{n + 1}. `{p}`: {role}." for n, (p, role) in enumerate(zip(FILES, ROLES, strict=True))
        )
        + "\n\n## Error Handling Matrix\n\n| Failure | Detection | Logging | Recovery |\n"
        "| --- | --- | --- | --- |\n| Database down | connect raises | error | serve last "
        "values |\n\n## Out of Scope\n\n- No per-job metrics.\n"
    )


def code_for(path: str) -> str:
    lines = [f'"""{path}."""', "", "from __future__ import annotations", ""]
    for n in range(14):
        lines += [f"def step_{n}(value: int) -> int:", f"    return value + {n}", "", ""]
    return "\n".join(lines[:60]) + "\n"


def variables(prompts: Prompts, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "min_questions": 5,
        "max_questions": 8,
        "headings": template_headings(prompts.spec_template()),
        "spec_template": prompts.spec_template(),
        "checklist": parse_checklist(prompts.standards()),
        "severities": ["BLOCKER", "MAJOR", "MINOR", "NIT"],
        "threshold": "MAJOR",
        "path": "",
    }
    base.update(extra)
    return base


def systems(prompts: Prompts, after: bool) -> dict[str, str]:
    """Each stage's system prompt beyond the spec."""
    rules = prompts.rules().rstrip()
    standards = compact_standards(prompts.standards()) if after else prompts.standards()
    with_standards = rules + "\n\n" + standards
    v = variables(prompts)
    return {
        "scope": rules + "\n\n" + prompts.render("scope.md.j2", **v),
        "spec": with_standards + "\n\n" + prompts.render("spec.md.j2", **v),
        "implement": with_standards + "\n\n" + prompts.render("implement.md.j2", **v),
        "review": with_standards + "\n\n" + prompts.render("review.md.j2", **v),
    }


def turn(prompts: Prompts, path: str, spec: str, after: bool, sent: set[str] | None) -> str:
    """The user turn; with *sent*, the relevant sections not yet sent in this conversation."""
    extra: dict[str, Any] = {}
    if after:
        sections = []
        if sent is not None:
            sections = [
                s for s in relevant_sections(prompts.standards(), path, spec) if s not in sent
            ]
            sent.update(sections)
        extra = {"offer_edits": False, "edit_min_lines": 60, "standards_sections": sections}
    return prompts.render(
        "implement-input.md.j2",
        path=path,
        language="python",
        current=None,
        done_files=[],
        plan_files=FILES,
        **extra,
    )


def session(prompts: Prompts, after: bool, sections: bool = False) -> list[dict[str, int]]:
    spec = spec_text()
    system = systems(prompts, after)["implement"] + "\n\n# The spec\n\n" + spec
    rows = []
    cached = 0  # tokens of the prefix cached by the previous request
    pending = estimate_tokens(system)  # written with the first request
    sent: set[str] | None = set() if sections else None
    for k, path in enumerate(FILES):
        user = estimate_tokens(turn(prompts, path, spec, after, sent))
        write = pending + user
        rows.append(
            {"file": k, "turn": user, "read": cached, "write": write, "input": cached + write}
        )
        cached += write
        pending = estimate_tokens(implement_reply(path, code_for(path)))
    return rows


def billed(rows: list[dict[str, int]]) -> float:
    return sum(1.25 * r["write"] + 0.1 * r["read"] for r in rows)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "templates", Path(tmp) / "templates")
        subprocess.run(["git", "apply", str(PATCH)], cwd=tmp, check=True)
        before, after = Prompts(None), Prompts(tmp)
        sys_before, sys_after = systems(before, False), systems(after, True)
        print("system prompt beyond the spec (chars / ~tokens):")
        print(f"  {'stage':<10}{'before':>16}{'after':>16}")
        for stage in sys_before:
            b, a = sys_before[stage], sys_after[stage]
            print(
                f"  {stage:<10}{len(b):>8,} / {estimate_tokens(b):>5,}"
                f"{len(a):>8,} / {estimate_tokens(a):>5,}"
            )
        rows_b, rows_a = session(before, False), session(after, True)
        rows_s = session(after, True, sections=True)
        print("\n10-file implement session, per request (~tokens): turn, cache read, cache write")
        for rb, ra in zip(rows_b, rows_a, strict=True):
            print(
                f"  file {rb['file']}: before {rb['turn']:>5,} {rb['read']:>7,} {rb['write']:>6,}"
                f"   after {ra['turn']:>5,} {ra['read']:>7,} {ra['write']:>6,}"
            )
        share = billed(rows_a) / billed(rows_b)
        with_sections = billed(rows_s) / billed(rows_b)
        impl = len(sys_after["implement"])
        print(f"\nbilled input, cached: before {billed(rows_b):,.0f}, after {billed(rows_a):,.0f}")
        print(f"  after / before = {share:.0%} (target <= {BILLED_TARGET:.0%})")
        print(
            f"  after + relevant standards sections, each once per conversation: "
            f"{billed(rows_s):,.0f} = {with_sections:.0%} of before"
        )
        print(
            f"implement system prompt beyond the spec: {impl:,} chars (target <= {SYSTEM_TARGET:,})"
        )
        ok = share <= BILLED_TARGET and impl <= SYSTEM_TARGET
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
