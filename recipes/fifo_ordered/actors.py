"""The drain actor: owns one account at a time and applies its events in order.

Run with: ``uv run dramatiq recipes.fifo_ordered.worker -p 2 -t 8``
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage

from common.errors import RetryLater
from common.jobs import TypedActor, typed_actor
from recipes.fifo_ordered import LOCK_TTL_MS, PARK_POLL_MS, QUEUE, RENEW_EVERY
from recipes.fifo_ordered.mailbox import Mailbox
from recipes.fifo_ordered.models import Drain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FifoActors:
    drain: TypedActor[Drain, None]
    mailbox: Mailbox


def _park(client: redis.Redis, bell: str, message_id: str) -> bool:
    """True if this doorbell should wait for the lock: it is (or becomes) the parked one.

    A live holder re-checks the list after release, but a dead one never will, so one
    doorbell per account stays parked (re-scheduled, no attempt spent) until the lock is free.
    """
    parked: bytes | None = client.get(bell)  # type: ignore[assignment]
    if parked is None:
        return bool(client.set(bell, message_id, nx=True, px=LOCK_TTL_MS * 2))
    if parked.decode() == message_id:
        client.pexpire(bell, LOCK_TTL_MS * 2)
        return True
    return False


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str) -> FifoActors:
    mailbox = Mailbox(client, namespace)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="fifo_drain", max_retries=10)
    def fifo_drain(job: Drain) -> None:
        """Apply every queued event of ``job.account``, oldest first."""
        # redis-py's Lock: owner token, TTL, token-checked release and extend.
        lock = client.lock(mailbox.keys(job.account)["lock"], timeout=LOCK_TTL_MS / 1000,
                           blocking=False, thread_local=False)
        bell = mailbox.keys(job.account)["bell"]
        me = CurrentMessage.get_current_message()
        me_id = me.message_id if me else "direct-call"
        if not lock.acquire():
            if _park(client, bell, me_id):
                wait_ms = min(max(int(client.pttl(lock.name)), 50), PARK_POLL_MS)
                raise RetryLater(f"account {job.account} is being drained", delay_ms=wait_ms)
            return  # another doorbell is already parked for this account
        if client.get(bell) == me_id.encode():
            client.delete(bell)
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
