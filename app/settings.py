"""Service configuration: one pydantic-settings object, read from S321_* variables."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_KEY_PEPPER = "dev-only-pepper-change-me"


class LogSettings(BaseSettings):
    """Logging alone: processes that need nothing else (the ACE simulator) read just this."""

    model_config = SettingsConfigDict(env_prefix="S321_", env_file=".env", extra="ignore")

    # Log lines as JSON objects, or plain text for a terminal.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(LogSettings):
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./s321.db"
    host: str = "127.0.0.1"
    port: int = 8000

    # Mixed into every API key hash, so a stolen database alone cannot be used to
    # check guessed keys offline.
    api_key_pepper: str = DEFAULT_KEY_PEPPER

    upload_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    upload_max_rows: int = Field(default=2_000_000, gt=0)
    # Errors listed inline in an upload's response; the rest are paged from /errors.
    upload_inline_errors: int = Field(default=1_000, ge=0)
    # Uploads ingesting at once, per organisation and per process: one tenant's burst of
    # large files cannot take every worker thread and the memory of the process.
    upload_concurrency_per_org: int = Field(default=2, ge=1)
    upload_concurrency: int = Field(default=4, ge=1)
    # Uploads are read, judged, priced and stored in this many child processes at this
    # niceness, so that they take neither the API's GIL nor its CPU first
    # (app/intake/processes.py); 0: on the API process's threads. By default half the cores:
    # the other half, and the database's share, stay with every other tenant's requests.
    ingest_processes: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2),
                                  ge=0, le=64)
    ingest_nice: int = Field(default=10, ge=0, le=19)
    # False: uploads store HAWBs as "received" without judging them (bulk backfills); an
    # administrator's re-evaluation of the dates judges them later.
    judge_at_upload: bool = True
    # False: uploads judge eligibility but leave entry types and duties to an
    # administrator's re-evaluation (bulk backfills of days when no duty applied, and
    # bench.duties, which measures what pricing adds to an upload).
    price_at_upload: bool = True

    # The HTTP server (`s321 serve`, app/web/server.py): the most a request's line and
    # headers may take (more: 431), how long a client may take to send them and may leave a
    # request body stalled (then 408 and the connection is closed), and how long an idle
    # keep-alive connection is kept.
    http_max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    http_header_timeout_s: float = Field(default=20.0, gt=0)
    http_body_timeout_s: float = Field(default=60.0, gt=0)
    http_keepalive_s: int = Field(default=5, ge=1)
    # Writes (POST, PUT, PATCH, DELETE) through the API per organisation, as a token
    # bucket of this many per minute holding at most the burst; more get 429 with
    # Retry-After. Counted in each process (app/web/rates.py). 0 in either: no limit.
    write_rate_per_org: int = Field(default=1200, ge=0)
    write_burst_per_org: int = Field(default=300, ge=0)

    # Customs gateway: an adapter registered under the "s321.ace_gateways" entry points.
    ace_gateway: str = "simulated"
    # The "http" adapter: an ABI service speaking app/ace_gateway/contract.py.
    ace_http_url: str = "http://127.0.0.1:9086"
    ace_http_token: str | None = None
    ace_http_timeout_s: float = Field(default=10.0, gt=0)
    ace_http_attempts: int = Field(default=5, ge=1)
    ace_http_backoff_s: float = Field(default=0.5, ge=0)
    ace_http_backoff_max_s: float = Field(default=30.0, ge=0)

    # The submission worker: in the API process (the embedded default), or run on its own
    # with `s321 worker` (set false on the API processes then).
    worker_in_process: bool = True
    worker_batch_size: int = Field(default=200, ge=1, le=1000)
    worker_idle_sleep_s: float = Field(default=1.0, gt=0)
    # A claim older than this is taken to belong to a dead worker and is submitted again.
    worker_claim_lease_s: float = Field(default=300.0, gt=0)
    # How often the analytics refresher (app/workers/analytics.py) brings the summaries of
    # changed days up to date.
    analytics_refresh_s: float = Field(default=60.0, gt=0)
    # ... resting longer after a long pass, so that passes take at most this share of the time.
    analytics_refresh_share: float = Field(default=0.1, gt=0, le=1)
    # CAPE files of the IEEPA refunds (app/analytics/refunds/data/cape.csv): entry numbers
    # per file (CSMS #68315804: at most 9,999; a larger value is lowered to it), the header
    # row (empty: none) and dashes in entry numbers. The header and the dashes come from a
    # secondary summary of CBP's CAPE guide (unverified): switch them if ACE says otherwise.
    cape_part_size: int = Field(default=9999, ge=1, le=9999)
    cape_header: str = "Entry Number"
    cape_entry_dashes: bool = False

    # The outbox relay: in the API process (the embedded default), or `s321 relay`.
    relay_in_process: bool = True
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Kafka: events are published when set (host:port[,host:port]); webhooks either way.
    kafka_bootstrap: str | None = None
    kafka_topic_prefix: str = "s321"
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_backoff_s: float = Field(default=30.0, ge=0)
    webhook_backoff_max_s: float = Field(default=3600.0, ge=0)
    # Failed attempts in a row after which a subscription is marked failing and held.
    webhook_failure_threshold: int = Field(default=10, ge=1)
    # Deliveries to loopback, private, link-local and other non-public addresses are
    # refused unless this is set (a receiver on the same host or network, in development).
    webhook_allow_private_targets: bool = False
    # The console's cookies carry Secure when this is true; unset, in production or when the
    # request itself came over https (behind a TLS proxy the service may only see http).
    console_cookie_secure: bool | None = None
    # Subscriptions an organisation may hold, and subscriptions delivered to at once (one
    # slow receiver then delays only its own deliveries).
    webhook_max_subscriptions: int = Field(default=20, ge=1, le=1000)
    webhook_parallel_deliveries: int = Field(default=8, ge=1, le=64)

    # A bearer token /metrics then requires (unset: open, it holds counts only), and how
    # long /readyz waits for the database and Kafka.
    metrics_token: str | None = None
    readiness_timeout_s: float = Field(default=2.0, gt=0, le=30)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production":
            if self.api_key_pepper == DEFAULT_KEY_PEPPER or len(self.api_key_pepper) < 16:
                raise ValueError(
                    "S321_API_KEY_PEPPER must be set to a private value of at least 16 "
                    "characters in production"
                )
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs S321_DATABASE_URL pointing at PostgreSQL")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
