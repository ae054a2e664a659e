"""The one token estimate: characters / 4, rounded up.

A fast heuristic, not a tokenizer: it costs nothing per call and needs no model-specific
vocabulary, so the review's diff budgeting (gitx) and the implement stage's anchoring
(stages) share it. It undercounts dense text (symbols, CJK, long numbers), so budgets and
thresholds keep headroom. Once a reply comes back, its usage gives the exact figure.
"""

from __future__ import annotations

# About four characters per token for English prose and source code with the Claude and
# GPT tokenizers; dense symbols run nearer three.
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """*text*'s estimated size in tokens: one per 4 characters, rounded up (0 for "")."""
    return -(-len(text) // CHARS_PER_TOKEN)
