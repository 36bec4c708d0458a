"""Where the API is and how fast it may be called, from ``RATE_LIMITED_API_*`` variables."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings import SettingsError
from recipes.rate_limited_api import (
    DEFAULT_LIMITER,
    DEFAULT_MARGIN_MS,
    DEFAULT_MAX_INLINE_WAIT_S,
)

ENV_PREFIX = "RATE_LIMITED_API_"


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    url: str = Field(default="http://127.0.0.1:8080", description="API base URL")
    rate: int = Field(default=50, ge=1, description="requests allowed per period")
    period_s: float = Field(default=1.0, gt=0)
    margin_ms: int = Field(default=DEFAULT_MARGIN_MS, ge=0, le=1_000)
    max_inline_wait_s: float = Field(default=DEFAULT_MAX_INLINE_WAIT_S, ge=0, le=60)
    timeout_s: float = Field(default=10.0, gt=0, le=50)
    max_retries: int = Field(default=5, ge=0)
    min_backoff_ms: int = Field(default=1_000, ge=1)
    max_backoff_ms: int = Field(default=60_000, ge=1)
    limiter: str = Field(default=DEFAULT_LIMITER, pattern=r"^[A-Za-z0-9_.-]+$")

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value.rstrip("/")


def load_api_settings(**overrides: object) -> ApiSettings:
    """Read the environment; a bad value raises ``SettingsError`` naming the variable."""
    try:
        return ApiSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors()]
        raise SettingsError("invalid API settings: " + "; ".join(problems)) from None
