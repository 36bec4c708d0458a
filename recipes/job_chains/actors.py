"""Chain actors: one per step, the fan-out, the fan-in and the compensation.

The flow is built from Dramatiq composition (see ``enqueue.py``):

    pipeline([validate, charge, split])          split runs:
    group([pipeline([email,   archive(branch="email")]),
           pipeline([invoice, archive(branch="invoice")])])

``archive`` is the fan-in: every branch's pipeline ends in an ``archive`` message naming the
branch. The message that finds all branches arrived runs the archive step, guarded by the
step runner's idempotency key, so it runs once however often any of them is delivered.
No ``GroupCallbacks``: its ``Barrier`` answers True again on redelivery and after expiry.

Run with: ``uv run dramatiq recipes.job_chains.worker -p 2 -t 8``
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import dramatiq
import redis

from common.idempotency import Idempotency
from common.jobs import TypedActor, typed_actor
from recipes.job_chains import (
    BRANCHES,
    COMPENSATE_QUEUE,
    MAX_BACKOFF_MS,
    MIN_BACKOFF_MS,
    QUEUE,
    STEP_LEASE_MS,
    STEP_RETRIES,
)
from recipes.job_chains.compensation import compensate_chain
from recipes.job_chains.flow import branches
from recipes.job_chains.hooks import ChainFailureHook
from recipes.job_chains.models import Arrive, Compensate, StepJob
from recipes.job_chains.orders import STEP_FNS
from recipes.job_chains.runner import StepRunner
from recipes.job_chains.state import ChainStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainActors:
    broker: dramatiq.Broker
    store: ChainStore
    validate: TypedActor[StepJob, None]
    charge: TypedActor[StepJob, None]
    split: TypedActor[StepJob, None]
    email: TypedActor[StepJob, None]
    invoice: TypedActor[StepJob, None]
    archive: TypedActor[Arrive, None]
    compensate: TypedActor[Compensate, None]


def register(broker: dramatiq.Broker, client: redis.Redis, namespace: str, *,
             step_lease_ms: int = STEP_LEASE_MS) -> ChainActors:
    """Declare the chain actors on ``broker`` and add the failure hook to its middleware."""
    store = ChainStore(client, namespace)
    # pipe_ignore: outputs travel through the chain state, not as extra message arguments.
    options: dict[str, Any] = {"queue_name": QUEUE, "max_retries": STEP_RETRIES,
                               "min_backoff": MIN_BACKOFF_MS, "max_backoff": MAX_BACKOFF_MS,
                               "pipe_ignore": True}

    @typed_actor(broker=broker, queue_name=COMPENSATE_QUEUE, actor_name="chain_compensate",
                 max_retries=10, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS)
    def chain_compensate(job: Compensate) -> None:
        compensate_chain(store, job)

    def ask_compensation(chain_id: str, step: str, reason: str = "step finished late") -> None:
        chain_compensate.send(Compensate(chain_id=chain_id, step=step, reason=reason))

    runner = StepRunner(store, Idempotency(client, namespace, lease_ms=step_lease_ms),
                        on_late=ask_compensation)

    def step_actor(step: str) -> TypedActor[StepJob, None]:
        def body(job: StepJob) -> None:
            runner.run(job.chain_id, step, STEP_FNS[step])

        body.__name__ = f"chain_{step}"
        return typed_actor(broker=broker, actor_name=f"chain_{step}", **options)(body)

    validate, charge, email, invoice = (step_actor(s) for s in ("validate", "charge", *BRANCHES))

    @typed_actor(broker=broker, actor_name="chain_archive", **options)
    def chain_archive(job: Arrive) -> None:
        if store.arrive(job.chain_id, job.branch) < len(BRANCHES):
            return  # the other branch's archive message will find both arrived
        runner.run(job.chain_id, "archive", STEP_FNS["archive"], finish=True)

    actors: ChainActors

    @typed_actor(broker=broker, actor_name="chain_split", **options)
    def chain_split(job: StepJob) -> None:
        if store.status(job.chain_id) == "running":
            branches(actors, job.chain_id).run()

    actors = ChainActors(broker, store, validate, charge, chain_split, email, invoice,
                         chain_archive, chain_compensate)
    steps = {"chain_validate": "validate", "chain_charge": "charge", "chain_email": "email",
             "chain_invoice": "invoice", "chain_archive": "archive", "chain_split": "split"}
    broker.add_middleware(ChainFailureHook(store, steps, "chain_compensate", ask_compensation))
    return actors
