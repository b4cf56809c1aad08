"""The settings the provider layer reads."""

from __future__ import annotations

import pytest

from services.settings import SettingsError, load_settings

# -- the settings this layer reads ------------------------------------------------------------


def test_provider_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENROUTER_FALLBACK_MODELS", "anthropic/claude-3.5-haiku, mistralai/x")
    monkeypatch.setenv("OLLAMA_MODEL_SQL", "sqlcoder:7b")
    monkeypatch.setenv("LLM_BREAKER_COOLDOWN_S", "12.5")
    loaded = load_settings(_env_file=None)
    assert loaded.openrouter_fallback_models == ["anthropic/claude-3.5-haiku", "mistralai/x"]
    assert loaded.ollama_model_sql == "sqlcoder:7b"
    assert loaded.llm_breaker_cooldown_s == 12.5
    assert loaded.openrouter_data_collection == "deny"  # the default keeps prompts unstored


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OLLAMA_MODEL_SQL", "no spaces please"),
        ("OPENROUTER_FALLBACK_MODELS", "good/model, bad model"),
        ("OPENROUTER_DATA_COLLECTION", "sometimes"),
        ("LLM_MAX_ATTEMPTS", "0"),
        ("LLM_BREAKER_FAILURES", "many"),
        ("OPENROUTER_TIMEOUT_S", "-1"),
    ],
)
def test_invalid_provider_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings(_env_file=None)
