"""The implement stage: one file at a time against the spec, then stop for review.

The conversation spans the task's files and is kept in conversations/implement.json, so
this is where the context grows: the AnchorPolicy decides per request whether to restate
the rules at the tail (remind) or start a fresh conversation seeded with the spec, the
rules and a summary of the files done (reset).
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specflow.contracts.base import ContractResult
from specflow.contracts.implement import check_implement, parse_checklist
from specflow.contracts.models import ImplementReply, SpecDoc
from specflow.contracts.spec import check_spec, template_headings
from specflow.errors import CheckFailed, StateError, UsageError
from specflow.providers.base import Message, SystemBlock
from specflow.stages.anchoring import AnchorPolicy, TokenLedger, estimate_tokens
from specflow.stages.describe import LANGS
from specflow.stages.engine import Outcome, Prepared
from specflow.stages.prompts import do_not_items
from specflow.stages.session import (
    Handoff,
    Session,
    execute,
    render_vars,
    rules_blocks,
    stage_command,
)
from specflow.store.fsutil import atomic_write_bytes, atomic_write_text
from specflow.store.transcript import Exchange, append
from specflow.store.workspace import Task, UnknownItem, WrittenFile, now

FORBIDDEN_TOPS = (".git", ".specflow")


class StoredMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    content: str


class Conversation(BaseModel):
    """The implement conversation of a task, as sent, plus its token ledger."""

    model_config = ConfigDict(extra="forbid")
    messages: list[StoredMessage] = Field(default_factory=list)
    ledger: TokenLedger = Field(default_factory=TokenLedger)
    started: str = Field(default_factory=now)


@dataclass(frozen=True)
class Target:
    path: Path  # absolute, resolved
    rel: str  # POSIX, relative to the repository root


@dataclass(frozen=True)
class ImplementResult:
    target: Target
    diff: str
    reply: ImplementReply
    next_files: list[str]
    test: tuple[str, int, str] | None  # (command, exit code, output tail)
    reanchor: str


# -- checks before any model call --------------------------------------------------------------


def resolve_target(root: Path, raw: str) -> Target:
    """PATH must resolve inside the repository, outside .git/ and .specflow/."""
    given = Path(raw)
    candidate = given if given.is_absolute() else Path.cwd() / given
    resolved = candidate.resolve()
    real_root = root.resolve()
    try:
        rel = resolved.relative_to(real_root)
    except ValueError:
        raise UsageError(
            f"--file {raw}: resolves to {resolved}, outside the repository ({real_root}); "
            "pass a path inside it"
        ) from None
    if not rel.parts:
        raise UsageError(f"--file {raw}: is the repository root; pass a file path")
    if rel.parts[0] in FORBIDDEN_TOPS:
        raise UsageError(f"--file {raw}: inside {rel.parts[0]}/, which specflow never writes to")
    if resolved.is_dir():
        raise UsageError(f"--file {raw}: is a folder; pass a file path")
    return Target(resolved, rel.as_posix())


def load_spec(session: Session, task: Task) -> tuple[str, SpecDoc]:
    if task.state not in ("specced", "implementing"):
        first = "specflow spec" if task.state in ("scoped", "answered") else "specflow scope"
        raise StateError(f"task `{task.slug}` is {task.state}; run `{first}` first")
    text = session.ws.read_artifact(task, "spec")
    result = check_spec(text, template_headings(session.prompts.spec_template()))
    if result.value is None:
        listed = "\n".join(f"  - {v}" for v in result.violations)
        raise StateError(
            f"{session.ws.rel(session.ws.artifact_path(task, 'spec'))} no longer holds the spec "
            f"contract (edited by hand?):\n{listed}\nFix it, then run implement again."
        )
    return text, result.value


def _norm(path: str) -> str:
    return path.strip().strip("`").removeprefix("./")


def check_plan(doc: SpecDoc, target: Target, allow_unplanned: bool) -> None:
    plan = [_norm(p) for p in doc.file_plan]
    if target.rel in plan or allow_unplanned:
        return
    listed = ", ".join(plan) or "(empty)"
    raise UsageError(
        f"{target.rel} is not in the spec's file plan ({listed}); add it to the plan in "
        "spec.md, or pass --allow-unplanned"
    )


_PATHLIKE = re.compile(
    r"`([^`\s]+)`|(?<![\w./-])((?:[\w.-]+/)+[\w.-]+|[\w-]+\.[A-Za-z]\w{0,7})(?![\w/])"
)


def named_paths(text: str) -> list[str]:
    """The file paths a `blocks:` text names: backticked tokens and bare path-like words."""
    found = []
    for quoted, bare in _PATHLIKE.findall(text):
        token = (quoted or bare).rstrip(".,;:")
        if "/" in token or re.search(r"\.[A-Za-z]\w{0,7}$", token):
            found.append(token.removeprefix("./"))
    return found


def _same_file(named: str, rel: str) -> bool:
    """`collector.py` or `exporter/collector.py` names src/exporter/collector.py; `a.py` names
    only files called a.py."""
    return rel == named or rel.endswith("/" + named)


def blocking_unknowns(task: Task, target: Target) -> list[UnknownItem]:
    """Open UNKNOWNs that block this file: those naming it, and those naming no file at all."""
    blocking = []
    for item in task.unknowns:
        if item.status != "open":
            continue
        paths = named_paths(item.blocks)
        if not paths or any(_same_file(p, target.rel) for p in paths):
            blocking.append(item)
    return blocking


def check_unknowns(task: Task, target: Target) -> None:
    items = blocking_unknowns(task, target)
    if not items:
        return
    listed = "\n".join(
        f"  {u.id}: {u.what} (verify: {u.verify}; blocks: {u.blocks})" for u in items
    )
    raise StateError(
        f"{len(items)} open UNKNOWN item(s) block {target.rel}:\n{listed}\n"
        'Resolve them with `specflow resolve ID "what you found"` and run `specflow spec` '
        "to revise the spec first."
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _written(task: Task, rel: str) -> WrittenFile | None:
    return next((f for f in task.files if f.path == rel), None)


def protect_user_changes(session: Session, task: Task, target: Target, force: bool) -> None:
    """Refuse to overwrite uncommitted changes specflow did not write, unless --force."""
    if not target.path.is_file():
        return
    data = target.path.read_bytes()
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--file {target.rel}: not UTF-8 text (byte {exc.start}); specflow writes text "
            "files only, so it leaves this one alone"
        ) from None
    record = _written(task, target.rel)
    if record is not None and record.sha256 == sha256(content):
        return  # exactly what specflow wrote last
    from specflow.gitx import gitops

    root = session.ws.root
    untracked = gitops.head_content(root, target.rel) is None
    if not untracked and not gitops.is_tracked_and_modified(root, target.rel):
        return  # committed: git keeps the user's version
    if not force:
        raise UsageError(
            f"{target.rel} has uncommitted changes that specflow did not write; commit or "
            "stash them, or pass --force (a copy is kept under the task's backups/)"
        )
    stamp = now().replace(":", "").replace("-", "").replace("+0000", "Z")
    backup = session.ws.task_dir(task.slug) / "backups" / f"{target.rel}.{stamp}"
    n = 2
    while backup.exists():
        backup = backup.with_name(f"{Path(target.rel).name}.{stamp}-{n}")
        n += 1
    atomic_write_bytes(backup, data)  # byte for byte: line endings and all


# -- the request ---------------------------------------------------------------------------------


def conversation_path(session: Session, task: Task) -> Path:
    return session.ws.task_dir(task.slug) / "conversations" / "implement.json"


def load_conversation(session: Session, task: Task) -> Conversation:
    path = conversation_path(session, task)
    if not path.is_file():
        return Conversation()
    try:
        return Conversation.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        raise StateError(
            f"{session.ws.rel(path)} is corrupt; delete it or run with --fresh to start a new "
            "implement conversation"
        ) from None


def _written_copy(session: Session, task: Task, rel: str) -> Path:
    return session.ws.task_dir(task.slug) / "written" / rel


def _other_files(session: Session, task: Task, target: Target) -> list[tuple[WrittenFile, str]]:
    """The task's other written files with their content on disk now ("" when deleted)."""
    found = []
    for record in task.files:
        if record.path != target.rel:
            path = session.ws.root / record.path
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
            found.append((record, text))
    return found


def done_files(
    session: Session, task: Task, target: Target, fresh_conversation: bool
) -> list[dict[str, Any]]:
    """Files specflow wrote earlier, as they are on disk now.

    In a continuing conversation the model has seen what it wrote, so only files the user
    changed since are shown (with the diff); a fresh conversation gets every file's content.
    """
    files = []
    for record, current in _other_files(session, task, target):
        changed = sha256(current) != record.sha256
        if not changed:
            if fresh_conversation:
                files.append(
                    {"path": record.path, "content": current, "changed_by_user": False, "diff": ""}
                )
            continue
        copy = _written_copy(session, task, record.path)
        before = copy.read_text(encoding="utf-8") if copy.is_file() else ""
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                current.splitlines(keepends=True),
                f"a/{record.path} (as specflow wrote it)",
                f"b/{record.path} (on disk)",
            )
        )
        files.append(
            {"path": record.path, "content": current, "changed_by_user": True, "diff": diff}
        )
    return files


def summarize_file(rel: str, content: str) -> str:
    """A short summary of a written file for a fresh conversation: size and public names."""
    lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
    summary = f"- `{rel}` ({lines} lines)"
    if rel.endswith(".py"):
        try:
            tree = ast.parse(content)
        except SyntaxError:
            return summary
        names = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if not node.name.startswith("_"):
                    kind = "class" if isinstance(node, ast.ClassDef) else "def"
                    names.append(f"{kind} {node.name}")
        if names:
            summary += ": " + ", ".join(names)
    return summary


def reset_seed(session: Session, task: Task, target: Target) -> str:
    rows = [
        summarize_file(record.path, content)
        for record, content in _other_files(session, task, target)
    ]
    return session.prompts.render("implement-seed.md.j2", summaries=rows)


def _language(rel: str) -> str:
    return LANGS.get(Path(rel).suffix.lower(), "")


def _system(session: Session, spec_text: str, variables: dict[str, Any]) -> list[SystemBlock]:
    return [
        # Four cache breakpoints at most: the rules, the end of the system prompt (which covers
        # the spec), the previous request's newest turn and this one. So the spec gets none.
        *rules_blocks(session, standards=True, spec=spec_text, cache_spec=False),
        # Rendered without a path so the block is the same for every file and stays cached.
        SystemBlock(
            session.prompts.render("implement.md.j2", **{**variables, "path": ""}),
            cache=True,
            label="instructions",
        ),
    ]


def _turn(
    session: Session, task: Task, target: Target, doc: SpecDoc, fresh_conversation: bool
) -> str:
    """The user turn for *target*; a fresh conversation opens with the summary of files done."""
    current = target.path.read_text(encoding="utf-8") if target.path.is_file() else None
    text = session.prompts.render(
        "implement-input.md.j2",
        path=target.rel,
        language=_language(target.rel),
        current=current,
        done_files=done_files(session, task, target, fresh_conversation),
        plan_files=[_norm(p) for p in doc.file_plan],
    )
    if fresh_conversation and any(f.path != target.rel for f in task.files):
        return reset_seed(session, task, target) + "\n" + text
    return text


def _policy(session: Session) -> AnchorPolicy:
    from specflow.providers.capabilities import load_table, lookup
    from specflow.providers.factory import resolve_provider_name

    cfg = session.config
    cap = lookup(resolve_provider_name(cfg, session.env), cfg.model, load_table(cfg.capabilities))
    return AnchorPolicy(cfg.anchoring, cap.context_window)


def prepare_implement(
    session: Session, task: Task, target: Target, spec_text: str, doc: SpecDoc, fresh: bool
) -> tuple[Prepared, Conversation]:
    """The request for *target* and the conversation it continues (or resets), re-anchored."""
    variables = render_vars(session)
    system = _system(session, spec_text, variables)
    conversation = Conversation() if fresh else load_conversation(session, task)
    if not conversation.ledger.system_tokens:
        conversation.ledger.system_tokens = sum(estimate_tokens(b.text) for b in system)
    new_conversation = fresh or not conversation.messages
    turn = _turn(session, task, target, doc, new_conversation)
    decision = _policy(session).decide(
        conversation.ledger, estimate_tokens(turn), force_reset=fresh
    )
    if decision.action == "reset" and not new_conversation:
        turn = _turn(session, task, target, doc, True)
    prepared = Prepared("implement", system, turn, cache_turn=True)
    if decision.action == "reset":
        conversation.messages = []
        conversation.ledger.note_reset(sum(estimate_tokens(b.text) for b in system))
    elif conversation.messages:
        prepared.history = _history(conversation)
    if decision.action == "remind":
        prepared.reminder = session.prompts.render(
            "reanchor.md.j2",
            stage="implement",
            do_not=do_not_items(session.prompts.rules()),
            out_of_scope=doc.out_of_scope,
            **{**variables, "path": target.rel},
        ).rstrip("\n")
        conversation.ledger.note_reminder()
    prepared.reanchor = decision.action
    prepared.reanchor_reason = decision.reason if decision.action != "none" else ""
    return prepared, conversation


def prompt_for(session: Session, task: Task, raw_path: str) -> Prepared:
    """The request a fresh implement conversation would send for *raw_path* (nothing saved)."""
    target = resolve_target(session.ws.root, raw_path)
    spec_text, doc = load_spec(session, task)
    return prepare_implement(session, task, target, spec_text, doc, fresh=True)[0]


def _history(conversation: Conversation) -> list[Message]:
    """The stored conversation, with a cache breakpoint where the previous request had its
    last one (its newest user turn): that prefix was cached then and is read back now."""
    messages = [
        Message("user" if m.role == "user" else "assistant", m.content)
        for m in conversation.messages
    ]
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if users:
        last = messages[users[-1]]
        messages[users[-1]] = Message(last.role, last.content, cache=True)
    return messages


# -- the run ------------------------------------------------------------------------------------


def implement_contract(session: Session, target: Target) -> Any:
    checklist = parse_checklist(session.prompts.standards())

    def contract(text: str) -> ContractResult[ImplementReply]:
        return check_implement(text, target.rel, checklist)

    return contract


def run_implement(
    session: Session,
    task: Task,
    raw_path: str,
    *,
    force: bool = False,
    fresh: bool = False,
    allow_unplanned: bool = False,
    reply: str | None = None,
) -> ImplementResult | Handoff:
    target = resolve_target(session.ws.root, raw_path)
    spec_text, doc = load_spec(session, task)
    check_plan(doc, target, allow_unplanned)
    check_unknowns(task, target)
    protect_user_changes(session, task, target, force)
    prepared, conversation = prepare_implement(session, task, target, spec_text, doc, fresh)
    command = stage_command(session, task, f"specflow implement --file {target.rel}")
    for flag, on in (
        ("--allow-unplanned", allow_unplanned),
        ("--force", force),
        ("--fresh", fresh),
    ):
        if on:
            command += f" {flag}"
    outcome = execute(
        session, task, prepared, implement_contract(session, target), reply=reply, command=command
    )
    if isinstance(outcome, Handoff):
        return outcome
    return _finish(session, task, target, doc, prepared, conversation, outcome)


def _finish(
    session: Session,
    task: Task,
    target: Target,
    doc: SpecDoc,
    prepared: Prepared,
    conversation: Conversation,
    outcome: Outcome,
) -> ImplementResult:
    value: ImplementReply = outcome.value
    code = value.code if value.code.endswith("\n") or not value.code else value.code + "\n"
    before = target.path.read_text(encoding="utf-8") if target.path.is_file() else ""
    atomic_write_text(target.path, code)
    atomic_write_text(_written_copy(session, task, target.rel), code)
    task.files = [f for f in task.files if f.path != target.rel]
    task.files.append(WrittenFile(path=target.rel, sha256=sha256(code), written=now()))
    if task.state != "implementing":
        task.move_to("implementing")
    session.ws.save(task)
    _save_conversation(session, task, conversation, prepared, outcome)
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            code.splitlines(keepends=True),
            f"a/{target.rel}",
            f"b/{target.rel}",
        )
    )
    done = {f.path for f in task.files}
    next_files = [
        p
        for p in (_norm(x) for x in doc.file_plan)
        if p not in done and not blocking_unknowns(task, Target(session.ws.root / p, p))
    ]
    test = _run_tests(session, task, target)
    return ImplementResult(target, diff, value, next_files, test, prepared.reanchor)


def _save_conversation(
    session: Session, task: Task, conversation: Conversation, prepared: Prepared, outcome: Outcome
) -> None:
    # The valid exchange only: failed attempts are not carried on, and neither is the
    # reminder (it restated the rules for that turn; later turns get their own).
    sent = [*prepared.history, Message("user", prepared.user_turn)]
    conversation.messages = [StoredMessage(role=m.role, content=m.content) for m in sent]
    conversation.messages.append(StoredMessage(role="assistant", content=outcome.text))
    if outcome.reply is not None:
        conversation.ledger.record_reply(
            outcome.reply.usage.context_tokens, outcome.reply.usage.output_tokens
        )
    else:
        conversation.ledger.record_reply(
            sum(estimate_tokens(m.content) for m in conversation.messages[:-1])
            + conversation.ledger.system_tokens,
            estimate_tokens(outcome.text),
        )
    path = conversation_path(session, task)
    atomic_write_text(path, conversation.model_dump_json(indent=1) + "\n")


def test_command_for(session: Session, doc_commands: list[str]) -> str:
    configured = session.stage_config("implement").test_command.strip()
    if configured == "spec":
        return doc_commands[0] if doc_commands else ""
    return configured


def _run_tests(session: Session, task: Task, target: Target) -> tuple[str, int, str] | None:
    spec_text = session.ws.read_artifact(task, "spec")
    doc = check_spec(spec_text, template_headings(session.prompts.spec_template())).value
    command = test_command_for(session, list(getattr(doc, "test_commands", []) or []))
    if not command:
        return None
    limit = session.stage_config("implement").test_timeout_s
    try:
        done = subprocess.run(
            command,
            shell=True,
            cwd=session.ws.root,
            capture_output=True,
            text=True,
            timeout=limit,
        )
        code, output = done.returncode, (done.stdout + done.stderr).strip().splitlines()
    except subprocess.TimeoutExpired:
        code, output = 124, [f"timed out after {limit:g} s ([stages.implement] test_timeout_s)"]
    tail = "\n".join(output[-20:])
    append(
        session.ws.task_dir(task.slug) / "transcript.jsonl",
        Exchange(
            stage="implement",
            provider="test",
            model="-",
            kind="test",
            contract_ok=code == 0,
            note=f"{command} -> exit {code} after writing {target.rel}",
        ),
    )
    return command, code, tail


def raise_if_tests_failed(result: ImplementResult) -> None:
    if result.test and result.test[1] != 0:
        command, code, _tail = result.test
        raise CheckFailed(
            f"`{command}` failed (exit {code}) after writing {result.target.rel}; the file is "
            "kept for review. Fix it by hand, or run implement again for it."
        )
