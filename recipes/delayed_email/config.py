"""Recipe settings from ``DELAYED_EMAIL_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from recipes.delayed_email import (
    IDEM_LEASE_MS,
    PROMOTE_BATCH,
    PROMOTE_INTERVAL_MS,
    SHORT_DELAY_MAX_MS,
)

SEVEN_DAYS_MS = 7 * 86_400_000  # Dramatiq's documented (unchecked) limit for ``delay``


class EmailConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DELAYED_EMAIL_", extra="ignore", frozen=True)

    smtp_host: str = Field(default="127.0.0.1", min_length=1)
    smtp_port: int = Field(default=1025, ge=1, le=65_535)
    smtp_timeout_s: float = Field(default=5.0, gt=0, le=60)
    short_delay_max_ms: int = Field(default=SHORT_DELAY_MAX_MS, ge=0, le=SEVEN_DAYS_MS)
    max_retries: int = Field(default=8, ge=0)
    min_backoff_ms: int = Field(default=1_000, ge=1)
    max_backoff_ms: int = Field(default=5 * 60_000, ge=1)
    promote_interval_ms: int = Field(default=PROMOTE_INTERVAL_MS, ge=10, le=60_000)
    promote_batch: int = Field(default=PROMOTE_BATCH, ge=1, le=10_000)
    idem_lease_ms: int = Field(default=IDEM_LEASE_MS, ge=100)

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> EmailConfig:
        # A send still under way when its lease ends lets a duplicate copy send it again.
        # The timeout is per socket operation, and a send is up to 8 of them (connect,
        # greeting, EHLO, MAIL, RCPT, DATA, body, final reply).
        if self.idem_lease_ms < 8 * self.smtp_timeout_s * 1000:
            raise ValueError(f"idem_lease_ms ({self.idem_lease_ms}) must be at least 8 x "
                             f"smtp_timeout_s ({self.smtp_timeout_s} s)")
        return self
