"""Typed payloads: the demo's long job, and the progress event as readers receive it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from recipes.progress_tracking import FINAL_KINDS

Kind = Literal["started", "progress", "retrying", "deferred", "completed", "failed"]


class LongJob(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    steps: int = Field(default=10, ge=1, le=10_000)
    step_ms: int = Field(default=300, ge=0, le=600_000)
    fail_at_step: int | None = Field(default=None, ge=1, description="Demo: fail permanently here.")


class ProgressEvent(BaseModel):
    stream_id: str = Field(description="Redis stream id: pass it as --after to resume after it.")
    seq: int = Field(description="1, 2, 3... per job; a jump means trimmed (missed) events.")
    kind: Kind
    percent: float | None = None
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    attempt: int = 1
    ts_ms: int = 0
    missed: int = Field(default=0, description="Events trimmed before this reader saw them.")

    @property
    def final(self) -> bool:
        return self.kind in FINAL_KINDS
