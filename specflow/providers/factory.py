"""Build the provider a run uses. Importing this module imports no SDK: each provider module
is imported inside make_provider, only when it is the one chosen."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from specflow.config import Config, resolve_provider_name
from specflow.environment import CREDENTIAL_VARS
from specflow.providers.base import Provider, Request
from specflow.providers.capabilities import ResolvedModel, resolve_model

# Re-exported: callers that predate config.resolve_provider_name import them from here.
__all__ = ["CREDENTIAL_VARS", "make_provider", "resolve_provider_name"]


def make_provider(
    config: Config,
    env: Mapping[str, str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    continue_hint: Callable[[Request], str] | None = None,
    resolved: ResolvedModel | None = None,
) -> Provider:
    """The provider for *resolved* (worked out from *config* and *env* when not given);
    *continue_hint* shapes the handoff's continue command."""
    run = resolved if resolved is not None else resolve_model(config, env)
    if run.provider == "handoff":
        from specflow.providers.handoff import HandoffProvider

        return HandoffProvider(continue_hint)
    if run.provider == "anthropic":
        from specflow.providers.anthropic import AnthropicProvider

        return AnthropicProvider(
            config.anthropic, list(run.table), env, sleep=sleep, capability=run.capability
        )
    from specflow.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(
        config.openai, list(run.table), env, sleep=sleep, capability=run.capability
    )
