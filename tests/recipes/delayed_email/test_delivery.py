"""The proof: 200 emails at 0-5 s through 2 worker processes x 8 threads, both paths.

Each arrives exactly once and never before its due time (the SMTP server's receive clock);
20 cancelled never arrive; 20 rescheduled arrive once, not before their new time; injected
duplicate deliveries (dramatiq#431) yield one email each.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.delayed_email import QUEUE
from recipes.delayed_email.actors import register
from recipes.delayed_email.enqueue import cancel, reschedule, sample_email, send_later
from recipes.delayed_email.models import SendEmail, Via
from recipes.delayed_email.smtp_server import RecordingSmtp
from tests.recipes.delayed_email.conftest import email_config, email_env
from tests.support import CliWorker, wait_until

N, CANCELLED, MOVED, DUPLICATED = 200, 20, 20, 10


def test_each_email_arrives_once_not_before_due_cancel_and_reschedule_hold(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    cli_worker: Callable[..., CliWorker], smtp_server: Callable[..., RecordingSmtp],
) -> None:
    smtp = smtp_server()
    actors = register(broker, redis_client, settings.namespace, email_config(smtp.port))
    cli_worker("recipes.delayed_email.worker", processes=2, threads=8, env=email_env(smtp.port))
    rng = random.Random(431)
    paths: tuple[Via, Via] = ("delay", "schedule")
    due: dict[str, int] = {}

    for i in range(N):  # both paths, delays 0-5 s
        record = send_later(actors, sample_email(f"m{i}"), delay_ms=rng.randint(0, 5_000),
                            via=paths[i % 2])
        due[record.email.email_id] = record.due_ms
    for i in range(CANCELLED):
        send_later(actors, sample_email(f"c{i}"), delay_ms=rng.randint(3_000, 5_000),
                   via=paths[i % 2])
    for i in range(MOVED):
        send_later(actors, sample_email(f"r{i}"), delay_ms=rng.randint(2_500, 4_000),
                   via=paths[i % 2])

    # dramatiq#431 and redelivery: more copies of live jobs, same token, on either queue.
    for i in range(DUPLICATED):
        live = actors.schedule.get(f"m{N - 1 - i}")
        if live is not None:
            copy = SendEmail(email_id=live.email.email_id, token=live.token)
            actors.send.send_with_options(copy, delay=None if i % 2 else 500)
    assert [cancel(actors, f"c{i}") for i in range(CANCELLED)] == ["cancelled"] * CANCELLED
    for i in range(MOVED):  # half later, half earlier, each onto the other path
        new_delay = rng.randint(5_000, 6_000) if i % 2 else rng.randint(500, 1_500)
        assert reschedule(actors, f"r{i}", delay_ms=new_delay, via=paths[(i + 1) % 2]) \
            == "rescheduled"
        moved = actors.schedule.get(f"r{i}")
        assert moved is not None
        due[f"r{i}"] = moved.due_ms

    wait_until(lambda: set(smtp.by_email()) >= set(due), timeout=90,
               message=lambda: f"all {len(due)} emails (got {len(smtp.by_email())})")
    broker.join(QUEUE, timeout=60_000)  # every queued copy, stale or duplicate, was handled
    wait_until(lambda: actors.schedule.counts()["schedule"] == 0, timeout=10,
               message="schedule empty")

    arrived = smtp.by_email()
    assert set(arrived) == set(due), f"unexpected: {set(arrived) - set(due)}"
    twice = {k: len(v) for k, v in arrived.items() if len(v) != 1}
    assert not twice, f"sent more than once: {twice}"
    early = {k: due[k] - int(v[0].at * 1000) for k, v in arrived.items()
             if v[0].at * 1000 < due[k]}
    assert not early, f"arrived before due (ms early): {early}"
    assert actors.schedule.counts()["records"] == 0
    assert broker.dead_letters.count() == 0
    assert all(actors.idem.is_done(f"email:{k}") for k in due)
    assert not any(actors.idem.is_done(f"email:c{i}") for i in range(CANCELLED))
