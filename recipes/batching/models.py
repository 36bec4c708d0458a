"""Typed payloads: the example ledger entry, the batch job and the replay job."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

Name = str


class LedgerEntry(BaseModel):
    """One item: post ``amount_cents`` to ``account``. ``entry_id`` names it in logs and DLQ."""

    entry_id: str = Field(min_length=1, max_length=128)
    account: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    amount_cents: int = Field(ge=-10_000_000, le=10_000_000)

    @field_validator("amount_cents")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0")
        return value


class BatchJob(BaseModel):
    """The one message per micro-batch: which batcher, which batch record."""

    batcher: Name = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class ReAdd(BaseModel):
    """Replay of a dead-lettered item: put it back into its batcher's pending list."""

    batcher: Name = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    item: dict[str, Any]
