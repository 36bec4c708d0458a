"""What a batch handler sees: the items still to do, and how to report each one.

A handler calls ``ctx.succeed(item, effect)`` or ``ctx.fail(item, error)`` for every item.
``effect`` is a function that queues Redis writes on a pipeline; ``ctx.batch_effect``, if
set, queues the writes of all the items being committed at once (one HINCRBY per account
instead of one per item). Effects and done marks commit in one MULTI, so an item's effect
and its done mark exist together or not at all. ``ctx.commit()`` does that mid-batch (long
batches keep their progress across a crash); the runner commits the rest at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import redis
from pydantic import BaseModel

from common.errors import RetryLater

M = TypeVar("M", bound=BaseModel)
Effect = Callable[[redis.client.Pipeline], None]


class LeaseLost(RetryLater):
    """Another run took this batch (ours outlived its lease): stop and let that run finish."""


@dataclass(frozen=True)
class BatchItem(Generic[M]):
    seq: str
    data: M
    attempts: int  # failed attempts before this run
    added_ms: int
    body: str  # the item's JSON as stored


@dataclass
class Failure:
    seq: str
    error: BaseException
    item: BatchItem[Any] | None  # None: the stored entry could not be decoded
    raw: str = ""


@dataclass
class BatchContext(Generic[M]):
    client: redis.Redis
    keys: dict[str, str]  # items, done, lease of this batch; stats of its batcher
    token: str
    lease_ms: int
    batch_id: str
    reason: str  # size, age or retry
    items: list[BatchItem[M]]
    staged: dict[str, tuple[BatchItem[M], Effect | None]] = field(default_factory=dict)
    batch_effect: Callable[[redis.client.Pipeline, list[BatchItem[M]]], None] | None = None
    failures: dict[str, Failure] = field(default_factory=dict)
    committed: set[str] = field(default_factory=set)

    def succeed(self, item: BatchItem[M], effect: Effect | None = None) -> None:
        self.failures.pop(item.seq, None)
        self.staged[item.seq] = (item, effect)

    def fail(self, item: BatchItem[M], error: BaseException) -> None:
        self.staged.pop(item.seq, None)
        self.failures[item.seq] = Failure(item.seq, error, item)

    def unreported(self) -> list[BatchItem[M]]:
        return [i for i in self.items if i.seq not in self.staged
                and i.seq not in self.failures and i.seq not in self.committed]

    def commit(self) -> int:
        """Commit the staged successes now: effects + done marks + lease renewal, atomically."""
        if not self.staged:
            return 0
        with self.client.pipeline(transaction=True) as pipe:
            self.begin(pipe)
            self.stage_successes(pipe)
            pipe.set(self.keys["lease"], self.token, px=self.lease_ms)  # renew (or re-take)
            pipe.hincrby(self.keys["stats"], "succeeded", len(self.staged))
            self.execute(pipe)
        return self.mark_committed()

    def begin(self, pipe: redis.client.Pipeline) -> None:
        """WATCH the lease and check no other run holds it, then open the MULTI.

        An expired lease nobody took is fine: no other run can have committed meanwhile,
        and if one takes it before our EXEC, WATCH makes the EXEC fail.
        """
        pipe.watch(self.keys["lease"])
        holder = pipe.get(self.keys["lease"])
        if holder not in (None, self.token.encode(), self.token):
            pipe.reset()
            raise LeaseLost(f"batch {self.batch_id}: lease lost, another run owns it",
                            delay_ms=self.lease_ms)
        pipe.multi()

    def execute(self, pipe: redis.client.Pipeline) -> None:
        try:
            pipe.execute()
        except redis.WatchError:
            raise LeaseLost(f"batch {self.batch_id}: lease taken over during commit",
                            delay_ms=self.lease_ms) from None

    def stage_successes(self, pipe: redis.client.Pipeline, *, mark_done: bool = True) -> None:
        for _, effect in self.staged.values():
            if effect is not None:
                effect(pipe)
        if self.batch_effect is not None and self.staged:
            self.batch_effect(pipe, [item for item, _ in self.staged.values()])
        if self.staged and mark_done:
            pipe.sadd(self.keys["done"], *self.staged)

    def mark_committed(self) -> int:
        count = len(self.staged)
        self.committed.update(self.staged)
        self.staged.clear()
        return count
