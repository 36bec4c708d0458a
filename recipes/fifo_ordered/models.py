"""Typed payloads: the account event and the "drain this account" doorbell."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

AccountId = str


class AccountEvent(BaseModel):
    account: AccountId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["deposit", "withdraw"]
    amount_cents: int = Field(gt=0)
    seq: int | None = Field(default=None, description="Assigned by the mailbox at enqueue.")


class Drain(BaseModel):
    account: AccountId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
