"""The dead-letter path of a chain step starts its compensation.

A step message is dead-lettered when it fails permanently, runs out of retries, or carries an
invalid payload. Right before Dramatiq nacks it (``before_nack``), this middleware sends a
``Compensate`` message for the step's chain. If Redis is away the send raises
``BrokerConnectionError`` and Dramatiq retries the whole nack, so the chain can never be
dead-lettered without its compensation being queued. That is the "parent waiting forever"
BullMQ flows are known for.

If the compensation itself dead-letters, the chain is marked ``failed`` with a
``compensation_error`` for an operator: it still ends in a recorded state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import Middleware

from recipes.job_chains.state import ChainStore

log = logging.getLogger(__name__)


class ChainFailureHook(Middleware):
    def __init__(self, store: ChainStore, step_of_actor: dict[str, str], compensate_actor: str,
                 send_compensate: Callable[[str, str, str], Any]) -> None:
        self.store = store
        self.step_of_actor = step_of_actor  # actor name -> step name
        self.compensate_actor = compensate_actor
        self.send_compensate = send_compensate  # (chain id, step, reason)

    def before_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        name = message.actor_name
        if name not in self.step_of_actor and name != self.compensate_actor:
            return
        payload = message.args[0] if message.args else None
        chain_id = payload.get("chain_id") if isinstance(payload, dict) else None
        if not isinstance(chain_id, str) or not chain_id:
            log.error("dead-lettered %s message has no chain id; nothing to compensate", name)
            return
        dead_reason = message.options.get("dead_reason") or "failed"
        last_error = message.options.get("last_error") or ""
        # "permanent: X" adds nothing to the error text; "retries exhausted (5)" does.
        reason = last_error if dead_reason.startswith("permanent") and last_error else (
            f"{dead_reason}: {last_error}".rstrip(": "))
        try:
            if name == self.compensate_actor:
                self.store.finish_failed(chain_id, compensation_error=reason)
                log.error("compensation of chain %s failed: %s", chain_id, reason)
            else:
                self.send_compensate(chain_id, self.step_of_actor[name], reason)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise ConnectionClosed(exc) from None  # Dramatiq retries the nack
