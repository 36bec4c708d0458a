"""job_chains: chain state read by another process; a chain that lost its message still ends."""

from __future__ import annotations

import os
import subprocess
import sys

import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.job_chains import COMPENSATE_QUEUE, QUEUE, index_keys
from recipes.job_chains.actors import register
from recipes.job_chains.enqueue import example_order, reap_overdue, start_order
from recipes.job_chains.models import ChainState
from tests.support import ROOT, wait_until


def status_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "recipes.job_chains.status", *args],
                          env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_chain_state_is_readable_from_another_process(
    broker: CookbookBroker, settings: Settings, settings_env: dict[str, str],
    redis_client: redis.Redis, start_worker,
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    assert start_order(actors, example_order("o-read"))

    before = status_cli(settings_env, "o-read")
    assert before.returncode == 0, before.stderr
    running = ChainState.model_validate_json(before.stdout)
    assert running.status == "running" and running.order.order_id == "o-read"
    assert all(step.status is None for step in running.steps.values())

    start_worker(queues=[QUEUE, COMPENSATE_QUEUE], threads=4)
    after = status_cli(settings_env, "o-read", "--wait", "60")
    assert after.returncode == 0, after.stderr
    seen = ChainState.model_validate_json(after.stdout)
    assert seen.status == "completed"
    assert seen == actors.store.get("o-read")  # the other process saw exactly this state

    missing = status_cli(settings_env, "no-such-order")
    assert missing.returncode == 2 and "no-such-order" in missing.stderr


def test_a_chain_whose_message_was_lost_is_failed_by_the_reaper(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,
) -> None:  # type: ignore[no-untyped-def]
    actors = register(broker, redis_client, settings.namespace)
    assert start_order(actors, example_order("o-lost"))
    # The first step's message disappears outside Dramatiq's guarantees (a purged queue).
    ns = settings.namespace
    assert redis_client.delete(f"{ns}:{QUEUE}", f"{ns}:{QUEUE}.msgs") == 2
    assert reap_overdue(actors) == []  # not overdue yet: nothing happens
    far_future = 2**42
    assert reap_overdue(actors, now_ms=far_future) == ["o-lost"]
    start_worker(queues=[QUEUE, COMPENSATE_QUEUE], threads=4)
    state = wait_until(lambda: (s := actors.store.get("o-lost")) and s.finished and s,
                       timeout=30, message="reaped chain finished")
    assert state.status == "failed" and state.failed_step == "validate"
    assert "deadline exceeded" in (state.error or "")
    assert redis_client.zcard(index_keys(ns)["running"]) == 0
    assert reap_overdue(actors, now_ms=far_future) == []
