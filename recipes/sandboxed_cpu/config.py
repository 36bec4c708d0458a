"""Sandbox settings from the environment (``COOKBOOK_SANDBOX_*``), and the sandbox they make."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from recipes.sandboxed_cpu import DEFAULT_MAX_TASKS, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S
from recipes.sandboxed_cpu.progress import init_progress
from recipes.sandboxed_cpu.sandbox import Sandbox


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOKBOOK_SANDBOX_", extra="ignore",
                                      frozen=True)

    processes: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, le=256)
    memory_mb: int | None = Field(default=DEFAULT_MEMORY_MB, ge=64)
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    max_tasks: int = Field(default=DEFAULT_MAX_TASKS, ge=0)
    start_method: str = Field(default="forkserver", pattern="^(forkserver|spawn|fork)$")


def make_sandbox(config: SandboxSettings, *, redis_url: str, namespace: str) -> Sandbox:
    """A sandbox whose children report progress to Redis at ``redis_url``."""
    return Sandbox(processes=config.processes, memory_mb=config.memory_mb,
                   timeout_s=config.timeout_s, max_tasks=config.max_tasks,
                   start_method=config.start_method,
                   preload=["recipes.sandboxed_cpu.tasks"],
                   child_hook=init_progress, child_hook_args=(redis_url, namespace))
