"""Producer side: send CPU jobs by task name (JSON only on the wire).

Run with: ``uv run python -m recipes.sandboxed_cpu.enqueue`` (sends a mix, misbehaving
jobs included, to a running worker).
"""

from __future__ import annotations

from typing import Any

import dramatiq

from recipes.sandboxed_cpu.actors import SandboxedActors
from recipes.sandboxed_cpu.models import CpuJob

#: One of each misbehaving job: label -> (task, args, time limit in s).
FAULTS: dict[str, tuple[str, list[int], float | None]] = {
    "segfault": ("segfault", [], None), "exit3": ("exit", [3], None),
    "exit0": ("exit", [0], None), "allocate": ("allocate", [4_096], None),
    "spin": ("spin", [], 1.5),
}


def send_job(actors: SandboxedActors, job: CpuJob, **options: Any) -> dramatiq.Message[Any]:
    return actors.run.send_with_options(job, **options)


def send_mix(actors: SandboxedActors, *, rounds: int, burn_steps: int = 200_000,
             normal_per_fault: int = 2) -> tuple[list[str], dict[str, str]]:
    """Interleave normal ``burn`` jobs with each fault; returns (normal ids, fault id->label)."""
    normal: list[str] = []
    faults: dict[str, str] = {}
    for r in range(rounds):
        for label, (task, args, limit) in FAULTS.items():
            for n in range(normal_per_fault):
                job_id = f"ok-{r}-{label}-{n}"
                send_job(actors, CpuJob(job_id=job_id, task="burn", args=[burn_steps]))
                normal.append(job_id)
            job_id = f"bad-{r}-{label}"
            send_job(actors, CpuJob.model_validate(
                {"job_id": job_id, "task": task, "args": args, "timeout_s": limit}))
            faults[job_id] = label
    return normal, faults


if __name__ == "__main__":
    from recipes.sandboxed_cpu.worker import actors as worker_actors

    ok, bad = send_mix(worker_actors, rounds=1)
    print(f"sent {len(ok)} normal jobs and {len(bad)} misbehaving ones")
