"""Tunables, overridable from the environment (``COOKBOOK_PRIORITY_*``).

Producers and workers must agree on ``levels`` (they name the queues and actors).
"""

from __future__ import annotations

from dramatiq.middleware import MiddlewareError
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from recipes.priority_queue import DEFAULT_LEVELS, EVENT_LOG_MAX, URGENT_IDLE_MS


class LevelConfigError(MiddlewareError, ValueError):
    """The settings cannot work with this worker; raised at boot so the worker never starts.

    (A ``MiddlewareError``: Dramatiq logs and swallows any other exception from a hook.)
    """


class PriorityConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOKBOOK_PRIORITY_", extra="ignore",
                                      frozen=True)

    levels: tuple[str, ...] = Field(
        default=DEFAULT_LEVELS, min_length=2, max_length=10,
        description="Level names, most urgent first (JSON list in the environment).")
    urgent_idle_ms: int = Field(
        default=URGENT_IDLE_MS, ge=10, le=2_000,
        description="Longest wait of an idle consumer of a level above the lowest when no "
                    "doorbell rings (a send through a broker without LevelTuning).")
    reserved_threads: int = Field(
        default=0, ge=0,
        description="Anti-starvation: threads per worker process that no level above the "
                    "lowest may occupy (0: urgent work may take every thread).")
    event_log_max: int = Field(default=EVENT_LOG_MAX, ge=0,
                               description="Start/end events kept in Redis (0: no log).")

    @field_validator("levels")
    @classmethod
    def _check_levels(cls, levels: tuple[str, ...]) -> tuple[str, ...]:
        for level in levels:
            if not level.isidentifier() or not level.islower():
                raise ValueError(f"level {level!r} must be a lowercase identifier")
        if len(set(levels)) != len(levels):
            raise ValueError(f"levels must be distinct, got {list(levels)}")
        return levels

    @property
    def lowest(self) -> str:
        return self.levels[-1]

    def check_threads(self, threads: int) -> None:
        """Fail a worker's boot when the reservation leaves urgent levels no thread at all."""
        if self.reserved_threads >= threads:
            raise LevelConfigError(
                f"COOKBOOK_PRIORITY_RESERVED_THREADS={self.reserved_threads} must be below the "
                f"worker's thread count ({threads}): urgent levels would never run")
