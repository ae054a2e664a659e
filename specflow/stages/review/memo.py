"""The gate's memory: `specflow review` on a change it has already judged answers at once.

The verdict cache (review.py) keys a model's verdict by what the model saw: the redacted
diff, the spec, the rules, the templates and the model. Computing that key takes the
validated config, the task store and the prompts, and importing pydantic for them costs
about 0.2 s on its own. A hook runs on every commit, so the memo sits in front of it: it
keys the command's whole *result* by the raw bytes of everything the review reads, which
needs only git and hashlib:

- the diff (the same gitops call the review makes), the command's options and the
  current folder (`--files` paths are relative to it);
- `.specflow/config.toml`, the secret allowlist, the SPECFLOW_PROVIDER / SPECFLOW_MODEL
  overrides and CI;
- every task's `task.json` and `spec.md`, and the current-task pointer;
- the project's template and rule overrides, the packaged ones, and specflow's version and
  modules (an edited checkout keeps its version number).

Any change to any of them is a miss: the ordinary path runs (and may still find the verdict
in the verdict cache). Only results whose verdict came from or went into the verdict cache
are remembered, so `review.cache = false`, `--no-cache`, a handoff, a gate that failed open
and an ingested `--reply` are never answered from here. A memo names the verdict-cache entry
it repeats and the hash of its bytes: when `--no-cache` replaces that verdict, or someone
deletes it, the memo no longer answers. It is stored only when the inputs hashed before the
review still hash the same after it (nothing was edited while the model thought). A memo
file holds the key and the printed result (findings quote redacted code only); a damaged one
is a miss, and one that cannot be written is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from specflow import __version__
from specflow.resources import packaged_folder
from specflow.store.fsutil import atomic_write_text
from specflow.store.repo import SPECFLOW_DIR

Mode = Literal["staged", "range", "files"]
FORMAT = "specflow-review-memo-1"
ENV_KEYS = ("SPECFLOW_PROVIDER", "SPECFLOW_MODEL", "CI")


@dataclass(frozen=True)
class Remembered:
    """A result printed before: the text and JSON forms, and whether it blocked."""

    text: str
    data: dict[str, Any]
    blocked: bool


def read_diff(root: Path, mode: Mode, rev_range: str | None, paths: Sequence[str]) -> str:
    """The diff a review of *mode* reads: staged (default), a revision range, or files."""
    from specflow.gitx import gitops

    if mode == "range":
        assert rev_range is not None
        return gitops.range_diff(root, rev_range)
    if mode == "files":
        return gitops.files_diff(root, paths)
    return gitops.staged_diff(root)


def memo_key(
    root: Path,
    diff: str,
    options: Sequence[object],
    env: Mapping[str, str],
    cwd: Path | None = None,
) -> str:
    """The hash of everything a review of *diff* in *root* reads, with its *options*."""
    digest = hashlib.sha256()

    def part(data: bytes | str) -> None:
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        digest.update(len(raw).to_bytes(8, "big"))
        digest.update(raw)

    part(FORMAT)
    part(__version__)
    for module in _modules():
        stat = module.stat()
        part(os.fsencode(module))
        part(f"{stat.st_size} {stat.st_mtime_ns}")
    part(json.dumps([repr(o) for o in options]))
    part(os.fsencode(cwd or Path.cwd()))
    part(json.dumps({k: env.get(k) for k in ENV_KEYS}, sort_keys=True))
    part(diff)
    for path in _inputs(root):
        part(os.fsencode(path))
        try:
            part(path.read_bytes())
        except OSError:
            part(b"\0unreadable")
    return digest.hexdigest()


def _modules() -> list[Path]:
    """specflow's own modules: the code that computes a review's result."""
    return sorted(Path(__file__).resolve().parents[2].rglob("*.py"))


def _inputs(root: Path) -> list[Path]:
    """The files the review reads besides the diff, in a fixed order; absent ones too."""
    home = root / SPECFLOW_DIR
    # The allowlist decides what is a secret (gitx.allowlist.ALLOWLIST; spelled here so the
    # memo does not import pydantic).
    files = [home / "config.toml", home / "current", home / "secrets-allow.toml"]
    tasks = home / "tasks"
    if tasks.is_dir():
        for folder in sorted(tasks.iterdir()):
            files += [folder / "task.json", folder / "spec.md"]
    for kind in ("templates", "rules"):
        files += _tree(home / kind)
        files += _tree(Path(packaged_folder(kind)))
    return files


def _tree(folder: Path) -> Iterable[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _cache_dir(root: Path) -> Path:
    """Workspace.review_cache_dir, spelled here: importing the workspace loads pydantic, which
    the memo's fast path avoids (tests/test_review_memo.py holds the two equal)."""
    return root / SPECFLOW_DIR / "cache" / "review"


def _path(root: Path, key: str) -> Path:
    return _cache_dir(root) / f"memo-{key[:32]}.json"


def recall(root: Path, key: str) -> Remembered | None:
    """The result remembered under *key*, or None: absent, damaged, or its verdict-cache entry
    changed or gone since."""
    path = _path(root, key)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored["key"] != key:
            return None
        verdict = _cache_dir(root) / Path(stored["verdict"]).name
        if hashlib.sha256(verdict.read_bytes()).hexdigest() != stored["verdict_sha256"]:
            return None
        return Remembered(str(stored["text"]), dict(stored["data"]), bool(stored["blocked"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(root: Path, key: str, result: Remembered, verdict: Path) -> None:
    """Keep *result* under *key*, tied to the *verdict* cache entry it repeats; a memo that
    cannot be written is skipped (the review itself has already run). Called after a full
    review, so the workspace (and pydantic) is loaded already."""
    from specflow.store.workspace import Workspace

    ws = Workspace(root)
    try:
        record = {
            "key": key,
            "verdict": verdict.name,
            "verdict_sha256": hashlib.sha256(verdict.read_bytes()).hexdigest(),
            "text": result.text,
            "data": result.data,
            "blocked": result.blocked,
        }
        ws.ensure_cache_ignored()
        path = ws.review_cache_dir / _path(root, key).name
        atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    except OSError:
        return


def memo_enabled(env: Mapping[str, str] | None = None) -> bool:
    """False when SPECFLOW_REVIEW_MEMO=0 (to time or debug the ordinary path)."""
    value = (os.environ if env is None else env).get("SPECFLOW_REVIEW_MEMO", "1")
    return value.strip().lower() not in ("0", "false", "no", "off")
