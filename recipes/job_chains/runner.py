"""Runs one step of a chain: guards, bookkeeping, exactly-once effect on the chain state.

For every step message:
1. Unknown chain: ``PermanentError`` (dead-lettered). A chain that is no longer running
   (failed, compensating, completed) runs no more steps: the message is skipped and the rest
   of its Dramatiq pipeline is cut.
2. ``common.idempotency.once("chain:<id>:<step>")``: a redelivered or duplicated message whose
   step already finished does nothing; a concurrent duplicate is deferred until the first ends.
3. The step function gets a ``StepContext``: the order plus every earlier step's output.
   Its output and the "done" mark are written in the same MULTI as the idempotency mark.
4. A step that finished after its chain started compensating asks for compensation again,
   so its effect is undone too (``Compensate`` is idempotent per step).

Exceptions propagate to ``common.retry``: transient ones are retried, permanent ones (or
retries exhausted) dead-letter the message and ``hooks.ChainFailureHook`` starts compensation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from dramatiq.middleware import CurrentMessage

from common.errors import PermanentError
from common.idempotency import Idempotency
from recipes.job_chains.models import Order
from recipes.job_chains.state import ChainStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepContext:
    chain_id: str
    order: Order
    outputs: dict[str, dict[str, Any]]
    attempt: int
    client: redis.Redis
    namespace: str


StepFn = Callable[[StepContext], dict[str, Any]]


def cut_pipeline() -> None:
    """Stop Dramatiq's Pipelines middleware from sending this message's next step."""
    message = CurrentMessage.get_current_message()
    if message is not None:
        message.options.pop("pipe_target", None)


class StepRunner:
    def __init__(self, store: ChainStore, idem: Idempotency,
                 on_late: Callable[[str, str], None]) -> None:
        self.store = store
        self.idem = idem
        self.on_late = on_late  # (chain id, step): ask for compensation again

    def run(self, chain_id: str, step: str, fn: StepFn, *, finish: bool = False) -> bool:
        """Run ``step`` once for the chain; True if this call ran it."""
        status = self.store.status(chain_id)
        if status is None:
            raise PermanentError(f"no chain {chain_id!r} (expired or never started)")
        if status != "running":
            self.store.step_skipped(chain_id, step, f"chain is {status}")
            cut_pipeline()
            return False
        with self.idem.once(f"chain:{chain_id}:{step}") as claim:
            if claim is None:
                return False  # done before: the pipeline goes on, the next step is guarded too
            attempt = self.store.step_started(chain_id, step)
            ctx = StepContext(chain_id, self.store.order(chain_id), self.store.outputs(chain_id),
                              attempt, self.store.client, self.store.namespace)
            try:
                output = fn(ctx)
            except Exception as exc:
                self.store.step_error(chain_id, step, f"{type(exc).__name__}: {exc}")
                raise
            pipe = self.store.client.pipeline(transaction=True)
            self.store.step_done(pipe, chain_id, step, output, finish=finish)
            self.idem.mark_done(claim, pipe)
            after = pipe.execute()[0]
        if after not in (b"running", b"completed"):
            log.warning("step %s of %s finished after the chain failed: compensating it",
                        step, chain_id)
            self.on_late(chain_id, step)
            cut_pipeline()
        return True
