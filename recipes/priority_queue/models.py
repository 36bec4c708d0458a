"""Typed payload: a report to render. ``work_ms`` stands in for the rendering work."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Report(BaseModel):
    report_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    customer: str = Field(min_length=1, max_length=64)
    work_ms: int = Field(default=0, ge=0, le=60_000)
