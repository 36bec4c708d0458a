"""Tunables of a batcher, overridable from the environment (``COOKBOOK_BATCHING_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from recipes.batching import (
    DEFAULT_LEASE_MS,
    DEFAULT_MAX_AGE_MS,
    DEFAULT_MAX_BACKOFF_MS,
    DEFAULT_MAX_ITEM_RETRIES,
    DEFAULT_MIN_BACKOFF_MS,
    DEFAULT_SIZE,
)


class BatchConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOKBOOK_BATCHING_", extra="ignore",
                                      frozen=True)

    size: int = Field(default=DEFAULT_SIZE, ge=1, le=3_000,
                      description="Flush when this many items wait (bounded by Lua's stack).")
    max_age_ms: int = Field(default=DEFAULT_MAX_AGE_MS, ge=10,
                            description="Flush when the oldest waiting item is this old.")
    lease_ms: int = Field(default=DEFAULT_LEASE_MS, ge=500,
                          description="Longest gap between two commits of one batch job.")
    max_item_retries: int = Field(default=DEFAULT_MAX_ITEM_RETRIES, ge=0)
    min_backoff_ms: int = Field(default=DEFAULT_MIN_BACKOFF_MS, ge=0)
    max_backoff_ms: int = Field(default=DEFAULT_MAX_BACKOFF_MS, ge=0)
    # Knobs of the example ledger handler (demo and crash tests), not of the batcher.
    work_ms: float = Field(default=0, ge=0, description="Simulated work per item.")
    commit_every: int = Field(default=100, ge=0,
                              description="Commit done items every N (0: once per batch).")
