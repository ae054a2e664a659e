"""Pick and build the provider a run uses. Importing this module imports no SDK: each
provider module is imported inside make_provider, only when it is the one chosen."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from specflow.config import Config
from specflow.providers.base import Provider, Request

CREDENTIAL_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


def resolve_provider_name(config: Config, env: Mapping[str, str]) -> str:
    """The provider a run uses: "auto" means Anthropic when credentials are set, else handoff."""
    if config.provider != "auto":
        return config.provider
    if any(env.get(name, "").strip() for name in CREDENTIAL_VARS):
        return "anthropic"
    return "handoff"


def make_provider(
    config: Config,
    env: Mapping[str, str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    continue_hint: Callable[[Request], str] | None = None,
) -> Provider:
    """The provider for *config*; *continue_hint* shapes the handoff's continue command."""
    name = resolve_provider_name(config, env)
    if name == "handoff":
        from specflow.providers.handoff import HandoffProvider

        return HandoffProvider(continue_hint)

    from specflow.providers.capabilities import load_table

    table = load_table(config.capabilities)
    if name == "anthropic":
        from specflow.providers.anthropic import AnthropicProvider

        return AnthropicProvider(config.anthropic, table, env, sleep=sleep)
    from specflow.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(config.openai, table, env, sleep=sleep)
