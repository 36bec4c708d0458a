"""sandboxed_cpu proof: misbehaving jobs fail alone, each with its own error type, through a
real ``dramatiq`` CLI worker whose process (PID) survives all of them."""

from __future__ import annotations

from collections.abc import Callable

import psutil

from common.broker import CookbookBroker
from recipes.sandboxed_cpu import keys
from recipes.sandboxed_cpu.actors import SandboxedActors
from recipes.sandboxed_cpu.enqueue import send_mix
from tests.recipes.sandboxed_cpu.conftest import SANDBOX_ENV
from tests.support import CliWorker, wait_until

EXPECTED = {  # fault label -> (error type, words in the error, attempts made)
    "segfault": ("SandboxCrashed", "SIGSEGV", 2),
    "exit3": ("SandboxCrashed", "status 3", 2),
    "exit0": ("SandboxCrashed", "status 0", 2),
    "allocate": ("SandboxMemoryExceeded", "256 MB", 1),
    "spin": ("SandboxTimeout", "1.5 s time limit", 2),
}


def _worker_processes(cli: CliWorker) -> list[int]:
    return [p.pid for p in psutil.Process(cli.pid).children()]


def test_faults_fail_alone_with_their_own_error_and_the_worker_pid_survives(
    actors: SandboxedActors, broker: CookbookBroker, cli_worker: Callable[..., CliWorker]
) -> None:
    cli = cli_worker("recipes.sandboxed_cpu.worker", processes=1, threads=4, env=SANDBOX_ENV)
    [worker_pid] = _worker_processes(cli)
    normal, faults = send_mix(actors, rounds=2)
    store = broker.dead_letters
    results = keys(actors.namespace)["results"]

    def done() -> bool:
        return actors.client.hlen(results) == len(normal) and store.count() == len(faults)

    wait_until(done, timeout=90, interval=0.2, message=lambda: (
        f"{len(normal)} results and {len(faults)} dead letters; have "
        f"{actors.client.hlen(results)} and {store.count()}\n{cli.log_tail()}"))

    # Every normal job, interleaved with the faults, succeeded in a child process.
    children: set[int] = set()
    for job_id in normal:
        result = actors.result(job_id)
        assert result is not None and result["worker_pid"] == worker_pid, (job_id, result)
        assert result["child_pid"] != worker_pid
        children.add(result["child_pid"])
    assert len(children) < len(normal), "children are reused, not one per job"

    # Each fault failed with its own error type, after the attempts its type allows.
    letters = {letter.id: letter for letter in store.recent(limit=100)}
    by_job = {letter.message["args"][0]["job_id"]: letter for letter in letters.values()
              if letter.message}
    assert set(by_job) == set(faults)
    for job_id, label in faults.items():
        error_type, words, attempts = EXPECTED[label]
        letter = by_job[job_id]
        assert letter.error_type == error_type, (job_id, letter.error_type, letter.error)
        assert words in (letter.error or ""), (job_id, letter.error)
        assert letter.attempts == attempts, (job_id, letter.attempts)

    # The worker process is the one that booted: never replaced, still alive, still serving.
    assert actors.worker_pids() == {worker_pid}
    assert actors.boots() == [worker_pid]
    assert _worker_processes(cli) == [worker_pid] and cli.proc is not None
    assert cli.proc.poll() is None
