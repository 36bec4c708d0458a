"""Recipe settings from ``DELAYED_EMAIL_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from recipes.delayed_email import PROMOTE_BATCH, PROMOTE_INTERVAL_MS, SHORT_DELAY_MAX_MS

SEVEN_DAYS_MS = 7 * 86_400_000  # Dramatiq's documented (unchecked) limit for ``delay``


class EmailConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DELAYED_EMAIL_", extra="ignore", frozen=True)

    smtp_host: str = Field(default="127.0.0.1", min_length=1)
    smtp_port: int = Field(default=1025, ge=1, le=65_535)
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=60)
    short_delay_max_ms: int = Field(default=SHORT_DELAY_MAX_MS, ge=0, le=SEVEN_DAYS_MS)
    max_retries: int = Field(default=8, ge=0)
    min_backoff_ms: int = Field(default=1_000, ge=1)
    max_backoff_ms: int = Field(default=5 * 60_000, ge=1)
    promote_interval_ms: int = Field(default=PROMOTE_INTERVAL_MS, ge=10, le=60_000)
    promote_batch: int = Field(default=PROMOTE_BATCH, ge=1, le=10_000)
