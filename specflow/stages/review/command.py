"""`specflow review` as one library call: skip → memo → verdict cache → model, one outcome.

review_gate() owns the whole gate; the CLI parses options, calls it and prints what it
returns. The memo (memo.py) answers a change judged before without loading the config,
pydantic or the prompts; everything else runs through gate.run_review.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from specflow.environment import in_ci, skip_reason
from specflow.errors import StateError
from specflow.stages.review import memo as review_memo
from specflow.stages.review.github import github_annotations
from specflow.store.repo import find_root

Format = Literal["text", "json", "github"]


@dataclass(frozen=True)
class GateRequest:
    """What `specflow review` was asked: which change, against what, and how to answer."""

    mode: review_memo.Mode = "staged"
    rev_range: str | None = None
    files: tuple[str, ...] = ()
    task_slug: str | None = None
    threshold: str | None = None
    no_cache: bool = False
    fail_open: bool | None = None
    reply: str | None = None
    provider: str | None = None
    model: str | None = None
    verbose: bool = False

    def memo_options(self) -> tuple[object, ...]:
        return (
            self.mode,
            self.rev_range,
            self.files,
            self.task_slug,
            self.threshold,
            self.fail_open,
            self.provider,
            self.model,
        )


@dataclass
class GateOutcome:
    """What the CLI prints and the exit code it ends with."""

    outcome: str  # PASS | FAIL | NOT REVIEWED | BLOCKED
    text: str
    data: dict[str, Any]
    exit_code: int

    def render(self, fmt: Format) -> str:
        if fmt == "json":
            return json.dumps(self.data, indent=2) + "\n"
        if fmt == "github":
            return github_annotations(self.data)
        return self.text


def review_gate(
    request: GateRequest, env: Mapping[str, str], cwd: Path | None = None
) -> GateOutcome:
    """Run the review gate for *request* and return its outcome."""
    root = Path(find_root(cwd or Path.cwd()))
    ci = in_ci(env)
    skipped = skip_reason(env)
    if skipped is not None and request.reply is None:
        return _skipped(root, skipped, ci, request, env)
    diff = review_memo.read_diff(root, request.mode, request.rev_range, request.files)
    memo = None
    if not request.no_cache and request.reply is None and review_memo.memo_enabled(env):
        # A change judged before (by a model or a recorded --reply) is answered without
        # loading the config, the task store or the prompts: a hook's re-run is instant.
        memo = review_memo.memo_key(root, diff, request.memo_options(), env)
        known = review_memo.recall(root, memo)
        if known is not None:
            return _from_memo(known)
    return _full_review(root, request, env, ci, diff, memo)


def _from_memo(known: review_memo.Remembered) -> GateOutcome:
    data = known.data
    code = int(data.get("exit_code", 1 if known.blocked else 0))
    return GateOutcome(str(data.get("outcome", "")), known.text, data, code)


def _full_review(
    root: Path,
    request: GateRequest,
    env: Mapping[str, str],
    ci: bool,
    diff: str,
    memo: str | None,
) -> GateOutcome:
    from specflow.config import load_config
    from specflow.stages.review.gate import format_result, run_review
    from specflow.stages.session import Session
    from specflow.store.workspace import Workspace

    ws = Workspace(root)
    config = load_config(ws.config_path, env, request.provider, request.model)
    session = Session(ws, config, dict(env), verbose=request.verbose)
    options = _options(request)
    result = run_review(session, options, ci=ci, diff=diff)
    outcome = GateOutcome(result.verdict, format_result(result), result.to_json(), result.exit_code)
    if memo is not None and result.memo_verdict is not None:
        # Remember only what the hashed inputs still give: nothing was edited meanwhile.
        if review_memo.memo_key(root, diff, request.memo_options(), env) == memo:
            again = replace(result, cached=True)  # a re-run is answered from the cache
            remembered = review_memo.Remembered(
                format_result(again), again.to_json(), again.blocked
            )
            review_memo.remember(root, memo, remembered, result.memo_verdict)
    return outcome


def _options(request: GateRequest) -> Any:
    """The review the request asks for, as the gate's ReviewOptions."""
    from specflow.stages.review.result import ReviewOptions

    return ReviewOptions(
        mode=request.mode,
        rev_range=request.rev_range,
        paths=list(request.files),
        task_slug=request.task_slug,
        threshold=request.threshold,
        use_cache=not request.no_cache,
        fail_open=request.fail_open,
        reply=request.reply,
    )


def _skipped(
    root: Path, reason: str, ci: bool, request: GateRequest, env: Mapping[str, str]
) -> GateOutcome:
    """NOT REVIEWED because the environment says skip; recorded in the task's transcript."""
    from specflow.config import ReviewConfig, load_config
    from specflow.errors import ConfigError
    from specflow.stages.review.result import PASS, ReviewResult, format_result
    from specflow.store.workspace import Workspace

    ws = Workspace(root)
    broken = ""
    try:
        review = load_config(ws.config_path, env).review
    except ConfigError as exc:
        # A skip asked for is a skip: a config that does not load changes only the policy
        # read from it (the defaults), and the outcome says so.
        review, broken = (
            ReviewConfig(),
            f"the config did not load, so this skip used the review defaults: {exc}",
        )
    options = _options(request)
    command = f"{options.command()} (without SPECFLOW_SKIP_REVIEW / SKIP)"
    result = ReviewResult(PASS, [], request.threshold or review.threshold, False)
    result.not_reviewed(reason, command, review.fails_open(ci, request.fail_open))
    if broken:
        result.notes.append(broken)
    _record_skip(ws, reason)
    return GateOutcome(result.verdict, format_result(result), result.to_json(), result.exit_code)


def _record_skip(ws: Any, reason: str) -> None:
    from specflow.store.transcript import Exchange, append

    slug = ws.current_slug()
    if slug is None:
        return
    try:
        append(
            ws.transcript_path(ws.load(slug)),
            Exchange(stage="review", provider="none", model="", kind="skipped", note=reason),
        )
    except (OSError, StateError):
        return  # a skip must never fail because .specflow/ cannot be written or read
