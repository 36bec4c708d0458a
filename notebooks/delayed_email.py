"""Generator for notebooks/delayed_email.ipynb (run: uv run python notebooks/delayed_email.py)."""

from make_notebook import write

write("delayed_email", [
    ("md", """
# Send email later, live

A real SMTP server (aiosmtpd) on a free port receives the emails. Short delays ride on
Dramatiq's delay queue; long ones wait in a Redis sorted set. This notebook uses `REDIS_URL`
if set, else starts a throwaway `redis-server`.
"""),
    ("code", """
from cookbook.redis_local import ensure_redis_url
from common.broker import make_broker
from common.settings import load_settings
from common.worker import running_worker
from recipes.delayed_email import QUEUE
from recipes.delayed_email.actors import register
from recipes.delayed_email.config import EmailConfig
from recipes.delayed_email.enqueue import cancel, reschedule, sample_email, send_later
from recipes.delayed_email.smtp_server import RecordingSmtp

smtp = RecordingSmtp().start()
settings = load_settings(redis_url=ensure_redis_url(), namespace="notebook-email")
broker = make_broker(settings)
broker.client.delete(*broker.client.keys("notebook-email:*") or ["-"])
actors = register(broker, broker.client, settings.namespace,
                  EmailConfig(smtp_port=smtp.port, promote_interval_ms=100))
"""),
    ("md", "Schedule 6 emails over 2 s on both paths, one a week ahead; cancel one, move one."),
    ("code", """
due = {}
for i in range(6):
    record = send_later(actors, sample_email(f"nb-{i}"), delay_ms=i * 400,
                        via="delay" if i % 2 else "schedule")
    due[record.email.email_id] = record.due_ms
send_later(actors, sample_email("next-week"), delay_ms=7 * 86_400_000)
print(cancel(actors, "nb-5"), reschedule(actors, "nb-0", delay_ms=2_500))
due.pop("nb-5")
due["nb-0"] = actors.schedule.get("nb-0").due_ms
actors.schedule.counts()
"""),
    ("code", """
import time

with running_worker(broker, queues=[QUEUE], threads=4):
    deadline = time.monotonic() + 20
    while set(smtp.by_email()) != set(due) and time.monotonic() < deadline:
        time.sleep(0.1)
    broker.join(QUEUE, timeout=20_000)
for email_id, items in sorted(smtp.by_email().items()):
    late = items[0].at * 1000 - due[email_id]
    print(f"{email_id}: received {len(items)}x, {late:.0f} ms after due")
assert set(smtp.by_email()) == set(due) and all(len(v) == 1 for v in smtp.by_email().values())
"""),
    ("md", "The week-ahead email sits in the Redis schedule; Dramatiq's delay queue is empty."),
    ("code", """
print(actors.schedule.counts())
smtp.stop()
"""),
])
