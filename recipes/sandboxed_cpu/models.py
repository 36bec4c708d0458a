"""Typed payload: which registered task to run, its integer arguments, its time limit."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TaskName = Literal["burn", "noop", "segfault", "exit", "allocate", "spin", "fail"]


class CpuJob(BaseModel):
    job_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    task: TaskName
    args: list[int] = Field(default_factory=list, max_length=8)
    timeout_s: float | None = Field(default=None, gt=0, le=3_600,
                                    description="Hard limit; None uses the sandbox default.")
