"""Breaker settings, from ``COOKBOOK_BREAKER_*`` environment variables (pydantic-settings).

Every worker must use the same values for one dependency: they are passed to each Lua call.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BreakerConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOKBOOK_BREAKER_", extra="ignore", frozen=True)

    failures: int = Field(default=5, ge=1, description="K: failures that open the breaker...")
    window_s: float = Field(default=30.0, gt=0, description="W: ...within this many seconds.")
    cooldown_s: float = Field(default=15.0, gt=0, description="Open this long, then half-open.")
    probes: int = Field(default=1, ge=1, description="M: calls let through while half-open.")
    probe_lease_s: float = Field(default=30.0, gt=0,
                                 description="A probe that never reports frees its slot after.")
    probe_wait_s: float = Field(default=1.0, gt=0,
                                description="Jobs finding all probes busy come back after.")


class ApiConfig(BaseSettings):
    """Where the demo dependency lives and how long a call may take."""

    model_config = SettingsConfigDict(env_prefix="COOKBOOK_BREAKER_API_", extra="ignore",
                                      frozen=True)

    url: str = Field(default="http://127.0.0.1:8085", pattern=r"^https?://")
    timeout_s: float = Field(default=5.0, gt=0)
