"""Broker factory: a RedisBroker with an explicit connection pool and a documented stack.

Why not ``RedisBroker(url=...)``: with ``url=`` every other client option (pool size,
timeouts, retries) is silently ignored, so the pool is built here and passed as ``client``.

What this broker adds to Dramatiq's:
* **Fail fast.** ``send()`` while Redis is unreachable raises ``BrokerUnavailable`` within
  about 2 s (short connect timeout, one quick retry) naming the host, never the password.
* **Undecodable messages** (garbage bytes, JSON of the wrong shape) are dead-lettered with
  their reason and removed; stock Dramatiq leaves them stuck in the in-flight set forever.
* **Fork safety.** redis-py pools notice a fork (pid check) and open fresh connections in
  the child; each ``dramatiq`` worker process imports the module and builds its own broker.
* **Reconnects.** Consumer errors map to ``ConnectionClosed``, which makes Dramatiq's
  consumer threads reconnect every second until Redis is back.

Middleware stack (order matters: ``after_*`` hooks run bottom-up):
AgeLimit, TimeLimit, ShutdownNotifications, Callbacks, Pipelines, CurrentMessage,
GracefulShutdown, CrashRecovery, DeadLetters, LogContext, RedisSetupCheck, RetryPolicy,
then ``extra``.

Copy with: settings.py, errors.py, retry.py, deadletter.py, recovery.py, shutdown.py,
logging.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import BrokerConnectionError, ConnectionClosed, DecodeError
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from common.deadletter import DeadLetter, DeadLetters, DeadLetterStore
from common.logging import LogContext, install_message_redaction
from common.recovery import CrashRecovery
from common.redis_checks import RedisSetupCheck
from common.retry import RetryPolicy
from common.settings import Settings, get_settings
from common.shutdown import GracefulShutdown

log = logging.getLogger(__name__)
_REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)


class BrokerUnavailable(BrokerConnectionError):
    """Redis could not be reached; the message was not enqueued."""


class CookbookConsumer(_RedisConsumer):
    def __next__(self) -> Any:
        try:
            return super().__next__()
        except DecodeError as exc:
            self._dead_letter_undecodable(exc)
            return None
        except redis.TimeoutError as exc:
            raise ConnectionClosed(exc) from None

    def _dead_letter_undecodable(self, exc: DecodeError) -> None:
        raw: bytes = exc.data if isinstance(exc.data, bytes) else str(exc.data).encode()
        client: redis.Redis = self.broker.client
        acks = f"{self.broker.namespace}:__acks__.{self.broker.broker_id}.{self.queue_name}"
        messages = f"{self.broker.namespace}:{self.queue_name}.msgs"
        # The fetch script returns payloads without their ids: find the id by its payload.
        redis_id = next(
            (i for i in client.smembers(acks) if client.hget(messages, i) == raw), None
        )
        recorded = False
        for middleware in self.broker.middleware:
            if hasattr(middleware, "record_undecodable"):
                middleware.record_undecodable(self.broker, self.queue_name, raw, exc)
                recorded = True
        if redis_id is not None:
            rid = redis_id.decode() if isinstance(redis_id, bytes) else redis_id
            command = self.broker.do_ack if recorded else self.broker.do_nack
            command(self.queue_name, rid)
        log.error("dead-lettered an undecodable message on %s: %s", self.queue_name, exc)

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


class CookbookBroker(RedisBroker):
    """RedisBroker that fails fast on send and dead-letters undecodable messages."""

    safe_url: str = "redis"
    dead_letters: DeadLetterStore

    @property
    def consumer_class(self) -> type[CookbookConsumer]:
        return CookbookConsumer

    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> Any:
        try:
            return super().enqueue(message, delay=delay)
        except _REDIS_DOWN as exc:
            raise BrokerUnavailable(
                f"Redis at {self.safe_url} is unreachable; message {message.message_id} for "
                f"{message.actor_name!r} was not enqueued ({type(exc).__name__}: {exc})"
            ) from None


def make_client(settings: Settings | None = None, *, pool_size: int | None = None) -> redis.Redis:
    """A redis client with an explicit, bounded pool and fail-fast timeouts (bytes replies)."""
    settings = settings or get_settings()
    pool = redis.ConnectionPool.from_url(
        settings.redis_url,
        max_connections=pool_size or settings.pool_size,
        socket_connect_timeout=settings.connect_timeout_s,
        socket_timeout=settings.socket_timeout_s,
        socket_keepalive=True,
        health_check_interval=15,
        retry=Retry(ConstantBackoff(0.1), retries=1),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
    # Waiting for a free pooled connection must not hang forever either.
    return redis.Redis(connection_pool=pool)


def make_broker(
    settings: Settings | None = None,
    *,
    client: redis.Redis | None = None,
    extra_middleware: Sequence[Middleware] = (),
    on_dead: Callable[[DeadLetter], None] | None = None,
    retry_policy: RetryPolicy | None = None,
    time_limit_ms: int = 10 * 60_000,
) -> CookbookBroker:
    """Build the broker every recipe uses. Call ``dramatiq.set_broker`` before declaring actors."""
    settings = settings or get_settings()
    install_message_redaction()
    client = client or make_client(settings)
    store = DeadLetterStore(
        client, settings.namespace,
        max_age_days=settings.dead_letter_max_age_days, max_count=settings.dead_letter_max_count,
    )
    middleware: list[Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=time_limit_ms),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        GracefulShutdown(),
        CrashRecovery(heartbeat_timeout_ms=settings.heartbeat_timeout_ms,
                      interval_ms=settings.recovery_interval_ms),
        DeadLetters(store, on_dead=on_dead),
        LogContext(),
        RedisSetupCheck(settings.critical_queues),
        retry_policy or RetryPolicy(),
        *extra_middleware,
    ]
    broker = CookbookBroker(
        client=client,
        namespace=settings.namespace,
        middleware=middleware,
        heartbeat_timeout=settings.heartbeat_timeout_ms,
    )
    broker.safe_url = settings.redis_url_safe
    broker.dead_letters = store
    return broker

