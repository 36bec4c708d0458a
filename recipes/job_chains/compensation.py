"""Compensation: undo the finished steps of a failed chain, newest first, then mark it failed.

Safe to run any number of times for one chain: only a running chain switches to
``compensating`` (the first failure's reason is kept), each undo is idempotent, and a step
already compensated is skipped. A branch that finishes *after* this ran sends another
``Compensate`` (see ``runner``), which undoes that branch too.
"""

from __future__ import annotations

import logging

from recipes.job_chains import STEPS
from recipes.job_chains.models import Compensate
from recipes.job_chains.orders import COMPENSATIONS
from recipes.job_chains.runner import StepContext
from recipes.job_chains.state import ChainStore

log = logging.getLogger(__name__)


def compensate_chain(store: ChainStore, job: Compensate) -> None:
    before = store.begin_compensation(job.chain_id, job.step, job.reason)
    if before is None:
        log.error("compensation for unknown chain %s (expired?): nothing to undo", job.chain_id)
        return
    if before == "completed":
        log.warning("chain %s completed; ignoring a late failure of %s", job.chain_id, job.step)
        return
    state = store.get(job.chain_id)
    assert state is not None
    ctx = StepContext(job.chain_id, state.order, store.outputs(job.chain_id), 0, store.client,
                      store.namespace)
    for step in reversed(STEPS):
        if state.steps[step].status == "done" and step in COMPENSATIONS:
            COMPENSATIONS[step](ctx)
            store.mark_compensated(job.chain_id, step)
            log.info("chain %s: compensated %s", job.chain_id, step)
    store.finish_failed(job.chain_id)
