"""Connection and runtime settings, read from environment variables (pydantic-settings).

Copy alone: needs only ``pydantic-settings``.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "COOKBOOK_"


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable."""


class Settings(BaseSettings):
    """Everything a broker, worker or tool needs to reach Redis.

    ``REDIS_URL`` keeps its common unprefixed name; the rest use the ``COOKBOOK_`` prefix.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias="REDIS_URL",
        description="redis://, rediss:// (TLS) or unix:// URL; user and password go in the URL.",
    )
    namespace: str = Field(default="cookbook", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    pool_size: int = Field(default=32, ge=2, le=10_000)
    connect_timeout_s: float = Field(default=0.5, gt=0, le=30)
    socket_timeout_s: float = Field(default=5.0, gt=0, le=300)
    heartbeat_timeout_ms: int = Field(default=15_000, ge=1_000)
    recovery_interval_ms: int = Field(default=2_000, ge=100)
    dead_letter_max_age_days: float | None = Field(
        default=None, gt=0, description="None keeps dead letters until purged."
    )
    dead_letter_max_count: int | None = Field(default=None, ge=1)
    critical_queues: tuple[str, ...] = ()
    max_message_bytes: int = Field(default=1_048_576, ge=1_024)

    @field_validator("redis_url")
    @classmethod
    def _check_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"redis", "rediss", "unix"}:
            raise ValueError(f"scheme must be redis, rediss or unix, not {scheme!r}")
        return value

    @property
    def redis_url_safe(self) -> str:
        """The URL with any password masked, for logs and error messages."""
        return redact_url(self.redis_url)

    @property
    def recovery_bound_s(self) -> float:
        """Upper bound for a dead worker's messages to be back on their queue."""
        return (self.heartbeat_timeout_ms + 2 * self.recovery_interval_ms) / 1000


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def env_name(field: str) -> str:
    if field == "redis_url":
        return "REDIS_URL"
    return ENV_PREFIX + field.upper()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; a bad value raises ``SettingsError`` naming it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            name = env_name(field.lower()) if field != "REDIS_URL" else field
            # Never echo the rejected value: it could be a URL holding a password.
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
