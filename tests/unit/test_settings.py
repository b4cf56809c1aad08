from pathlib import Path

import pytest

from services.settings import LLMProvider, SettingsError, load_settings


def test_embedded_defaults_need_no_configuration(tmp_path: Path):
    settings = load_settings(_env_file=None, var_dir=tmp_path)
    db_file = (tmp_path / "trading_assist.db").resolve()
    assert settings.database_url == f"sqlite:///{db_file}"
    assert settings.read_replica_url == f"sqlite:///file:{db_file}?mode=ro&uri=true"
    assert settings.blob_storage_url == f"file://{(tmp_path / 'blobs').resolve()}"
    assert settings.redis_url is None
    assert settings.message_bus_url == "memory://"
    assert settings.vector_store == "faiss"
    assert settings.llm_provider is LLMProvider.EMBEDDED


def test_environment_switches_a_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@127.0.0.1/ops")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings(_env_file=None, var_dir=tmp_path)
    assert settings.database_url.startswith("postgresql+psycopg://")
    # a non-SQLite primary has no file to open read-only: the replica defaults to the same URL
    assert settings.read_replica_url == settings.database_url
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("DATABASE_URL", "not a url"),
        ("SQL_ROW_LIMIT", "0"),
        ("VECTOR_STORE", "pinecone"),
        ("LOG_LEVEL", "LOUD"),
        ("CORS_ORIGINS", "https://shop.example/widget"),
        ("CORS_ORIGINS", "*"),
    ],
)
def test_invalid_setting_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings(_env_file=None)


def test_cors_origins_are_a_comma_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    assert load_settings(_env_file=None, var_dir=tmp_path).cors_origins == []
    monkeypatch.setenv("CORS_ORIGINS", "https://shop.example, http://127.0.0.1:8080,")
    settings = load_settings(_env_file=None, var_dir=tmp_path)
    assert settings.cors_origins == ["https://shop.example", "http://127.0.0.1:8080"]


def test_openai_compatible_provider_needs_its_url(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLM_PROVIDER", "openai-compatible")
    with pytest.raises(SettingsError, match="LLM_BASE_URL"):
        load_settings(_env_file=None)


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / ".env").write_text("PORT=8123\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().port == 8123
