"""The send actor: one email, sent once in effect, never before its due time.

Run with: ``uv run dramatiq recipes.delayed_email.worker -p 2 -t 8``
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import dramatiq
import redis

from common.errors import RetryLater
from common.idempotency import Idempotency
from common.jobs import TypedActor, typed_actor
from recipes.delayed_email import IDEM_TTL_S, QUEUE, idem_name
from recipes.delayed_email.config import EmailConfig
from recipes.delayed_email.models import SendEmail
from recipes.delayed_email.promoter import Promoter
from recipes.delayed_email.schedule import Schedule, now_ms
from recipes.delayed_email.smtp import SmtpSender

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DelayedEmailActors:
    send: TypedActor[SendEmail, None]
    schedule: Schedule
    promoter: Promoter
    sender: SmtpSender
    idem: Idempotency


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str,
             config: EmailConfig | None = None) -> DelayedEmailActors:
    """Declare the actor and add the promoter; SMTP host and port come from ``config``."""
    config = config or EmailConfig()
    idem = Idempotency(client, namespace, ttl_s=IDEM_TTL_S, lease_ms=config.idem_lease_ms)
    sender = SmtpSender(config.smtp_host, config.smtp_port, timeout_s=config.smtp_timeout_s)

    @typed_actor(broker=broker, queue_name=QUEUE, actor_name="send_delayed_email",
                 max_retries=config.max_retries, min_backoff=config.min_backoff_ms,
                 max_backoff=config.max_backoff_ms)
    def send_delayed_email(job: SendEmail) -> None:
        claim = idem.claim(idem_name(job.email_id))
        if claim.state == "done":
            log.info("email %s was sent already: duplicate dropped", job.email_id)
            return
        if claim.state == "busy":  # another copy is sending it right now: look again soon
            raise RetryLater(f"email {job.email_id} is being sent by another copy",
                             delay_ms=min(claim.retry_in_ms, 500 + random.randint(0, 500)))
        try:
            # Read after the claim: a cancel that ran before it is always seen here.
            record = schedule.get(job.email_id)
            if record is None or record.token != job.token:
                log.info("email %s: %s copy dropped", job.email_id,
                         "cancelled" if record is None else "stale (rescheduled)")
                idem.release(claim)
                return
            wait_ms = record.due_ms - now_ms()
            if wait_ms > 0:  # early by this worker's clock: never send before due
                raise RetryLater(f"email {job.email_id} due in {wait_ms} ms", delay_ms=wait_ms)
            sender.send(record.email)
        except BaseException:
            idem.release(claim)
            raise
        # Crash window: the server accepted the email but the mark below is not written yet.
        schedule.finish(claim, job.email_id)

    schedule = Schedule(client, namespace, send_delayed_email, idem,
                        short_delay_max_ms=config.short_delay_max_ms)
    promoter = Promoter(schedule, interval_ms=config.promote_interval_ms,
                        batch=config.promote_batch)
    broker.add_middleware(promoter)
    return DelayedEmailActors(send=send_delayed_email, schedule=schedule, promoter=promoter,
                              sender=sender, idem=idem)
