"""Dead-letter queue: list / show / replay / purge through the real CLI, alert hook, retention."""

from __future__ import annotations

import json
import subprocess
import sys

import dramatiq
import redis

from common.broker import CookbookBroker, make_broker
from common.deadletter import DeadLetter
from common.errors import PermanentError
from common.settings import Settings
from tests.support import ROOT, wait_until


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "cookbook", "dlq", *args], cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_list_show_replay_purge_round_trip(broker: CookbookBroker, redis_client: redis.Redis,
                                           settings_env: dict[str, str],
                                           start_worker) -> None:  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name="fragile", max_retries=0)
    def needs_fix(job_id: str) -> None:
        if not redis_client.exists("fixed"):
            raise PermanentError("dependency missing")
        redis_client.sadd("fixed_done", job_id)

    sent = [needs_fix.send(f"j{i}") for i in range(3)]
    start_worker(queues=["fragile"])
    wait_until(lambda: broker.dead_letters.count() == 3, message="3 dead letters")

    listed = [json.loads(line) for line in cli(settings_env, "list", "--json").splitlines()]
    assert {item["id"] for item in listed} == {m.message_id for m in sent}
    assert all(item["reason"] == "permanent: PermanentError" for item in listed)

    shown = json.loads(cli(settings_env, "show", sent[0].message_id))
    assert shown["error"] == "dependency missing" and shown["attempts"] == 1
    assert shown["message"]["args"] == ["j0"] and "PermanentError" in shown["traceback"]

    redis_client.set("fixed", 1)
    out = cli(settings_env, "replay", sent[0].message_id, sent[1].message_id)
    assert out.count("replayed") == 2
    wait_until(lambda: redis_client.scard("fixed_done") == 2, message="replayed jobs succeed")
    assert {m.decode() for m in redis_client.smembers("fixed_done")} == {"j0", "j1"}
    assert broker.dead_letters.count() == 1

    assert cli(settings_env, "purge", "--all").strip() == "purged 1"
    assert broker.dead_letters.count() == 0
    assert cli(settings_env, "list", "--json").strip() == ""


def test_replayed_message_gets_a_fresh_attempt_count(
    broker: CookbookBroker, redis_client: redis.Redis, start_worker
) -> None:  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name="fragile", max_retries=1, min_backoff=20,
                    max_backoff=40)
    def flaky(job_id: str) -> None:
        redis_client.incr("runs")
        if not redis_client.exists("fixed"):
            raise RuntimeError("still broken")

    message = flaky.send("x")
    start_worker(queues=["fragile"])
    wait_until(lambda: broker.dead_letters.count() == 1, message="dead after 2 runs")
    assert broker.dead_letters.get(message.message_id).attempts == 2  # type: ignore[union-attr]
    broker.dead_letters.replay(broker, message.message_id)
    # Fresh count: the replay gets 2 runs again before it is dead-lettered once more.
    wait_until(lambda: broker.dead_letters.count() == 1 and int(redis_client.get("runs")) == 4,
               message="replay ran twice and died again")
    assert broker.dead_letters.get(message.message_id).attempts == 2  # type: ignore[union-attr]


def test_alert_hook_is_called_and_retention_is_explicit(
    settings: Settings, redis_client: redis.Redis
) -> None:
    alerts: list[DeadLetter] = []
    capped = settings.model_copy(update={"dead_letter_max_count": 2})
    broker = make_broker(capped, on_dead=alerts.append)
    dramatiq.set_broker(broker)
    from common.worker import running_worker

    @dramatiq.actor(broker=broker, queue_name="fragile", max_retries=0)
    def boom(i: int) -> None:
        raise PermanentError(f"boom {i}")

    with running_worker(broker, queues=["fragile"], threads=1):
        for i in range(3):
            boom.send(i)
            wait_until(lambda i=i: len(alerts) == i + 1, message=f"alert {i}")
    assert [a.error for a in alerts] == ["boom 0", "boom 1", "boom 2"]
    # max_count=2 keeps the two newest; without a setting nothing is ever pruned.
    assert [letter.error for letter in broker.dead_letters.recent()] == ["boom 2", "boom 1"]
    broker.close()


def test_undecodable_letters_can_be_shown_not_replayed(broker: CookbookBroker,
                                                       settings_env: dict[str, str]) -> None:
    from common.deadletter import DeadLetters

    middleware = next(m for m in broker.middleware if isinstance(m, DeadLetters))
    middleware.record_raw(broker, "q", b"\xffgarbage", "UnicodeDecodeError", "undecodable")
    letter = broker.dead_letters.recent()[0]
    assert letter.raw is not None and "garbage" in letter.raw
    result = subprocess.run([sys.executable, "-m", "cookbook", "dlq", "replay", letter.id],
                            cwd=ROOT, env={"PATH": "/usr/bin:/bin", **settings_env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "not a valid message" in result.stderr
