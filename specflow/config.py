"""Config: .specflow/config.toml, then SPECFLOW_* environment variables, then flags.

Which provider and model a stage talks to, most specific first: a flag for this run
(`--provider/--model` on a stage command), the stage's own `[stages.<stage>]` setting,
SPECFLOW_PROVIDER / SPECFLOW_MODEL, then the global `provider` / `model`.

Every key is validated (pydantic, extra="forbid"); a bad file is reported with the
file, the key or line, and the problem, and an unknown key gets the nearest known one.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from specflow.environment import has_credentials
from specflow.errors import ConfigError
from specflow.stages.records import STAGES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ProviderName = Literal["auto", "anthropic", "openai", "handoff"]
Effort = Literal["low", "medium", "high", "xhigh", "max"]
Thinking = Literal["off", "adaptive"]
Severity = Literal["BLOCKER", "MAJOR", "MINOR", "NIT"]  # records.SEVERITIES (a test ties them)
STAGE_NAMES: tuple[str, ...] = STAGES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StageConfig(_Strict):
    """A stage's model (when it differs from the global one), decoding profile, reply budget
    and re-ask count."""

    # Empty: the global setting (or SPECFLOW_PROVIDER / SPECFLOW_MODEL) applies.
    provider: ProviderName | Literal[""] = ""
    model: str = ""
    # OpenAI-compatible provider only: this stage's server (empty: [openai] base_url).
    base_url: str = ""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=1)
    effort: Effort | None = None
    # "off", "adaptive", or a budget of thinking tokens (>= 1024, below max_tokens).
    thinking: Thinking | Annotated[int, Field(ge=1024)] = "off"
    max_tokens: int = Field(default=16000, ge=256)
    max_retries: int = Field(default=2, ge=0, le=10)
    test_command: str = ""
    test_timeout_s: float = Field(default=900.0, gt=0)
    # implement: every request's system prompt carries the engineering standards' checklist;
    # their detail goes in the user turns: "relevant" (each file's request carries the
    # detailed sections its spec lines and content call for, each once per conversation),
    # "whole" (the whole document once, in the conversation's first turn) or "checklist"
    # (no detail).
    standards: Literal["relevant", "checklist", "whole"] = "relevant"
    # implement: what the conversation keeps of each written file for the files after it (its
    # outline, or the reply whole: stages/implement/outline.py).
    history: Literal["outline", "whole"] = "outline"

    @model_validator(mode="before")
    @classmethod
    def _full_standards(cls, data: Any) -> Any:
        # `full_standards = true|false`, written by an earlier `specflow init`, is
        # `standards = "whole"|"relevant"`.
        if not isinstance(data, dict) or "full_standards" not in data:
            return data
        data = dict(data)
        full = data.pop("full_standards")
        if "standards" in data:
            raise ValueError(
                "full_standards was replaced by standards, which is also set: remove the "
                "full_standards line"
            )
        if not isinstance(full, bool):
            raise ValueError(
                f"full_standards takes true or false (got {full!r}); better, replace it with "
                'standards = "whole" (true) or "relevant" (false)'
            )
        data["standards"] = "whole" if full else "relevant"
        return data

    @model_validator(mode="after")
    def _budget_below_max_tokens(self) -> StageConfig:
        if isinstance(self.thinking, int) and self.thinking >= self.max_tokens:
            raise ValueError(
                f"thinking budget {self.thinking} must be below max_tokens ({self.max_tokens})"
            )
        return self


# Each stage's intent, carried by both kinds of knob: the temperature for models that sample
# on request, effort and thinking for models that take no sampling knob (the current Claude
# models). Scope explores (thinking on), spec decides, implement is exact (thinking off: the
# spec already did the thinking), review judges (thinking on, effort high).
STAGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "scope": {"temperature": 0.8, "effort": "high", "thinking": "adaptive"},
    "spec": {"temperature": 0.3, "effort": "high"},
    "implement": {"temperature": 0.1, "effort": "medium", "max_tokens": 32000},
    "review": {"temperature": 0.0, "effort": "high", "thinking": "adaptive"},
}


# StageConfig keys that only the implement stage reads.
IMPLEMENT_ONLY = frozenset(
    {"test_command", "test_timeout_s", "standards", "history", "full_standards"}
)


class StagesConfig(_Strict):
    """One profile per stage. A [stages.<name>] table changes only the keys it sets."""

    scope: StageConfig = Field(default_factory=lambda: StageConfig(**STAGE_DEFAULTS["scope"]))
    spec: StageConfig = Field(default_factory=lambda: StageConfig(**STAGE_DEFAULTS["spec"]))
    implement: StageConfig = Field(
        default_factory=lambda: StageConfig(**STAGE_DEFAULTS["implement"])
    )
    review: StageConfig = Field(default_factory=lambda: StageConfig(**STAGE_DEFAULTS["review"]))

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, defaults in STAGE_DEFAULTS.items():
            given = data.get(name)
            if isinstance(given, dict):
                misplaced = (
                    sorted(IMPLEMENT_ONLY.intersection(given)) if name != "implement" else []
                )
                if misplaced:
                    # Accepted and ignored, it would look like it works.
                    raise ValueError(
                        f"[stages.{name}] sets {', '.join(misplaced)}, which only the implement "
                        "stage uses; move it to [stages.implement]"
                    )
                merged[name] = {**defaults, **given}
        return merged

    def get(self, name: str) -> StageConfig:
        result: StageConfig = getattr(self, name)
        return result


class AnthropicConfig(_Strict):
    base_url: str = ""
    timeout_s: float = Field(default=600.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    retry_after_cap_s: float = Field(default=60.0, ge=0)
    prompt_caching: bool = True


class OpenAIConfig(_Strict):
    base_url: str = "http://localhost:11434/v1"
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = Field(default=600.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    retry_after_cap_s: float = Field(default=60.0, ge=0)


class ContextConfig(_Strict):
    max_file_bytes: int = Field(default=200_000, ge=1)


class AnchoringConfig(_Strict):
    enabled: bool = True
    remind_after_tokens: int = Field(default=8000, ge=0)
    min_system_share: float = Field(default=0.25, ge=0.0, le=1.0)
    reset_at_share: float = Field(default=0.6, gt=0.0, le=1.0)


class ReviewConfig(_Strict):
    threshold: Severity = "MAJOR"
    exclude: list[str] = Field(
        default_factory=lambda: [
            "*.lock",
            "package-lock.json",
            "pnpm-lock.yaml",
            "yarn.lock",
            "poetry.lock",
            "uv.lock",
            "Cargo.lock",
            "go.sum",
            "vendor/**",
            "third_party/**",
            "node_modules/**",
            "dist/**",
            "build/**",
            "*.min.js",
            "*_pb2.py",
            "*.generated.*",
        ]
    )
    max_diff_lines: int = Field(default=20_000, ge=1)
    chunk_tokens: int = Field(default=60_000, ge=1000)
    timeout_s: float = Field(default=120.0, gt=0)
    fail_open_locally: bool = True
    fail_closed_in_ci: bool = True
    cache: bool = True

    def fails_open(self, ci: bool, flag: bool | None = None) -> bool:
        """Whether a review that cannot run passes (exit 0) rather than fails (exit 3):
        --fail-open/--fail-closed (*flag*) first, else this config for CI or a local run."""
        if flag is not None:
            return flag
        return not self.fail_closed_in_ci if ci else self.fail_open_locally


class CapabilityEntry(_Strict):
    """One row of the capability table (see specflow/data/capabilities.toml)."""

    provider: Literal["anthropic", "openai"]
    match: str  # fnmatch pattern over the model id
    honours: list[Literal["temperature", "top_p", "top_k", "effort", "thinking"]] = Field(
        default_factory=list
    )
    exclusive: list[list[str]] = Field(default_factory=list)
    context_window: int = Field(default=200_000, ge=1)
    price_input: float = Field(default=0.0, ge=0)
    price_output: float = Field(default=0.0, ge=0)
    price_cache_write: float = Field(default=0.0, ge=0)
    price_cache_read: float = Field(default=0.0, ge=0)
    # The temperatures the model accepts: Claude 0-1, most OpenAI-compatible servers 0-2.
    temperature_range: tuple[float, float] = (0.0, 2.0)
    # "retired": the API no longer serves the id; "deprecated": it will stop on end_of_life.
    status: Literal["active", "deprecated", "retired"] = "active"
    end_of_life: str = ""  # ISO date, where the SDK gives one


# -- [contracts]: content rules a project switches off ------------------------------------------


class ContractsConfig(_Strict):
    """`[contracts] disabled`: content rule ids (contracts/rules.py) not applied here."""

    disabled: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_rules(self) -> ContractsConfig:
        from specflow.contracts.rules import check_disabled

        try:
            check_disabled(self.disabled, "[contracts] disabled")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self


class Config(_Strict):
    provider: ProviderName = "auto"
    model: str = "claude-sonnet-5-5"
    anthropic: AnthropicConfig = Field(default_factory=AnthropicConfig)
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)
    context: ContextConfig = Field(default_factory=ContextConfig)
    stages: StagesConfig = Field(default_factory=StagesConfig)
    anchoring: AnchoringConfig = Field(default_factory=AnchoringConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    capabilities: list[CapabilityEntry] = Field(default_factory=list)
    contracts: ContractsConfig = Field(default_factory=ContractsConfig)


def load_config(
    path: Path | None,
    env: Mapping[str, str] | None = None,
    provider: str | None = None,
    model: str | None = None,
    *,
    stages: tuple[str, ...] = STAGE_NAMES,
) -> Config:
    """Read *path* (absent file: defaults), then apply env overrides, then flags.

    SPECFLOW_PROVIDER / SPECFLOW_MODEL replace the global setting (a stage's own setting still
    wins); the --provider / --model flags are for this run and win over everything for
    *stages* (the stage a command runs; every stage for `specflow models`).
    """
    data = _read_toml(path) if path is not None and path.exists() else {}
    env = os.environ if env is None else env
    from_env: dict[str, str] = {}  # a value from the environment is reported against it
    for key, value, flag in (
        ("provider", env.get("SPECFLOW_PROVIDER"), provider),
        ("model", env.get("SPECFLOW_MODEL"), model),
    ):
        if value and not flag:
            from_env[key] = f"SPECFLOW_{key.upper()}"
        if value:
            data[key] = value
    flags = {key: value for key, value in (("provider", provider), ("model", model)) if value}
    if flags:
        data = _with_stage_flags(data, flags, stages)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, from_env)) from None


def _with_stage_flags(
    data: dict[str, Any], flags: dict[str, str], stages: tuple[str, ...]
) -> dict[str, Any]:
    """*data* with the run's flags set on each of *stages* (and globally, for what no stage
    names, such as the review gate's provider check)."""
    merged = {**data, **flags}
    tables = dict(data.get("stages") or {})
    for name in stages:
        given = tables.get(name)
        tables[name] = {**(given if isinstance(given, dict) else {}), **flags}
    merged["stages"] = tables
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data: dict[str, Any] = tomllib.load(f)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid TOML: {exc}. Fix the line, or run `specflow init --force` "
            "to write a fresh config (the old one is kept as a backup)."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror}") from None


def _describe(
    exc: ValidationError, path: Path | None, from_env: Mapping[str, str] | None = None
) -> str:
    from_env = from_env or {}
    where = str(path) if path is not None else "configuration"
    keys = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    if keys and keys <= set(from_env):
        where = "the environment variable " + ", ".join(sorted(from_env[k] for k in keys))
    messages: dict[str, list[str]] = {}
    for err in exc.errors():
        # pydantic names union branches in the location ("literal['off','adaptive']",
        # "constrained-int"); the user only knows the key, so drop them and merge.
        loc = [str(p) for p in err["loc"] if str(p).isidentifier() or str(p).isdigit()]
        key = ".".join(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            hint = _nearest(loc)
            text = f"unknown key `{key}`" + (f"; did you mean `{hint}`?" if hint else "")
            messages.setdefault(text, [])
            continue
        if loc and loc[0] in from_env:
            key = from_env[loc[0]]
        elif loc and loc[0] in ("provider", "model"):
            key += " (set in the file, SPECFLOW_PROVIDER/SPECFLOW_MODEL, or a flag)"
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        messages.setdefault(f"`{key}`", []).append(err["msg"].removeprefix("Value error, ") + shown)
    lines = [f"{where}: invalid configuration"]
    for head, problems in messages.items():
        lines.append(f"  - {head}: {'; or '.join(problems)}" if problems else f"  - {head}")
    return "\n".join(lines)


def _nearest(loc: list[str]) -> str | None:
    """The known key closest to an unknown one, spelled in full ("stages.scope.temperature")."""
    model: type[BaseModel] = Config
    prefix: list[str] = []
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
            prefix.append(part)
        elif part.isdigit():
            prefix.append(part)
            if model is Config:
                model = CapabilityEntry
        else:
            break
    match = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.5)
    return ".".join([*prefix, match[0]]) if match else None


def resolve_provider_name(config: Config, env: Mapping[str, str]) -> str:
    """The provider a run uses: "auto" means Anthropic when credentials are set, else handoff.

    A pure function of the config and the environment, so every caller gets the same answer.
    """
    if config.provider != "auto":
        return config.provider
    return "anthropic" if has_credentials(env) else "handoff"
