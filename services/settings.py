"""Infrastructure settings: one object, read from the environment and `.env`.

Every backing service has an embedded default so that the platform runs on one machine with no
configuration at all; setting a variable switches that service to its real counterpart. Per-run
options (who is asking, limits for one request) are not here: they travel in `CallerContext`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class LLMProvider(StrEnum):
    """Where the local model runs."""

    EMBEDDED = "embedded"  # llama.cpp inside this process (xllamacpp)
    OPENAI_COMPATIBLE = "openai-compatible"  # any OpenAI-compatible server at LLM_BASE_URL


class AuthMode(StrEnum):
    """Who may call the HTTP surface and how they prove it."""

    LOCAL = "local"  # the operator's own machine: loopback only
    ENTRA = "entra"  # Microsoft Entra ID bearer tokens


class TracesExporter(StrEnum):
    """Where OpenTelemetry spans go (services/telemetry.py)."""

    NONE = "none"
    CONSOLE = "console"  # one JSON object per span on standard output
    OTLP = "otlp"  # OTLP over HTTP to a collector
    AZURE_MONITOR = "azure_monitor"  # Application Insights, APPLICATIONINSIGHTS_CONNECTION_STRING


class EmbeddedModel(StrEnum):
    QWEN_CODER_1_5B = "qwen2.5-coder-1.5b"
    QWEN_CODER_0_5B = "qwen2.5-coder-0.5b"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "trading-assist"


_MODEL_ID = r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$"  # e.g. qwen2.5:3b, openai/gpt-4o-mini
_ORIGIN = r"https?://(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?"  # as a browser sends it


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
    routing_vocabulary_file: Path | None = Field(
        None,
        description="YAML file of the words, per table and language, that tell the router what "
        "data a request touches; default: the packaged agents/routing/vocabulary.yaml.",
    )
    semantic_model_file: Path | None = Field(
        None,
        description="YAML file declaring what the business's words mean (segments, measures, "
        "synonyms, conventions, instructions); default: services/semantic/trading.yaml.",
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
    sql_metric_path: bool = Field(
        False,
        description="Aggregate questions the semantic model's measures fit are first answered "
        "from the measures the model picks (off: measured below raw SQL, evals/JOURNAL.md).",
    )

    # -- actions --
    action_confirmation_ttl_s: Annotated[float, Field(gt=0, le=86400)] = Field(
        600.0, description="How long a write waits for the person's yes before it expires."
    )

    # -- notifications --
    smtp_host: str | None = Field(
        None, description="SMTP server for email notifications; unset: emails are logged, not sent."
    )
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = Field(587, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP login; unset: no login.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (environment only).")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field(
        "Trading AI Assist <no-reply@localhost>", description="From address of the emails."
    )
    smtp_timeout_s: Annotated[float, Field(gt=0, le=120)] = Field(
        10.0, description="Seconds to wait for the SMTP server before an attempt fails."
    )
    notify_max_attempts: Annotated[int, Field(ge=1, le=20)] = Field(
        5, description="Delivery attempts per notification, the first included, before failed."
    )
    notify_backoff_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        30.0, description="Wait before the first retry; doubled after each failed attempt."
    )
    notify_backoff_max_s: Annotated[float, Field(gt=0, le=86400)] = Field(
        3600.0, description="Longest wait between two delivery attempts."
    )
    notify_deliver_every_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        15.0, description="How often a serving process sends the notifications that are due."
    )

    # -- market data --
    market_batch_size: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        65_536,
        description="Price events the pipeline processes per vectorised batch; bigger batches "
        "amortise numpy's per-call cost, smaller ones publish sooner and fit the CPU cache.",
    )
    market_stream_queue: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        1000,
        description="Events buffered per /v1/stream client; a client that falls this far "
        "behind is disconnected (it reconnects) rather than silently missing a fill.",
    )
    market_alerts_per_user: Annotated[int, Field(ge=1, le=10_000)] = Field(
        50, description="Most active price alerts one customer may have at a time."
    )

    # -- trading --
    trading_policy_file: Path | None = Field(
        None,
        description="YAML with per-tier order limits and the commission schedule; default: the "
        "packaged services/trading/policy.yaml (the demo fee schedule's figures).",
    )
    trading_slippage_bps: Annotated[float, Field(ge=0, le=1000)] = Field(
        5.0,
        description="Paper fills of market and stop orders move this many basis points "
        "against the customer from the latest price.",
    )
    trading_margin_multiplier: Annotated[float, Field(ge=1, le=10)] = Field(
        2.0, description="A margin account may spend its cash times this on buys."
    )

    # -- events --
    events_exchange: str = Field(
        "trading-assist.events",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$",
        description="RabbitMQ topic exchange the events are published to; consumers' queues "
        "are named after it.",
    )
    events_batch_size: Annotated[int, Field(ge=1, le=1000)] = Field(
        100, description="Outbox rows one dispatcher claims per round."
    )
    events_poll_s: Annotated[float, Field(gt=0, le=60)] = Field(
        1.0, description="How long the dispatcher waits when nothing in the outbox is due."
    )
    events_lease_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        60.0, description="How long a claimed batch stays out of other dispatchers' hands."
    )
    events_publish_timeout_s: Annotated[float, Field(gt=0, le=300)] = Field(
        10.0, description="Longest wait for the bus to accept one event."
    )
    events_retry_backoff_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        1.0, description="Delay before an event the bus refused is tried again; doubled each time."
    )
    events_retry_backoff_max_s: Annotated[float, Field(gt=0, le=86400)] = Field(
        300.0, description="Longest delay between two delivery attempts of one event."
    )
    events_consumer_attempts: Annotated[int, Field(ge=1, le=50)] = Field(
        5, description="Attempts a consumer gets per event before it is dead-lettered."
    )
    events_consumer_backoff_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        1.0, description="Delay before a consumer's first retry; doubled for each further one."
    )
    events_consumer_backoff_max_s: Annotated[float, Field(gt=0, le=86400)] = Field(
        60.0, description="Longest delay between two attempts of one consumer."
    )
    eventgrid_access_key: SecretStr | None = Field(
        None,
        description="Access key of the Event Grid topic in MESSAGE_BUS_URL (eventgrid://...); "
        "unset: managed identity through azure-identity.",
    )

    # -- identity and protection of the HTTP surface --
    auth_mode: AuthMode = Field(
        AuthMode.LOCAL,
        description="local: X-User-Id, dev tokens and API keys, loopback HOST only; entra: "
        "Microsoft Entra ID bearer tokens (and API keys).",
    )
    entra_tenant_id: str = Field("", description="Entra tenant (directory) id; AUTH_MODE=entra.")
    entra_audience: str = Field(
        "", description="Audience the tokens are issued for: the API's app id URI or client id."
    )
    entra_issuer: str = Field(
        "", description="Expected issuer; default https://login.microsoftonline.com/{tid}/v2.0."
    )
    entra_jwks_url: str = Field(
        "", description="Signing keys; default the tenant's discovery keys URL."
    )
    entra_jwks_cooldown_s: Annotated[float, Field(ge=0, le=3600)] = Field(
        60.0,
        description="Least seconds between fetches of the key set when a token names an unknown "
        "key id (the tenant rotated its keys).",
    )
    auth_leeway_s: Annotated[int, Field(ge=0, le=300)] = Field(
        60, description="Clock skew allowed on a token's exp and nbf, in seconds."
    )
    chainlit_auth_secret: SecretStr | None = Field(
        None,
        description="Signs the chat UI's session cookies (environment only); unset: a random "
        "one made once per install in VAR_DIR/auth (changing it signs everyone out).",
    )
    rate_limit: str = Field(
        "120/minute",
        description="Requests per principal and route (limits syntax, e.g. 120/minute; "
        "several separated by ';').",
    )
    rate_limit_chat: str = Field(
        "20/minute", description="Requests per principal to the chat routes (they run a model)."
    )
    rate_limit_auth_failures: str = Field(
        "30/minute",
        description="Refused credentials per client address before all of its requests get 429.",
    )
    rate_limit_sign_in_account: str = Field(
        "5/15 minutes",
        description="Failed chat-UI sign-ins per account; past it the account's sign-in is "
        "refused, the right password too, until the window has passed.",
    )
    rate_limit_sign_in_client: str = Field(
        "20/15 minutes",
        description="Failed chat-UI sign-ins per client address, whatever the account; past "
        "it every sign-in from that address is refused until the window has passed.",
    )
    rate_limit_namespace: str = Field(
        "trading-assist", description="Prefix of the rate-limit keys in Redis."
    )
    rate_limit_strategy: str = Field(
        "moving-window", pattern="^(moving-window|fixed-window)$", description="How to count."
    )
    max_body_bytes: Annotated[int, Field(ge=1024)] = Field(
        1024 * 1024,
        description="Largest request body except document uploads (MAX_UPLOAD_BYTES), refused "
        "with 413 while it is being read.",
    )
    log_format: str = Field(
        "text", pattern="^(text|json)$", description="Log lines as text or JSON."
    )
    otel_traces_exporter: TracesExporter = Field(
        TracesExporter.NONE,
        description="Where traces of requests, graph steps, model calls, SQL and tool calls go.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        description="Collector base URL for OTEL_TRACES_EXPORTER=otlp (e.g. http://host:4318); "
        "unset: http://localhost:4318.",
    )
    otel_service_name: str = Field(
        "trading-assist", min_length=1, description="service.name of the spans."
    )
    applicationinsights_connection_string: SecretStr | None = Field(
        None,
        description="Application Insights connection string for "
        "OTEL_TRACES_EXPORTER=azure_monitor (environment only).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (https://shop.example.com) whose pages may call "
        "the API from a browser, e.g. through the embeddable widget; empty: none.",
    )

    # -- payments and kyc --
    stripe_api_key: SecretStr | None = Field(
        None, description="Stripe secret key (environment only); unset: payments are off."
    )
    stripe_webhook_secret: SecretStr | None = Field(
        None, description="Signing secret of the Stripe webhook endpoint (whsec_...)."
    )
    stripe_api_base: str | None = Field(
        None, description="Stripe API address; unset: Stripe itself (tests: localstripe)."
    )
    stripe_legacy_proration: bool = Field(
        False, description="Send `prorate` instead of `proration_behavior` (localstripe)."
    )
    payments_currency: str = Field(
        "usd", pattern="^[a-z]{3}$", description="Currency of deposits and plans (ISO, lower)."
    )
    plan_price_basic: Annotated[float, Field(ge=0)] = Field(
        9.0, description="Monthly price of the basic plan."
    )
    plan_price_pro: Annotated[float, Field(ge=0)] = Field(
        29.0, description="Monthly price of the pro plan."
    )
    plan_price_premium: Annotated[float, Field(ge=0)] = Field(
        99.0, description="Monthly price of the premium plan."
    )
    payments_authenticate_url: str = Field(
        "http://127.0.0.1:8000/pay/authenticate",
        description="Page where a customer completes 3-D Secure when Stripe gives no redirect.",
    )
    dunning_retry_days: Annotated[list[int], NoDecode] = Field(
        [1, 3, 5],
        description="Days after a failed renewal (comma-separated) to retry; after the last "
        "one the subscription is cancelled.",
    )
    kyc_provider: str = Field(
        "manual",
        pattern="^(manual|stripe_identity|test)$",
        description="Who checks identities: manual (staff review only), stripe_identity, or "
        "test (local sessions finished by signed test events).",
    )
    kyc_validity_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        365, description="How long an approved identity check stays valid."
    )
    kyc_expiry_notice_days: Annotated[int, Field(ge=0, le=365)] = Field(
        30, description="Days before an approval lapses that the customer is told (0: never)."
    )
    dunning_every_s: Annotated[float, Field(ge=0, le=86400)] = Field(
        3600.0,
        description="How often a serving process retries the past-due renewals that are due "
        "(0: not in this process; run `trading-assist payments dunning` instead).",
    )
    kyc_expiry_every_s: Annotated[float, Field(ge=0, le=86400)] = Field(
        3600.0,
        description="How often a serving process expires lapsed identity checks and sends the "
        "expiry notices (0: not in this process; run `trading-assist payments expire-kyc`).",
    )

    @field_validator(
        "openrouter_fallback_models", "dunning_retry_days", "cors_origins", mode="before"
    )
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

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not re.fullmatch(_ORIGIN, origin):
                raise ValueError(f"not an origin (scheme://host[:port], no path): {origin!r}")
        return value

    @field_validator(
        "rate_limit",
        "rate_limit_chat",
        "rate_limit_auth_failures",
        "rate_limit_sign_in_account",
        "rate_limit_sign_in_client",
    )
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"not a rate limit such as 120/minute: {value!r}") from None
        return value

    @field_validator("dunning_retry_days")
    @classmethod
    def _rising_days(cls, value: list[int]) -> list[int]:
        if not value or value[0] < 1 or any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("give rising whole days after the failed renewal, e.g. 1,3,5")
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
        if self.events_lease_s <= self.events_publish_timeout_s:
            raise ValueError("EVENTS_LEASE_S must be longer than EVENTS_PUBLISH_TIMEOUT_S")
        check_bind(self.auth_mode, self.host)
        if (
            self.otel_traces_exporter is TracesExporter.AZURE_MONITOR
            and self.applicationinsights_connection_string is None
        ):
            raise ValueError(
                "APPLICATIONINSIGHTS_CONNECTION_STRING must be set when "
                "OTEL_TRACES_EXPORTER=azure_monitor"
            )
        if self.auth_mode == AuthMode.ENTRA:
            if not self.entra_tenant_id or not self.entra_audience:
                raise ValueError(
                    "ENTRA_TENANT_ID and ENTRA_AUDIENCE must be set when AUTH_MODE=entra"
                )
            authority = f"https://login.microsoftonline.com/{self.entra_tenant_id}"
            if not self.entra_issuer:
                object.__setattr__(self, "entra_issuer", f"{authority}/v2.0")
            if not self.entra_jwks_url:
                object.__setattr__(self, "entra_jwks_url", f"{authority}/discovery/v2.0/keys")
        return self

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(auth_mode: AuthMode, host: str) -> None:
    """Local mode trusts X-User-Id and treats a request without credentials as the operator,
    which is only safe when nobody else can reach the port."""
    if auth_mode == AuthMode.LOCAL and not is_loopback(host):
        raise ValueError(
            f"AUTH_MODE=local may only serve a loopback HOST (127.0.0.1, ::1, localhost), not "
            f"HOST={host}; set AUTH_MODE=entra to serve other machines"
        )


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
