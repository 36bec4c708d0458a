"""Generator for notebooks/sandboxed_cpu.ipynb (run: uv run python notebooks/sandboxed_cpu.py)."""

from make_notebook import write

write("sandboxed_cpu", [
    ("md", """
# Sandboxed CPU jobs, live

Normal CPU jobs are interleaved with a segfault, `os._exit(3)`, `os._exit(0)`, a memory bomb
and an endless loop. Each runs in a pebble pool child with a 256 MB memory limit; the loop
has a 1.5 s time limit. This notebook uses `REDIS_URL` if set, else starts a throwaway
`redis-server`.
"""),
    ("code", """
import os, time
from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.sandboxed_cpu import QUEUE
from recipes.sandboxed_cpu.actors import register
from recipes.sandboxed_cpu.config import SandboxSettings, make_sandbox
from recipes.sandboxed_cpu.enqueue import send_mix

settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-sandbox")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-sandbox:*") or ["-"])
sandbox = make_sandbox(SandboxSettings(processes=2, memory_mb=256, timeout_s=20),
                       redis_url=settings.redis_url, namespace=settings.namespace)
actors = register(broker, broker.client, settings.namespace, sandbox, min_backoff=100)
normal, faults = send_mix(actors, rounds=1)
print(len(normal), "normal jobs,", len(faults), "faults:", sorted(faults.values()))
"""),
    ("md", "Run an in-process worker until every job has an outcome:"),
    ("code", """
with running_worker(broker, queues=[QUEUE], threads=4):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (
            all(actors.result(j) for j in normal)
            and broker.dead_letters.count() == len(faults)):
        time.sleep(0.2)
sandbox.stop()
print("this process:", os.getpid(), "| worker PIDs seen by jobs:", actors.worker_pids())
print("child PIDs of normal jobs:", sorted({actors.result(j)["child_pid"] for j in normal}))
"""),
    ("md", "Each fault is in the dead-letter queue with its own error type:"),
    ("code", """
for letter in broker.dead_letters.recent():
    print(f"{letter.message['args'][0]['job_id']:16} {letter.error_type:22} "
          f"attempts={letter.attempts}  {letter.error}")
assert broker.dead_letters.count() == len(faults)
assert actors.worker_pids() == {os.getpid()}
"""),
])
