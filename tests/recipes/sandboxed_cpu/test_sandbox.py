"""sandboxed_cpu in one process: job errors come back as data, dead children are replaced,
progress reaches Redis, and a permanent job error is dead-lettered without a retry."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psutil
import pytest

from common.broker import CookbookBroker
from common.errors import PermanentError, TransientError
from recipes.sandboxed_cpu import QUEUE
from recipes.sandboxed_cpu.actors import SandboxedActors
from recipes.sandboxed_cpu.enqueue import send_job
from recipes.sandboxed_cpu.errors import (
    SandboxCrashed,
    SandboxJobError,
    SandboxJobFailed,
    SandboxMemoryExceeded,
    SandboxTimeout,
)
from recipes.sandboxed_cpu.models import CpuJob
from recipes.sandboxed_cpu.sandbox import Sandbox
from recipes.sandboxed_cpu.tasks import call
from tests.support import wait_until


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(processes=1, memory_mb=256, timeout_s=10,
                  preload=["recipes.sandboxed_cpu.tasks"])
    yield box
    box.stop()


def test_job_errors_come_back_as_data_and_the_pool_keeps_its_child(sandbox: Sandbox) -> None:
    first = sandbox.run(call, "a", "noop", [])["child_pid"]
    with pytest.raises(SandboxJobFailed) as permanent:
        sandbox.run(call, "b", "fail", [1])
    assert isinstance(permanent.value, PermanentError) and "bad input" in str(permanent.value)
    # This exception would break a pebble pool if pickled; here it is a plain transient error.
    with pytest.raises(SandboxJobError) as odd:
        sandbox.run(call, "c", "fail", [0])
    assert isinstance(odd.value, TransientError) and "OddError" in str(odd.value)
    assert sandbox.run(call, "d", "noop", [])["child_pid"] == first


def test_a_dead_child_is_replaced(sandbox: Sandbox) -> None:
    first = sandbox.run(call, "a", "noop", [])["child_pid"]
    with pytest.raises(SandboxCrashed) as crash:
        sandbox.run(call, "b", "exit", [0])
    assert crash.value.exit_code == 0 and crash.value.signal is None
    with pytest.raises(SandboxCrashed) as segv:
        sandbox.run(call, "c", "segfault", [])
    assert segv.value.signal == "SIGSEGV"
    second = sandbox.run(call, "d", "noop", [])["child_pid"]
    assert second != first


def test_a_job_over_its_time_limit_has_its_child_killed(sandbox: Sandbox) -> None:
    first = sandbox.run(call, "a", "noop", [])["child_pid"]
    with pytest.raises(SandboxTimeout):
        sandbox.run(call, "b", "spin", [], timeout_s=1.0)
    wait_until(lambda: not psutil.pid_exists(first), timeout=10, message="spinning child gone")
    assert sandbox.run(call, "c", "noop", [])["child_pid"] != first


def test_a_memory_bomb_fails_alone_and_the_child_lives_on(sandbox: Sandbox) -> None:
    first = sandbox.run(call, "a", "noop", [])["child_pid"]
    with pytest.raises(SandboxMemoryExceeded) as bomb:
        sandbox.run(call, "b", "allocate", [1_024])
    assert isinstance(bomb.value, PermanentError) and "256 MB" in str(bomb.value)
    assert sandbox.run(call, "c", "allocate", [64])["value"] == 64
    assert sandbox.run(call, "d", "noop", [])["child_pid"] == first


def test_progress_and_permanent_errors_through_a_worker(
    actors: SandboxedActors, broker: CookbookBroker, start_worker: Callable[..., object]
) -> None:
    send_job(actors, CpuJob(job_id="burn", task="burn", args=[300_000]))
    send_job(actors, CpuJob(job_id="bad", task="fail", args=[1]))
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: actors.result("burn") and broker.dead_letters.count() == 1, timeout=30,
               message="burn result and one dead letter")
    assert actors.progress("burn") is not None
    assert actors.progress("burn")["done"] == 300_000  # type: ignore[index]
    [letter] = broker.dead_letters.recent()
    assert letter.error_type == "SandboxJobFailed" and letter.attempts == 1
