"""Redis faults: crash with AOF, every worker connection killed, memory full.

Each test runs its own ``redis-server`` and counts every job.
"""

from __future__ import annotations

import threading
import time

import dramatiq
import pytest
import redis

from common.broker import BrokerFull, BrokerUnavailable, make_broker
from common.settings import Settings
from tests.support import ROOT, wait_until

APP = "tests.common.worker_app"


def _sender(broker):  # type: ignore[no-untyped-def]
    @dramatiq.actor(broker=broker, queue_name="work", actor_name="work")
    def work(job_id: str, duration_ms: int) -> None: ...

    return work


def test_redis_kill_with_appendfsync_always_loses_no_acknowledged_enqueue(
    redis_server_factory, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory(config_file=ROOT / "redis.conf",
                                  args=["--appendfsync", "always"])
    broker = make_broker(settings.model_copy(update={"redis_url": server.url}))
    work = _sender(broker)
    acknowledged: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        n = 0
        while not stop.is_set():
            job_id = f"j{n}"
            try:
                work.send(job_id, 1)
            except BrokerUnavailable:
                return  # not acknowledged: the caller knows it must retry
            acknowledged.append(job_id)
            n += 1

    producer = threading.Thread(target=produce)
    producer.start()
    wait_until(lambda: len(acknowledged) >= 500, timeout=30, message="500 sends")
    server.kill()  # SIGKILL mid-stream: no shutdown save
    producer.join(10)
    stop.set()
    server.start()  # same port and dir: replays the AOF
    client = broker.client
    stored = {m.decode() for m in client.hkeys(f"{settings.namespace}:work.msgs")}
    assert len(stored) == int(client.llen(f"{settings.namespace}:work"))
    payloads = client.hvals(f"{settings.namespace}:work.msgs")
    ids_in_redis = {p.split(b'"args":["', 1)[1].split(b'"', 1)[0].decode() for p in payloads}
    missing = set(acknowledged) - ids_in_redis
    assert not missing, f"{len(missing)} acknowledged enqueues lost"
    print(f"acknowledged={len(acknowledged)} in redis after restart={len(ids_in_redis)}")
    broker.close()


def test_workers_survive_client_kill_of_all_their_connections(
    broker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    ns, total = settings.namespace, 300
    work = _sender(broker)
    for i in range(total):
        work.send(f"job-{i}", 20)
    cli_worker(APP, processes=2, threads=4)
    wait_until(lambda: redis_client.scard(f"{ns}:finished") >= 30, timeout=30,
               message="load running")
    me = redis_client.client_id()
    killed = 0
    for _ in range(3):  # kill again as they reconnect
        for client in redis_client.client_list():
            if int(client["id"]) != me:
                killed += int(redis_client.client_kill_filter(_id=client["id"]) or 0)
        time.sleep(0.3)
    assert killed >= 2
    wait_until(lambda: redis_client.scard(f"{ns}:finished") == total, timeout=90,
               message=lambda: f"all jobs ({redis_client.scard(f'{ns}:finished')}/{total})")
    effects = redis_client.lrange(f"{ns}:effects", 0, -1)
    assert len(effects) == total == len(set(effects)), "a job was lost or ran twice"


def test_full_redis_refuses_sends_clearly_and_keeps_what_is_queued(
    redis_server_factory, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory(args=["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"])
    broker = make_broker(settings.model_copy(update={"redis_url": server.url}))
    work = _sender(broker)
    accepted = 0
    with pytest.raises(BrokerFull, match="out of memory"):
        for i in range(100_000):
            work.send(f"job-{i}-" + "x" * 200, 1)
            accepted += 1
    assert accepted > 100
    queue = f"{settings.namespace}:work"
    assert broker.client.llen(queue) == accepted == broker.client.hlen(queue + ".msgs")
    broker.close()
