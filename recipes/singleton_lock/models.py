"""Typed payload of the demo singleton job."""

from __future__ import annotations

from pydantic import BaseModel, Field

Name = str
NAME_PATTERN = r"^[A-Za-z0-9_.:-]+$"


class ReportJob(BaseModel):
    """Rebuild a report: only one rebuild per ``key`` may touch the report at a time."""

    key: Name = Field(min_length=1, max_length=100, pattern=NAME_PATTERN,
                      description="The singleton key: jobs with the same key never overlap.")
    job_id: Name = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    value: str = Field(default="", max_length=10_000, description="Written to the resource.")
    work_ms: int = Field(default=0, ge=0, le=3_600_000, description="Simulated work time.")
    gate: Name | None = Field(default=None, max_length=100, pattern=NAME_PATTERN,
                              description="Demo/test hook: also hold on until this gate opens.")
