"""Doorbell: an idle urgent consumer blocks on a Redis list instead of polling.

Dramatiq's consumer sleeps between polls of an empty queue, backing off up to the worker
timeout (1 s), so an urgent job sent to an idle queue waits while the backlog keeps starting.
Polling fast instead costs about 200 Redis commands per second per idle consumer (measured;
see the README). Here the producer rings after each urgent enqueue (``LPUSH`` to the level's
bell list), and an idle consumer waits with ``BLPOP`` on it: woken within a round trip,
one blocked connection and a command every ``urgent_idle_ms`` while idle.

A list, unlike pub/sub, keeps a ring that arrives before the consumer starts waiting, so no
wake-up is lost between "the queue looked empty" and "block". The message itself is still
fetched by Dramatiq's own atomic fetch (LPOP + in-flight set in one Lua call): the bell only
says when to look, so a lost or extra ring delays or wastes one fetch, never a message.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from dramatiq.errors import ConnectionClosed

from common.consumer import CookbookConsumer
from recipes.priority_queue import BELL_MAX, bell_key

#: While this consumer's own prefetch is full it waits for its jobs, without Redis calls.
FULL_WAIT_S = 0.005


class Doorbell:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    def ring(self, queue: str) -> None:
        key = bell_key(self.namespace, queue)
        pipe = self.client.pipeline(transaction=False)
        pipe.lpush(key, 1)
        pipe.ltrim(key, 0, BELL_MAX - 1)
        pipe.execute()

    def wait(self, queue: str, timeout_s: float) -> bool:
        """Block until a ring (True) or ``timeout_s`` (False)."""
        return self.client.blpop([bell_key(self.namespace, queue)], timeout=timeout_s) is not None


class BellConsumer(CookbookConsumer):
    """Dramatiq's Redis consumer, with its idle sleep replaced by a wait on the doorbell."""

    def __init__(self, broker: Any, queue_name: str, prefetch: int, *, bell: Doorbell,
                 idle_ms: int) -> None:
        # A 1 ms idle timeout makes Dramatiq's own backoff sleep ~0 ms: the bell does the waiting.
        super().__init__(broker, queue_name, prefetch, 1)
        self.bell = bell
        self.idle_s = idle_ms / 1000

    def __next__(self) -> Any:
        message = super().__next__()
        if message is None and not self.message_cache:
            try:
                if self.outstanding_message_count < self.prefetch:  # the queue was empty
                    self.bell.wait(self.queue_name, self.idle_s)
                else:
                    time.sleep(FULL_WAIT_S)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                raise ConnectionClosed(exc) from None  # Dramatiq reconnects the consumer
        return message
