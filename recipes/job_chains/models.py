"""Payloads (an order, the small step messages) and the chain's readable state."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

ChainId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Branch = Literal["email", "invoice"]  # the names in ``BRANCHES``

ChainStatus = Literal["running", "compensating", "completed", "failed"]
StepStatus = Literal["running", "done", "failed", "compensated", "skipped"]


class Item(BaseModel):
    sku: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    qty: int = Field(gt=0, le=1_000)
    price_cents: int = Field(gt=0)


class Order(BaseModel):
    order_id: ChainId
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    items: list[Item] = Field(min_length=1, max_length=100)
    #: Payment token; ``tok_declined``, ``tok_flaky`` and ``tok_slow`` behave as named
    #: (see ``orders.charge``).
    card: str = Field(min_length=3, max_length=64)


class StepJob(BaseModel):
    """The message of a step: only the chain id; inputs and outputs live in the chain state."""

    chain_id: ChainId


class Arrive(BaseModel):
    """A branch reached the fan-in."""

    chain_id: ChainId
    branch: Branch


class Compensate(BaseModel):
    chain_id: ChainId
    step: str = Field(max_length=64)
    reason: str = Field(max_length=2_000)


class StepState(BaseModel):
    status: StepStatus | None = None
    output: dict[str, Any] | None = None
    attempts: int = 0
    error: str | None = None


class Event(BaseModel):
    ts_ms: int
    step: str
    event: str
    detail: str = ""


class ChainState(BaseModel):
    """Everything another process needs to know about one chain (``ChainStore.get``)."""

    chain_id: ChainId
    status: ChainStatus
    order: Order
    steps: dict[str, StepState]
    failed_step: str | None = None
    error: str | None = None
    compensation_error: str | None = None
    created_ms: int
    finished_ms: int | None = None
    history: list[Event] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")
