"""A model and provider per stage, decoding intent on models without sampling knobs, and the
temperature range check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specflow.config import Config, load_config
from specflow.errors import ConfigError
from specflow.providers.capabilities import lookup, resolve_model
from specflow.reports import cost_on
from specflow.store.transcript import Exchange
from tests.fakes import Text
from tests.fakes.anthropic_server import AnthropicServer
from tests.fakes.openai_server import OpenAIServer
from tests.helpers import run
from tests.samples import SCOPE_REPLY, SPEC_REPLY_NO_UNKNOWNS, implement_reply

KEY = {"ANTHROPIC_API_KEY": "k"}
COLLECTOR = "src/exporter/collector.py"


def _config(repo: Path, text: str) -> None:
    (repo / ".specflow").mkdir(exist_ok=True)
    (repo / ".specflow/config.toml").write_text(text)


def _answer_all() -> None:
    for n in range(1, 6):
        assert run("answer", str(n), f"answer {n}").exit_code == 0


# -- precedence --------------------------------------------------------------------------------


def _models(config: Config, env: dict[str, str]) -> dict[str, str]:
    run_ = resolve_model(config, env)
    return {name: run_.stage(name).model for name in ("scope", "spec", "implement", "review")}


def test_a_stage_falls_back_to_the_global_model(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('model = "claude-opus-5-5"\n[stages.implement]\nmodel = "claude-haiku-5-5"\n')
    models = _models(load_config(path, {}), KEY)
    assert models == {
        "scope": "claude-opus-5-5",
        "spec": "claude-opus-5-5",
        "implement": "claude-haiku-5-5",
        "review": "claude-opus-5-5",
    }


def test_precedence_flag_then_stage_then_env_then_global(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('model = "claude-opus-5-5"\n[stages.implement]\nmodel = "claude-haiku-5-5"\n')
    env = {**KEY, "SPECFLOW_MODEL": "claude-sonnet-5-5"}
    # The environment replaces the global model; the stage's own setting still wins.
    assert _models(load_config(path, env), env)["scope"] == "claude-sonnet-5-5"
    assert _models(load_config(path, env), env)["implement"] == "claude-haiku-5-5"
    # A flag for this run wins over the stage's own setting, for the stages it is for.
    flagged = load_config(path, env, model="claude-fable-5-2", stages=("implement",))
    assert _models(flagged, env)["implement"] == "claude-fable-5-2"
    assert _models(flagged, env)["scope"] == "claude-fable-5-2"  # the global, for the rest
    assert _models(load_config(path, env, model="claude-fable-5-2"), env)["implement"] == (
        "claude-fable-5-2"
    )


def test_a_stage_provider_falls_back_and_auto_still_resolves(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[stages.implement]\nprovider = "openai"\nmodel = "qwen2.5-coder:14b"\n')
    resolved = resolve_model(load_config(path, {}), {})
    assert resolved.stage("implement").provider == "openai"
    assert resolved.stage("scope").provider == "handoff"  # auto without a key
    resolved = resolve_model(load_config(path, KEY), KEY)
    assert resolved.stage("scope").provider == "anthropic"


def test_base_url_on_a_non_openai_stage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[stages.spec]\nbase_url = "http://localhost:1234/v1"\n')
    with pytest.raises(ConfigError, match=r"stages\.spec\.base_url is set, but the spec stage"):
        resolve_model(load_config(path, KEY), KEY)


def test_the_anchoring_window_is_the_stage_models_own() -> None:
    config = Config.model_validate(
        {
            "stages": {"implement": {"provider": "openai", "model": "small"}},
            "capabilities": [{"provider": "openai", "match": "small", "context_window": 8192}],
        }
    )
    resolved = resolve_model(config, KEY)
    assert resolved.stage("implement").context_window == 8192
    assert resolved.stage("spec").context_window == 200_000


# -- decoding intent ---------------------------------------------------------------------------


def test_intent_on_a_model_without_sampling_knobs() -> None:
    resolved = resolve_model(Config(), KEY)
    assert resolved.plan("scope").send == {"effort": "high", "thinking": "adaptive"}
    assert resolved.plan("review").send == {"effort": "high", "thinking": "adaptive"}
    assert resolved.plan("implement").send == {"effort": "medium"}
    assert resolved.plan("spec").send == {"effort": "high"}


def test_temperature_above_the_models_range_is_refused_naming_the_key() -> None:
    config = Config.model_validate(
        {"model": "claude-haiku-4-5", "stages": {"scope": {"temperature": 1.5}}}
    )
    with pytest.raises(ConfigError) as caught:
        resolve_model(config, KEY)
    assert str(caught.value).startswith(
        "stages.scope.temperature = 1.5 is above claude-haiku-4-5's range 0–1;"
    )


def test_temperature_within_an_openai_servers_range_passes() -> None:
    config = Config.model_validate(
        {"provider": "openai", "model": "qwen", "stages": {"scope": {"temperature": 1.5}}}
    )
    assert resolve_model(config, {}).plan("scope").send["temperature"] == 1.5


def test_a_withheld_temperature_is_not_range_checked() -> None:
    # claude-sonnet-5-5 takes no temperature: 1.5 is withheld (and said so), not refused.
    config = Config.model_validate({"stages": {"scope": {"temperature": 1.5}}})
    assert "temperature" in resolve_model(config, KEY).plan("scope").withheld


def test_the_range_refusal_exits_2_before_any_request(repo: Path, claude: AnthropicServer) -> None:
    _config(repo, 'model = "claude-haiku-4-5"\n[stages.scope]\ntemperature = 1.5\n')
    assert run("new", "A task").exit_code == 0
    result = run("scope")
    assert result.exit_code == 2
    assert "stages.scope.temperature = 1.5 is above claude-haiku-4-5's range 0–1" in result.output
    assert claude.requests == []


def test_lifecycle_rows_from_the_sdk_model_list() -> None:
    table = resolve_model(Config(), KEY).table
    preview = lookup("anthropic", "claude-mythos-preview", list(table))
    assert (preview.status, preview.end_of_life) == ("retired", "2026-06-30")
    assert lookup("anthropic", "claude-mythos-5-2", list(table)).status == "active"
    opus = lookup("anthropic", "claude-opus-4-5-20251101", list(table))
    assert (opus.status, opus.end_of_life) == ("deprecated", "2027-01-22")
    assert lookup("anthropic", "claude-3-opus", list(table)).status == "retired"
    assert lookup("anthropic", "claude-sonnet-5-5", list(table)).temperature_range == (0.0, 1.0)
    assert lookup("openai", "qwen", list(table)).temperature_range == (0.0, 2.0)


# -- specflow models ---------------------------------------------------------------------------


def test_models_shows_each_stages_provider_model_and_intent(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    _config(
        repo,
        '[stages.implement]\nprovider = "openai"\nmodel = "qwen2.5-coder:14b"\n'
        'base_url = "http://127.0.0.1:9/v1"\n',
    )
    lines = run("models").output.splitlines()
    start = lines.index("implement  openai qwen2.5-coder:14b at http://127.0.0.1:9/v1")
    assert lines[start + 1] == "           sends temperature=0.1, max_tokens=32000"
    assert lines[start + 2].startswith("           not honoured: effort (qwen2.5-coder:14b")
    assert lines[start + 3] == "           intent: exact -> temperature=0.1"
    assert "scope      anthropic claude-sonnet-5-5" in lines
    assert "           intent: explore -> effort=high, thinking=adaptive" in lines
    data = json.loads(run("models", "--json").output)
    assert data["stages"]["implement"]["provider"] == "openai"
    assert data["stages"]["implement"]["capability"]["temperature_range"] == [0.0, 2.0]
    assert data["stages"]["review"]["intent_became"] == "judge -> effort=high, thinking=adaptive"


def test_models_warns_about_a_retired_model(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    output = run("models", "--model", "claude-mythos-preview").output
    assert (
        "warning: claude-mythos-preview is retired (end of life 2026-06-30): the API no "
        "longer serves it; choose a current model"
    ) in output


# -- loopback runs -----------------------------------------------------------------------------


def test_scope_and_spec_on_one_model_implement_on_another(
    repo: Path, claude: AnthropicServer
) -> None:
    _config(repo, '[stages.implement]\nmodel = "claude-haiku-5-5"\n')
    assert run("new", "Prometheus exporter", "--name", "exporter").exit_code == 0
    claude.script(Text(SCOPE_REPLY), Text(SPEC_REPLY_NO_UNKNOWNS))
    assert run("scope").exit_code == 0
    _answer_all()
    assert run("spec").exit_code == 0
    claude.script(Text(implement_reply(COLLECTOR, "X = 1\n")))
    result = run("implement", "--file", COLLECTOR)
    assert result.exit_code == 0, result.output
    assert [r.body["model"] for r in claude.requests] == [
        "claude-sonnet-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
    ]
    assert "implement: sending effort=medium to claude-haiku-5-5 (anthropic)" in result.output
    log = json.loads(run("log", "--json").output)
    assert log["stages"]["implement"]["models"] == ["claude-haiku-5-5"]
    assert log["stages"]["scope"]["models"] == ["claude-sonnet-5-5"]
    comparison = log["comparison"]
    assert comparison["global_model"] == "claude-sonnet-5-5"
    # Haiku is a third of Sonnet's price: the task cost less than on Sonnet throughout.
    assert comparison["cost_usd"] < comparison["global_cost_usd"]
    text = run("log").output.splitlines()
    assert text[-1] == (
        f"total ${comparison['cost_usd']:.4f}; on claude-sonnet-5-5 for every stage: "
        f"${comparison['global_cost_usd']:.4f}"
    )
    assert text[-2].endswith("  claude-haiku-5-5") and text[-2].startswith("implement")


def test_one_stage_on_an_openai_compatible_server(
    repo: Path, claude: AnthropicServer, openai_server: OpenAIServer
) -> None:
    _config(
        repo,
        '[stages.scope]\nprovider = "openai"\nmodel = "qwen2.5-coder:14b"\n'
        f'base_url = "{openai_server.base_url}"\n',
    )
    assert run("new", "Prometheus exporter", "--name", "exporter").exit_code == 0
    openai_server.script(Text(SCOPE_REPLY))
    result = run("scope")
    assert result.exit_code == 0, result.output
    assert [r.body["model"] for r in openai_server.requests] == ["qwen2.5-coder:14b"]
    assert openai_server.requests[0].body["temperature"] == 0.8
    assert claude.requests == []
    _answer_all()
    claude.script(Text(SPEC_REPLY_NO_UNKNOWNS))
    assert run("spec").exit_code == 0
    assert [r.body["model"] for r in claude.requests] == ["claude-sonnet-5-5"]
    assert "temperature" not in claude.requests[0].body


def test_cost_on_another_row_uses_its_prices() -> None:
    records = [
        Exchange(stage="implement", provider="anthropic", model="m", input_tokens=1_000_000),
        Exchange(stage="implement", provider="anthropic", model="m", kind="test"),
    ]
    row = lookup("anthropic", "claude-sonnet-5-5", list(resolve_model(Config(), KEY).table))
    assert cost_on(records, row) == 3.0


def test_a_provider_used_on_its_own_refuses_an_out_of_range_temperature(
    anthropic_server: AnthropicServer, openai_server: OpenAIServer
) -> None:
    from specflow.config import AnthropicConfig, OpenAIConfig
    from specflow.providers.anthropic import AnthropicProvider
    from specflow.providers.base import Decoding, Message, Request, SystemBlock
    from specflow.providers.capabilities import load_table
    from specflow.providers.openai_compat import OpenAICompatProvider

    def ask(model: str, temperature: float) -> Request:
        return Request(
            stage="scope",
            model=model,
            system=[SystemBlock("Follow the rules.", label="rules")],
            messages=[Message("user", "Scope this task.")],
            max_tokens=4000,
            decoding=Decoding(temperature=temperature),
        )

    claude = AnthropicProvider(
        AnthropicConfig(base_url=anthropic_server.base_url), load_table([]), KEY
    )
    with pytest.raises(ConfigError, match=r"scope\.temperature = 1\.2 is above claude-haiku-4-5"):
        claude.complete(ask("claude-haiku-4-5", 1.2))
    local = OpenAICompatProvider(OpenAIConfig(base_url=openai_server.base_url), load_table([]), {})
    with pytest.raises(ConfigError, match=r"scope\.temperature = 2\.5 is above qwen's range 0–2"):
        local.complete(ask("qwen", 2.5))
    assert anthropic_server.requests == [] and openai_server.requests == []
