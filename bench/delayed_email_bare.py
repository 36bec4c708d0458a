"""Bench only: bare Dramatiq (stock RedisBroker and worker) sending delayed emails over SMTP,
for ``bench/delayed_email.py``. No idempotency, no cancel: just ``send_with_options(delay=)``.
"""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

NS = os.environ["COOKBOOK_NAMESPACE"]
PORT = int(os.environ["DELAYED_EMAIL_SMTP_PORT"])
broker = RedisBroker(client=redis.Redis.from_url(os.environ["REDIS_URL"]), namespace=NS)
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="bare_email", max_retries=3)
def bare_send(email_id: str, due_ms: int) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = "bench@cookbook.example", "someone@example.com"
    msg["Subject"], msg["Message-ID"] = f"bare {email_id}", f"<{email_id}@cookbook.example>"
    msg.set_content(f"due {due_ms}")
    with smtplib.SMTP("127.0.0.1", PORT, timeout=10) as smtp:
        smtp.send_message(msg)
