"""Schedule, reschedule, cancel and promote emails; the record in Redis is the truth.

Each email has a record (``Record``: the email, a random ``token``, the due time). Every
queued copy of its job carries the token it was scheduled with; the sender sends only when
the copy's token matches the record's. So reschedule = new token (older copies become
stale), cancel = no record (every copy is dropped), wherever those copies are: Dramatiq's
delay queue, the main queue, or a worker's memory.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any, Literal

import redis
from dramatiq.common import dq_name

from common.idempotency import Claim, Idempotency
from common.jobs import TypedActor
from recipes.delayed_email import PROMOTE_BATCH, idem_name, keys, scripts
from recipes.delayed_email.config import SEVEN_DAYS_MS
from recipes.delayed_email.models import Email, Record, SendEmail, Via

CancelResult = Literal["cancelled", "sending", "sent", "unknown"]
RescheduleResult = Literal["rescheduled", "sending", "sent", "unknown"]


class ScheduleRefused(ValueError):
    """The email id is already scheduled, being sent, or sent."""


def now_ms() -> int:
    return int(time.time() * 1000)


class Schedule:
    def __init__(self, client: redis.Redis, namespace: str, actor: TypedActor[SendEmail, None],
                 idem: Idempotency, *, short_delay_max_ms: int) -> None:
        self.client, self.actor, self.idem = client, actor, idem
        self.short_delay_max_ms = short_delay_max_ms
        self.keys = keys(namespace)
        self.queue_key = f"{namespace}:{actor.queue_name}"
        self.delay_key = f"{namespace}:{dq_name(actor.queue_name)}"
        self._put = client.register_script(scripts.PUT)
        self._cancel = client.register_script(scripts.CANCEL)
        self._promote = client.register_script(scripts.PROMOTE)

    def route(self, delay_ms: int, via: Via | None = None) -> Via:
        if isinstance(delay_ms, bool) or not isinstance(delay_ms, int) or delay_ms < 0:
            raise ValueError(f"delay_ms must be an int >= 0, got {delay_ms!r}")
        if via is None:
            via = ("now" if delay_ms == 0 else
                   "delay" if delay_ms <= self.short_delay_max_ms else "schedule")
        if via == "delay" and delay_ms > SEVEN_DAYS_MS:
            raise ValueError(f"delay_ms {delay_ms} is over Dramatiq's 7-day delay limit; "
                             "use via='schedule'")
        return via

    def _args(self, mode: str, email: Email, delay_ms: int, via: Via | None) -> dict[str, Any]:
        via = self.route(delay_ms, via)
        due = now_ms() + delay_ms
        token = uuid.uuid4().hex
        message = self.actor.message(SendEmail(email_id=email.email_id, token=token))
        rid = str(uuid.uuid4())
        if via == "delay":  # exactly what RedisBroker.enqueue(delay=) writes
            message = message.copy(queue_name=dq_name(message.queue_name),
                                   options={"redis_message_id": rid, "eta": due})
        else:
            message = message.copy(options={"redis_message_id": rid})
        record = Record(email=email, token=token, due_ms=due, via=via)
        target = self.delay_key if via == "delay" else self.queue_key
        k = self.keys
        return {"keys": [k["records"], k["schedule"], k["outbox"], self._idem_key(email.email_id),
                         target, target + ".msgs"],
                "args": [mode, email.email_id, record.model_dump_json(), via, due, rid,
                         message.encode()]}

    def _idem_key(self, email_id: str) -> str:
        return self.idem.prefix + idem_name(email_id)

    def schedule(self, email: Email, *, delay_ms: int, via: Via | None = None) -> Record:
        """Validate and store ``email``, to be sent ``delay_ms`` from now (one Lua call)."""
        email = Email.model_validate(email.model_dump())
        call = self._args("new", email, delay_ms, via)
        outcome = self._put(**call).decode()
        if outcome != "ok":
            raise ScheduleRefused(f"email {email.email_id!r} not scheduled: {outcome}")
        return Record.model_validate_json(call["args"][2])

    def schedule_many(self, emails: Iterable[Email], *, delay_ms: int,
                      via: Via | None = None, chunk: int = 500) -> int:
        """Bulk form of ``schedule`` (pipelined); returns how many were stored."""
        stored, batch = 0, list(emails)
        for start in range(0, len(batch), chunk):
            pipe = self.client.pipeline(transaction=False)
            for email in batch[start:start + chunk]:
                self._put(**self._args("new", Email.model_validate(email.model_dump()),
                                       delay_ms, via), client=pipe)
            stored += sum(1 for r in pipe.execute() if r == b"ok")
        return stored

    def reschedule(self, email_id: str, *, delay_ms: int,
                   via: Via | None = None) -> RescheduleResult:
        """Move a scheduled email to ``delay_ms`` from now; older queued copies go stale."""
        record = self.get(email_id)
        if record is None:
            return "sent" if self.idem.is_done(idem_name(email_id)) else "unknown"
        outcome = self._put(**self._args("move", record.email, delay_ms, via)).decode()
        return "rescheduled" if outcome == "ok" else outcome

    def cancel(self, email_id: str) -> CancelResult:
        """``cancelled`` guarantees it is never sent; ``sending`` means an SMTP send was under
        way (it may have gone out); ``sent`` is too late; ``unknown`` was never scheduled."""
        k = self.keys
        return self._cancel(keys=[k["records"], k["schedule"], k["outbox"],
                                  self._idem_key(email_id)], args=[email_id]).decode()

    def promote(self, *, now: int | None = None, limit: int = PROMOTE_BATCH) -> int:
        """Move up to ``limit`` due emails from the schedule onto the queue; returns how many."""
        k = self.keys
        return int(self._promote(keys=[k["schedule"], k["outbox"], self.queue_key,
                                       self.queue_key + ".msgs"],
                                 args=[now_ms() if now is None else now, limit]))

    def get(self, email_id: str) -> Record | None:
        raw = self.client.hget(self.keys["records"], email_id)
        return None if raw is None else Record.model_validate_json(raw)

    def finish(self, claim: Claim, email_id: str) -> None:
        """After the SMTP server accepted it: mark sent and drop the record, in one MULTI."""
        pipe = self.client.pipeline(transaction=True)
        self.idem.mark_done(claim, pipe=pipe)
        pipe.hdel(self.keys["records"], email_id)
        pipe.zrem(self.keys["schedule"], email_id)
        pipe.hdel(self.keys["outbox"], email_id)
        pipe.execute()

    def counts(self) -> dict[str, int]:
        """Observable state: records, long-path schedule, and Dramatiq's own queues."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hlen(self.keys["records"])
        pipe.zcard(self.keys["schedule"])
        pipe.hlen(self.keys["outbox"])
        pipe.llen(self.delay_key)
        pipe.hlen(self.delay_key + ".msgs")
        pipe.llen(self.queue_key)
        names = ["records", "schedule", "outbox", "delay_queue", "delay_queue_msgs", "queue"]
        return dict(zip(names, (int(v) for v in pipe.execute()), strict=True))
