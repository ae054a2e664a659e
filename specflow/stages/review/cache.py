"""The verdict cache: a reviewed change's verdict, keyed by everything the model was shown.

The key hashes the redacted diff, the spec, the rules and standards, the review templates,
the threshold the prompt states, the review's own model (`[stages.review] model`, else the
global one) and the chunk budget. A verdict the user brought with `--reply` (the handoff
gate) is stored under the same key, so the next review of that exact change enforces it
without a model call; a later `--reply` replaces it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from specflow.contracts.models import ReviewReply
from specflow.stages.session import Session
from specflow.store.fsutil import atomic_write_text

PROMPT_VERSION = "review-2"  # review-2: hunks with line numbers, evidence rules


def cache_key(session: Session, diff_text: str, spec: str | None, threshold: str) -> str:
    """The key of a review of *diff_text* against *spec* at *threshold*."""
    prompts = session.prompts
    digest = hashlib.sha256()
    for part in (
        PROMPT_VERSION,
        threshold,
        diff_text,
        spec or "",
        prompts.rules(),
        prompts.standards(),
        prompts.fingerprint("review.md.j2", "review-input.md.j2", "_contract_review.md.j2"),
        session.resolved.stage("review").model,  # the review's own ([stages.review]) or global
        str(session.config.review.chunk_tokens),
    ):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def cache_path(session: Session, key: str) -> Path:
    return session.ws.review_cache_dir / f"{key[:32]}.json"


REPLY_FILE = "reply file"  # the source of a verdict the user recorded with --reply


def from_cache(session: Session, key: str, *, recorded_only: bool = False) -> ReviewReply | None:
    """The verdict stored under *key*; with *recorded_only*, only one recorded with --reply
    (enforced even when `[review] cache` is off: the user brought it for this change)."""
    path = cache_path(session, key)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if recorded_only and data.get("source") != REPLY_FILE:
            return None
        return ReviewReply.model_validate(data["reply"])
    except (ValueError, KeyError, AttributeError, TypeError):
        return None  # a damaged cache entry is a miss, never an error


def to_cache(session: Session, key: str, reply: ReviewReply, source: str = "model") -> None:
    """Store *reply* under *key*; *source* says where it came from (model, or reply file)."""
    session.ws.ensure_cache_ignored()  # the cache stays out of git, the user's files untouched
    record = {"key": key, "source": source, "reply": reply.model_dump()}
    atomic_write_text(cache_path(session, key), json.dumps(record, indent=1) + "\n")
