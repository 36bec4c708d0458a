"""Redis consumer that survives bad payloads and hung connections.

Stock Dramatiq raises on a payload it cannot decode: the consumer restarts, the id stays in
the in-flight set, and the message is never processed or dead-lettered while that worker
lives. Here such a payload is dead-lettered with its reason and acked, and the worker goes on.
A read timeout is reported as ``ConnectionClosed`` so Dramatiq reconnects instead of leaving
an ack undone.

Copy with: ``common/broker.py`` (it calls ``broker.reject_raw``).
"""

from __future__ import annotations

from typing import Any

import redis
from dramatiq.brokers.redis import _RedisConsumer
from dramatiq.errors import ConnectionClosed, DecodeError


class CookbookConsumer(_RedisConsumer):
    def __next__(self) -> Any:
        try:
            return super().__next__()
        except DecodeError as exc:
            raw = exc.data if isinstance(exc.data, bytes) else str(exc.data).encode()
            cause = exc.__cause__ or exc
            self.broker.reject_raw(self.queue_name, raw, type(cause).__name__,
                                   f"undecodable message: {cause}")
            return None
        except redis.TimeoutError as exc:
            raise ConnectionClosed(exc) from None

    def ack(self, message: Any) -> None:
        try:
            super().ack(message)
        except redis.TimeoutError as exc:
            raise ConnectionClosed(exc) from None

    def nack(self, message: Any) -> None:
        try:
            super().nack(message)
        except redis.TimeoutError as exc:
            raise ConnectionClosed(exc) from None
