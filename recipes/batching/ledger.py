"""The example handler: post ledger entries to account balances, a batch at a time.

An entry to a *frozen* account is refused for good (``PermanentError``: dead-letter now);
an entry to an *unavailable* account fails for now (``TransientError``: retried alone,
with backoff). Every other entry adds its amount to the balance. The effect is staged on
the commit pipeline for all committed entries at once (one HINCRBY per account, one Lua
call for the per-entry counters), so it lands exactly once together with the done marks.

``applied`` counts how many times each entry's effect landed (the exactly-once proof);
``seen`` counts how many times the handler was given the entry (retries, crash reruns).
"""

from __future__ import annotations

import time
from collections import Counter

import redis

from common.errors import PermanentError, TransientError
from common.shutdown import raise_if_stopping
from recipes.batching import ledger_keys
from recipes.batching.context import BatchContext, BatchItem, Effect
from recipes.batching.models import LedgerEntry

# KEYS: one hash. ARGV: fields. One command instead of one HINCRBY per item.
_COUNT_EACH = """
for _, f in ipairs(ARGV) do redis.call('hincrby', KEYS[1], f, 1) end
return #ARGV
"""


class Ledger:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.keys = ledger_keys(namespace)
        self._count_each = client.register_script(_COUNT_EACH)

    def effect(self, entry: LedgerEntry) -> Effect:
        def apply(pipe: redis.client.Pipeline) -> None:
            pipe.hincrby(self.keys["balances"], entry.account, entry.amount_cents)
            pipe.hincrby(self.keys["applied"], entry.entry_id, 1)
        return apply

    def apply_all(self, pipe: redis.client.Pipeline,
                  items: list[BatchItem[LedgerEntry]]) -> None:
        """The same writes as ``effect``, for many entries at once."""
        totals: Counter[str] = Counter()
        for item in items:
            totals[item.data.account] += item.data.amount_cents
        for account, cents in totals.items():
            pipe.hincrby(self.keys["balances"], account, cents)
        self._count_each(keys=[self.keys["applied"]], args=[i.data.entry_id for i in items],
                         client=pipe)

    def freeze(self, *accounts: str) -> None:
        self.client.sadd(self.keys["frozen"], *accounts)

    def unfreeze(self, *accounts: str) -> None:
        self.client.srem(self.keys["frozen"], *accounts)

    def set_unavailable(self, *accounts: str, unavailable: bool = True) -> None:
        command = self.client.sadd if unavailable else self.client.srem
        command(self.keys["unavailable"], *accounts)

    def applied(self) -> dict[str, int]:
        return _counts(self.client, self.keys["applied"])

    def seen(self) -> dict[str, int]:
        return _counts(self.client, self.keys["seen"])

    def balances(self) -> dict[str, int]:
        return _counts(self.client, self.keys["balances"])

    def handle(self, ctx: BatchContext[LedgerEntry], *, work_ms: float = 0,
               commit_every: int = 0) -> None:
        ctx.batch_effect = self.apply_all
        pipe = self.client.pipeline(transaction=False)
        pipe.smembers(self.keys["frozen"])
        pipe.smembers(self.keys["unavailable"])
        self._count_each(keys=[self.keys["seen"]], args=[i.data.entry_id for i in ctx.items],
                         client=pipe)
        frozen, unavailable, _ = pipe.execute()
        for n, item in enumerate(ctx.items, 1):
            account = item.data.account
            if account.encode() in frozen:
                ctx.fail(item, PermanentError(f"account {account} is frozen"))
            elif account.encode() in unavailable:
                ctx.fail(item, TransientError(f"ledger of account {account} is unavailable"))
            else:
                ctx.succeed(item)
            if work_ms:
                time.sleep(work_ms / 1000)
            if commit_every and n % commit_every == 0:
                ctx.commit()
                raise_if_stopping()  # graceful shutdown: the rest resumes in a later run


def _counts(client: redis.Redis, key: str) -> dict[str, int]:
    raw: dict[bytes, bytes] = client.hgetall(key)  # type: ignore[assignment]
    return {k.decode(): int(v) for k, v in raw.items()}
