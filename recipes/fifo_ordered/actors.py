"""The drain actor: owns one account at a time and applies its events in order.

Run with: ``uv run dramatiq recipes.fifo_ordered.worker -p 2 -t 8``
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq
import redis

from common.jobs import TypedActor, typed_actor
from recipes.fifo_ordered import LOCK_TTL_MS, QUEUE, RENEW_EVERY
from recipes.fifo_ordered.mailbox import Mailbox
from recipes.fifo_ordered.models import Drain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FifoActors:
    drain: TypedActor[Drain, None]
    mailbox: Mailbox


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str) -> FifoActors:
    mailbox = Mailbox(client, namespace)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="fifo_drain", max_retries=10)
    def fifo_drain(job: Drain) -> None:
        """Apply every queued event of ``job.account``, oldest first."""
        # redis-py's Lock: owner token, TTL, token-checked release and extend.
        lock = client.lock(mailbox.keys(job.account)["lock"], timeout=LOCK_TTL_MS / 1000,
                           blocking=False, thread_local=False)
        if not lock.acquire():
            # Another thread is draining this account; it re-checks the list after release,
            # so this doorbell has nothing left to do.
            return
        applied = 0
        try:
            while mailbox.apply_head(job.account) != 0:
                applied += 1
                if applied % RENEW_EVERY == 0:
                    lock.reacquire()
        finally:
            lock.release()
        # An event pushed while we held the lock rang a doorbell that found it taken.
        if mailbox.pending(job.account):
            fifo_drain.send(job)
        log.debug("applied %d events of %s", applied, job.account)

    return FifoActors(drain=fifo_drain, mailbox=mailbox)
