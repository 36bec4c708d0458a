"""The chain state in Redis: one hash per chain, readable from any process.

Writers are the step runner (started, done, error), the fan-in (arrived) and the
compensation (failed, compensated). ``get`` returns a ``ChainState`` for dashboards, CLIs
and tests; see ``python -m recipes.job_chains.status <chain id>``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from recipes.job_chains import CHAIN_DEADLINE_S, FINISHED_TTL_S, STEPS, chain_keys, index_keys
from recipes.job_chains import scripts as lua
from recipes.job_chains.models import ChainState, Event, Order, StepState


def _now() -> int:
    return int(time.time() * 1000)


def _event(step: str, event: str, detail: str = "") -> str:
    return Event(ts_ms=_now(), step=step, event=event, detail=detail[:500]).model_dump_json()


class ChainStore:
    def __init__(self, client: redis.Redis, namespace: str, *,
                 deadline_s: int = CHAIN_DEADLINE_S) -> None:
        self.client = client
        self.namespace = namespace
        self.index = index_keys(namespace)
        self.deadline_s = deadline_s
        self._create = client.register_script(lua.CREATE)
        self._step_done = client.register_script(lua.STEP_DONE)
        self._begin = client.register_script(lua.BEGIN_COMPENSATION)
        self._finish_failed = client.register_script(lua.FINISH_FAILED)

    def keys(self, chain_id: str) -> dict[str, str]:
        return chain_keys(self.namespace, chain_id)

    def _four(self, chain_id: str) -> list[str]:
        k = self.keys(chain_id)
        return [k["state"], k["history"], self.index["running"], k["arrived"]]

    def create(self, order: Order) -> bool:
        """Record a new running chain for the order; False if it exists already."""
        k, now = self.keys(order.order_id), _now()
        return bool(self._create(
            keys=[k["state"], self.index["all"], self.index["running"], k["history"]],
            args=[order.model_dump_json(), now, now + self.deadline_s * 1000, order.order_id,
                  _event("chain", "started")]))

    def status(self, chain_id: str) -> str | None:
        raw = self.client.hget(self.keys(chain_id)["state"], "status")
        return None if raw is None else raw.decode()  # type: ignore[union-attr]

    def order(self, chain_id: str) -> Order:
        raw: bytes = self.client.hget(self.keys(chain_id)["state"], "order")  # type: ignore[assignment]
        return Order.model_validate_json(raw)

    def outputs(self, chain_id: str) -> dict[str, dict[str, Any]]:
        fields = [f"step:{s}:output" for s in STEPS]
        raw = self.client.hmget(self.keys(chain_id)["state"], fields)
        return {s: json.loads(v) for s, v in zip(STEPS, raw, strict=True) if v is not None}

    def step_started(self, chain_id: str, step: str) -> int:
        """Mark the step running; returns this attempt's number (1 for the first)."""
        k = self.keys(chain_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(k["state"], mapping={f"step:{step}:status": "running", "updated_ms": _now()})
        pipe.hincrby(k["state"], f"step:{step}:attempts", 1)
        pipe.rpush(k["history"], _event(step, "started"))
        return int(pipe.execute()[1])

    def step_error(self, chain_id: str, step: str, error: str) -> None:
        k = self.keys(chain_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(k["state"], f"step:{step}:error", error[:2_000])
        pipe.rpush(k["history"], _event(step, "error", error))
        pipe.execute()

    def step_done(self, pipe: redis.client.Pipeline, chain_id: str, step: str,
                  output: dict[str, Any], *, finish: bool) -> None:
        """Queue the "done" write on ``pipe``; its result is the chain status afterwards."""
        self._step_done(keys=self._four(chain_id),
                        args=[step, json.dumps(output), _now(), "1" if finish else "0",
                              FINISHED_TTL_S, chain_id, _event(step, "done")], client=pipe)

    def step_skipped(self, chain_id: str, step: str, why: str) -> None:
        self.client.rpush(self.keys(chain_id)["history"], _event(step, "skipped", why))

    def arrive(self, chain_id: str, branch: str) -> int:
        """Note that ``branch`` reached the fan-in; returns how many branches have."""
        k = self.keys(chain_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.sadd(k["arrived"], branch)
        pipe.scard(k["arrived"])
        pipe.rpush(k["history"], _event(branch, "arrived"))
        return int(pipe.execute()[1])

    def begin_compensation(self, chain_id: str, step: str, reason: str) -> str | None:
        k = self.keys(chain_id)
        old = self._begin(keys=[k["state"], k["history"]],
                          args=[step, reason[:2_000], _now(), _event(step, "failed", reason)])
        return None if old is None else old.decode()

    def mark_compensated(self, chain_id: str, step: str) -> None:
        k = self.keys(chain_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(k["state"], f"step:{step}:status", "compensated")
        pipe.rpush(k["history"], _event(step, "compensated"))
        pipe.execute()

    def finish_failed(self, chain_id: str, compensation_error: str = "") -> str | None:
        event = _event("chain", "failed", compensation_error)
        out = self._finish_failed(keys=self._four(chain_id),
                                  args=[_now(), FINISHED_TTL_S, chain_id, event,
                                        compensation_error[:2_000]])
        return None if out is None else out.decode()

    def overdue(self, now_ms: int | None = None) -> list[str]:
        """Chains still running past their deadline."""
        raw: list[bytes] = self.client.zrangebyscore(  # type: ignore[assignment]
            self.index["running"], "-inf", now_ms or _now())
        return [r.decode() for r in raw]

    def get(self, chain_id: str) -> ChainState | None:
        k = self.keys(chain_id)
        fields: dict[bytes, bytes] = self.client.hgetall(k["state"])  # type: ignore[assignment]
        raw = {f.decode(): v.decode() for f, v in fields.items()}
        if not raw:
            return None
        steps = {s: StepState.model_validate({
            "status": raw.get(f"step:{s}:status"),
            "output": json.loads(raw[f"step:{s}:output"]) if f"step:{s}:output" in raw else None,
            "attempts": int(raw.get(f"step:{s}:attempts", 0)),
            "error": raw.get(f"step:{s}:error")}) for s in STEPS}
        events: list[bytes] = self.client.lrange(k["history"], 0, -1)  # type: ignore[assignment]
        return ChainState.model_validate({
            "chain_id": chain_id, "status": raw["status"], "order": json.loads(raw["order"]),
            "steps": steps, "failed_step": raw.get("failed_step"), "error": raw.get("error"),
            "compensation_error": raw.get("compensation_error"),
            "created_ms": int(raw["created_ms"]), "finished_ms": raw.get("finished_ms"),
            "history": [json.loads(e) for e in events]})
