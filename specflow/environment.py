"""What specflow reads from the process environment besides config overrides: credentials,
CI, and the switches that skip the review gate. Cheap to import (the cached review reads it
before any config is loaded)."""

from __future__ import annotations

from collections.abc import Mapping

# The environment variables that hold Anthropic credentials, API key first: the one list.
CREDENTIAL_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
# The hook id in .pre-commit-hooks.yaml; pre-commit's SKIP=<ids> names it to skip the gate.
PRE_COMMIT_HOOK_ID = "specflow-review"
_TRUE = ("1", "true", "yes", "on")


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """Whether the environment variable *name* is set to a true value (1, true, yes, on)."""
    return env.get(name, "").strip().lower() in _TRUE


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether this run is in continuous integration (CI=true, as every CI service sets)."""
    return env_flag(env, "CI")


def has_credentials(env: Mapping[str, str]) -> bool:
    """Whether an Anthropic credential is set."""
    return any(env.get(name, "").strip() for name in CREDENTIAL_VARS)


def skip_reason(env: Mapping[str, str]) -> str | None:
    """Why the review gate is skipped by the environment, or None when it is not."""
    if env_flag(env, "SPECFLOW_SKIP_REVIEW"):
        return "skipped: SPECFLOW_SKIP_REVIEW=1"
    skipped = {part.strip() for part in env.get("SKIP", "").split(",")}
    if PRE_COMMIT_HOOK_ID in skipped:
        return f"skipped: SKIP={PRE_COMMIT_HOOK_ID} (pre-commit)"
    return None
