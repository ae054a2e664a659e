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
    stage: str | None = None,
) -> Provider:
    """The provider *stage* talks to (the global one when no stage is named), from *resolved*
    (worked out from *config* and *env* when not given); *continue_hint* shapes the
    handoff's continue command."""
    run = resolved if resolved is not None else resolve_model(config, env)
    if stage is not None:
        return _for_stage(config, env, run, stage, sleep, continue_hint)
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


def _for_stage(
    config: Config,
    env: Mapping[str, str],
    run: ResolvedModel,
    stage: str,
    sleep: Callable[[float], None],
    continue_hint: Callable[[Request], str] | None,
) -> Provider:
    own = run.stage(stage)
    if own.provider == "handoff":
        from specflow.providers.handoff import HandoffProvider

        return HandoffProvider(continue_hint)
    if own.provider == "anthropic":
        from specflow.providers.anthropic import AnthropicProvider

        return AnthropicProvider(
            config.anthropic, list(run.table), env, sleep=sleep, capability=own.capability
        )
    from specflow.providers.openai_compat import OpenAICompatProvider

    server = config.openai
    if own.base_url:
        server = server.model_copy(update={"base_url": own.base_url})
    return OpenAICompatProvider(
        server, list(run.table), env, sleep=sleep, capability=own.capability
    )
