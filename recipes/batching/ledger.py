"""The example handler: post ledger entries to account balances, a batch at a time.

An entry to a *frozen* account is refused for good (``PermanentError``: dead-letter now);
an entry to an *unavailable* account fails for now (``TransientError``: retried alone,
with backoff). Every other entry adds its amount to the balance. The effect is two Redis
writes staged on the commit pipeline, so it lands exactly once together with the done mark.

``applied`` counts how many times each entry's effect landed (the exactly-once proof);
``seen`` counts how many times the handler was given the entry (retries, crash reruns).
"""

from __future__ import annotations

import time

import redis

from common.errors import PermanentError, TransientError
from common.shutdown import raise_if_stopping
from recipes.batching import ledger_keys
from recipes.batching.context import BatchContext, Effect
from recipes.batching.models import LedgerEntry


class Ledger:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.keys = ledger_keys(namespace)

    def effect(self, entry: LedgerEntry) -> Effect:
        def apply(pipe: redis.client.Pipeline) -> None:
            pipe.hincrby(self.keys["balances"], entry.account, entry.amount_cents)
            pipe.hincrby(self.keys["applied"], entry.entry_id, 1)
        return apply

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
        pipe = self.client.pipeline(transaction=False)
        pipe.smembers(self.keys["frozen"])
        pipe.smembers(self.keys["unavailable"])
        for item in ctx.items:
            pipe.hincrby(self.keys["seen"], item.data.entry_id, 1)
        frozen, unavailable, *_ = pipe.execute()
        for n, item in enumerate(ctx.items, 1):
            account = item.data.account
            if account.encode() in frozen:
                ctx.fail(item, PermanentError(f"account {account} is frozen"))
            elif account.encode() in unavailable:
                ctx.fail(item, TransientError(f"ledger of account {account} is unavailable"))
            else:
                ctx.succeed(item, self.effect(item.data))
            if work_ms:
                time.sleep(work_ms / 1000)
            if commit_every and n % commit_every == 0:
                ctx.commit()
                raise_if_stopping()  # graceful shutdown: the rest resumes in a later run


def _counts(client: redis.Redis, key: str) -> dict[str, int]:
    raw: dict[bytes, bytes] = client.hgetall(key)  # type: ignore[assignment]
    return {k.decode(): int(v) for k, v in raw.items()}
