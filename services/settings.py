"""Infrastructure settings: one object, read from the environment and `.env`.

Every backing service has an embedded default so that the platform runs on one machine with no
configuration at all; setting a variable switches that service to its real counterpart. Per-run
options (who is asking, limits for one request) are not here: they travel in `CallerContext`.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class LLMProvider(StrEnum):
    """Where the local model runs."""

    EMBEDDED = "embedded"  # llama.cpp inside this process (xllamacpp)
    OPENAI_COMPATIBLE = "openai-compatible"  # any OpenAI-compatible server at LLM_BASE_URL


class EmbeddedModel(StrEnum):
    QWEN_CODER_1_5B = "qwen2.5-coder-1.5b"
    QWEN_CODER_0_5B = "qwen2.5-coder-0.5b"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "trading-assist"


_MODEL_ID = r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$"  # e.g. qwen2.5:3b, openai/gpt-4o-mini


class SettingsError(RuntimeError):
    """Raised at start when a setting is invalid; the message names the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    var_dir: Path = Field(
        Path("var"), description="Folder for the embedded database, blobs, indexes."
    )
    database_url: str = Field(
        "", description="Operational database (SQLAlchemy URL). Default: SQLite file in var/."
    )
    read_replica_url: str = Field(
        "", description="Read replica for generated SQL. Default: the SQLite file opened mode=ro."
    )

    llm_provider: LLMProvider = LLMProvider.EMBEDDED
    embedded_model: EmbeddedModel = EmbeddedModel.QWEN_CODER_1_5B
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible server used when LLM_PROVIDER=openai-compatible."
    )
    llm_model_name: str = "local"
    llm_timeout_s: Annotated[float, Field(gt=0)] = 120.0
    model_cache_dir: Path = Field(default_factory=_default_cache_dir)
    llm_threads: Annotated[int, Field(ge=1)] = Field(default_factory=lambda: os.cpu_count() or 2)
    llm_context_tokens: Annotated[int, Field(ge=2048)] = 8192

    ollama_base_url: str | None = None
    openrouter_api_key: str | None = None
    openrouter_base_url: str = "https://openrouter.ai/api/v1"

    ollama_model_sql: str = Field(
        "qwen2.5-coder:1.5b", pattern=_MODEL_ID, description="Ollama model that writes SQL."
    )
    ollama_model_general: str = Field(
        "qwen2.5:3b", pattern=_MODEL_ID, description="Ollama model for every other task."
    )
    ollama_timeout_s: Annotated[float, Field(gt=0, le=600)] = 120.0
    openrouter_model: str = Field(
        "openai/gpt-4o-mini", pattern=_MODEL_ID, description="OpenRouter's first-choice model."
    )
    openrouter_fallback_models: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["meta-llama/llama-3.3-70b-instruct"],
        description="Comma-separated models OpenRouter tries, in order, when the first fails.",
    )
    openrouter_data_collection: str = Field(
        "deny", pattern="^(allow|deny)$", description="Providers that may store prompts."
    )
    openrouter_app_url: str | None = Field(
        None, description="Sent to OpenRouter as HTTP-Referer (app attribution); unset: not sent."
    )
    openrouter_app_title: str = Field("Trading AI Assist", description="Sent as X-Title.")
    openrouter_timeout_s: Annotated[float, Field(gt=0, le=600)] = 60.0
    llm_max_attempts: Annotated[int, Field(ge=1, le=10)] = Field(
        3, description="Attempts per model call, the first included, before a provider is given up."
    )
    llm_backoff_s: Annotated[float, Field(gt=0, le=60)] = 0.5
    llm_backoff_max_s: Annotated[float, Field(gt=0, le=300)] = 8.0
    llm_breaker_failures: Annotated[int, Field(ge=1, le=100)] = Field(
        5, description="Consecutive failures that open a provider's circuit breaker."
    )
    llm_breaker_cooldown_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        30.0, description="How long an open breaker refuses calls before it lets one probe through."
    )

    routing_policy_file: Path | None = Field(
        None, description="YAML file mapping request labels to providers; default: the packaged."
    )
    checkpoint_url: str = Field(
        "",
        description="Where conversations are kept: a postgresql:// URL, or default a SQLite file "
        "var/checkpoints.db.",
    )
    conversation_retention_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        90,
        description="Conversations untouched this many days are deleted at start; 0 keeps all.",
    )
    graph_step_budget: Annotated[int, Field(ge=2, le=50)] = Field(
        8, description="Most agent steps one request may take (a compound question uses several)."
    )

    vector_store: str = Field("faiss", pattern="^(faiss|qdrant)$")
    qdrant_url: str | None = Field(
        None, description="Qdrant server URL; unset with VECTOR_STORE=qdrant: local mode in var/."
    )
    faiss_hnsw_threshold: Annotated[int, Field(ge=1000)] = Field(
        100_000, description="Chunks above which FAISS switches from exact search to HNSW."
    )
    chunk_max_chars: Annotated[int, Field(ge=200, le=20000)] = 1200
    chunk_overlap_chars: Annotated[int, Field(ge=0, le=2000)] = 150
    rag_top_k: Annotated[int, Field(ge=1, le=50)] = 5
    rag_rerank: bool = Field(False, description="Rerank fused passages with a cross-encoder.")
    ocr_engine: str = Field("rapidocr", pattern="^(rapidocr|tesseract)$")
    max_upload_bytes: Annotated[int, Field(ge=1024)] = 25 * 1024 * 1024
    redis_url: str | None = Field(None, description="Unset: rate limits and caches in memory.")
    blob_storage_url: str = Field("", description="Default: a local folder var/blobs.")
    message_bus_url: str = Field("memory://", description="memory:// is the in-process bus.")

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")

    max_question_chars: Annotated[int, Field(ge=10, le=20000)] = 2000
    sql_row_limit: Annotated[int, Field(ge=1, le=100000)] = 200
    sql_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    sql_max_retries: Annotated[int, Field(ge=0, le=5)] = 2
    sql_samples: Annotated[int, Field(ge=1, le=9)] = Field(
        1, description="Drafts per question; above 1 the agreed result wins (self-consistency)."
    )
    sql_examples: Annotated[int, Field(ge=0, le=10)] = Field(
        2, description="Verified similar questions shown to the model as examples."
    )
    sql_schema_linking: bool = Field(
        True, description="Show the model only the tables the question seems to need."
    )

    @field_validator("openrouter_fallback_models", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("openrouter_fallback_models")
    @classmethod
    def _model_ids(cls, value: list[str]) -> list[str]:
        for model in value:
            if not re.fullmatch(_MODEL_ID, model):
                raise ValueError(f"not a model id: {model!r}")
        return value

    @field_validator("database_url", "read_replica_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        if value:
            try:
                make_url(value)
            except ArgumentError as exc:
                raise ValueError(f"not a database URL: {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        # frozen model: defaults that depend on other fields are filled in place once, here
        db_file = (self.var_dir / "trading_assist.db").resolve()
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{db_file}")
        if not self.read_replica_url:
            object.__setattr__(self, "read_replica_url", _read_only_twin(self.database_url))
        if not self.checkpoint_url:
            checkpoints = (self.var_dir / "checkpoints.db").resolve()
            object.__setattr__(self, "checkpoint_url", f"sqlite:///{checkpoints}")
        if not self.blob_storage_url:
            object.__setattr__(
                self, "blob_storage_url", f"file://{(self.var_dir / 'blobs').resolve()}"
            )
        if self.llm_provider is LLMProvider.OPENAI_COMPATIBLE and not self.llm_base_url:
            raise ValueError("LLM_BASE_URL must be set when LLM_PROVIDER=openai-compatible")
        return self

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"


def _read_only_twin(database_url: str) -> str:
    """The replica of an embedded SQLite database is the same file opened read-only."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return database_url
    return f"sqlite:///file:{Path(url.database).resolve()}?mode=ro&uri=true"


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one message that names each bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
