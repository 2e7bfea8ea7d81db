"""The service's one settings object, read from the environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["production", "development", "test"]

# Only used when APP_ENV is development or test: never a production secret.
INSECURE_DEVELOPMENT_SECRET = "insecure-development-secret-do-not-use-in-production"  # noqa: S105


class MissingSecretError(ValueError):
    """Raised when the service would start without a JWT secret outside development."""


class Settings(BaseSettings):
    """Everything the service reads from its environment (names are the upper-case fields)."""

    # hide_input_in_errors: a validation error must not print DATABASE_URL and its password
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )

    app_env: Environment = "production"
    database_url: str = "sqlite+pysqlite:///./app.db"
    sqlite_module: str | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Connect and read timeout of the cache: a Redis that accepts connections but never answers
    # costs a request at most this long (timeouts are not retried).
    redis_socket_timeout_seconds: float = Field(default=0.25, gt=0)
    celery_broker_url: str | None = None
    celery_result_backend: str | None = None
    celery_queue: str = "celery"
    celery_task_always_eager: bool = False
    jwt_secret: str | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_minutes: int = Field(default=15, gt=0)
    refresh_token_days: int = Field(default=7, gt=0)
    cache_ttl_seconds: int = Field(default=300, gt=0)
    # How often a cache entry whose invalidation failed (Redis down) is deleted again, in the
    # background: other processes stop serving it at most this long (plus
    # REDIS_SOCKET_TIMEOUT_SECONDS) after Redis answers again.
    cache_retry_interval_seconds: float = Field(default=0.5, gt=0)
    external_api_base_url: str = "https://api.external.com"
    external_api_timeout_seconds: float = Field(default=5.0, gt=0)
    # Argon2 cost: the defaults are argon2-cffi's recommended ones (~0.1 s per hash).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # At most this many password hashes run at once (each takes ARGON2_MEMORY_COST_KIB), and
    # at most PASSWORD_HASHING_QUEUE more requests wait for a turn, up to
    # PASSWORD_HASHING_WAIT_SECONDS; any further login or registration is answered 429 with
    # Retry-After at once, so a burst of logins never takes every worker thread or gigabytes.
    password_hashing_slots: int = Field(default=2, ge=1)
    password_hashing_queue: int = Field(default=4, ge=0)
    password_hashing_wait_seconds: float = Field(default=2.0, gt=0)
    # A request body larger than this is refused with 413 before it is parsed.
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    # A request body must have fully arrived this long after the request began, or it gets
    # 408 and the connection is closed: a client that sends less than its Content-Length
    # cannot hold a connection open for ever.
    body_read_timeout_seconds: float = Field(default=5.0, gt=0)
    # How long an SQLite connection waits for another one's write lock before giving up.
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)
    # Off (the examples' contract): anyone creates users with POST /users and reads any
    # user's email. On: POST /users needs an access token, and an email is shown to its
    # owner only.
    private_users: bool = False

    @model_validator(mode="after")
    def _require_secret_outside_development(self) -> Self:
        if self.jwt_secret:
            return self
        if self.app_env in ("development", "test"):
            self.jwt_secret = INSECURE_DEVELOPMENT_SECRET
            return self
        raise MissingSecretError(
            "JWT_SECRET is not set. Set JWT_SECRET to a long random value "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
            "or set APP_ENV=development to use an insecure development secret."
        )

    @model_validator(mode="after")
    def _argon2_memory_fits_its_lanes(self) -> Self:
        # argon2 needs 8 KiB per lane; refused here rather than at the first hash (a 500)
        least = 8 * self.argon2_parallelism
        if self.argon2_memory_cost_kib < least:
            raise ValueError(
                f"ARGON2_MEMORY_COST_KIB must be at least {least} "
                f"(8 KiB per lane, ARGON2_PARALLELISM={self.argon2_parallelism})"
            )
        return self

    @property
    def broker_url(self) -> str:
        """The Celery broker: CELERY_BROKER_URL, or the Redis URL when unset."""
        return self.celery_broker_url or self.redis_url

    @property
    def result_backend(self) -> str:
        """The Celery result backend: CELERY_RESULT_BACKEND, or the broker when unset."""
        return self.celery_result_backend or self.broker_url

    @property
    def signing_secret(self) -> str:
        """The JWT secret; always set once the settings validated."""
        assert self.jwt_secret is not None
        return self.jwt_secret


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once; `get_settings.cache_clear()` re-reads them."""
    return Settings()
