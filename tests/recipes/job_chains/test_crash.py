"""job_chains: a worker SIGKILLed mid-chain; every chain still completes, each effect once."""

from __future__ import annotations

import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.job_chains import COMPENSATE_QUEUE, QUEUE, shop_key
from recipes.job_chains.actors import register
from recipes.job_chains.enqueue import example_order, start_order
from tests.support import wait_until

CHAINS = 16


def test_sigkilled_worker_mid_chain_every_chain_still_completes_once(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, cli_worker
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    ids = [f"o-crash-{i}" for i in range(CHAINS)]
    for chain_id in ids:  # each charge takes a second: the kill lands mid-step
        assert start_order(actors, example_order(chain_id, card="tok_slow"))
    env = {"COOKBOOK_CHAIN_STEP_LEASE_MS": "3000"}
    payments = shop_key(settings.namespace, "payments")
    first = cli_worker("recipes.job_chains.worker", processes=2, threads=4,
                       queues=[QUEUE, COMPENSATE_QUEUE], env=env)
    wait_until(lambda: redis_client.hlen(payments) >= 4, timeout=60, message="4 charges done")
    first.kill()
    interrupted = [c for c in ids
                   if (s := actors.store.get(c)) and s.steps["charge"].status == "running"]
    assert interrupted, "the kill should land while charges are in flight"

    cli_worker("recipes.job_chains.worker", processes=1, threads=8,
               queues=[QUEUE, COMPENSATE_QUEUE], env=env)

    def completed() -> int:
        return sum(1 for c in ids if (s := actors.store.get(c)) and s.status == "completed")

    wait_until(lambda: completed() == CHAINS, timeout=90,
               message=lambda: f"all chains completed (now {completed()})")
    assert redis_client.hlen(payments) == CHAINS
    assert redis_client.hlen(shop_key(settings.namespace, "archive")) == CHAINS
    for chain_id in interrupted:
        state = actors.store.get(chain_id)
        assert state is not None and state.steps["charge"].attempts >= 2  # ran again
    assert broker.dead_letters.count() == 0
