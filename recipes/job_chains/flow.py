"""The order flow as Dramatiq composition: a pipeline, then a group of two pipelines.

Every message carries only the chain id (``pipe_ignore`` on every actor): step outputs live
in the chain state, so messages stay small and a redelivered message reads the same inputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dramatiq import group, pipeline

from recipes.job_chains.models import Arrive, StepJob

if TYPE_CHECKING:
    from recipes.job_chains.actors import ChainActors


def order_pipeline(actors: ChainActors, chain_id: str) -> pipeline:
    """validate -> charge -> split (split starts ``branches``)."""
    job = StepJob(chain_id=chain_id)
    return pipeline([actors.validate.message(job), actors.charge.message(job),
                     actors.split.message(job)], broker=actors.broker)


def branches(actors: ChainActors, chain_id: str) -> group:
    """(email -> archive) || (invoice -> archive): each branch ends at the fan-in."""
    job = StepJob(chain_id=chain_id)
    return group([
        pipeline([actors.email.message(job),
                  actors.archive.message(Arrive(chain_id=chain_id, branch="email"))],
                 broker=actors.broker),
        pipeline([actors.invoice.message(job),
                  actors.archive.message(Arrive(chain_id=chain_id, branch="invoice"))],
                 broker=actors.broker),
    ], broker=actors.broker)
