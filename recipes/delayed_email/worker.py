"""Worker entry point for the ``dramatiq`` CLI; settings come from the environment.

Run with: ``uv run dramatiq recipes.delayed_email.worker -p 2 -t 8``
SMTP server: ``DELAYED_EMAIL_SMTP_HOST`` / ``DELAYED_EMAIL_SMTP_PORT`` (127.0.0.1:1025);
other tunables in ``recipes/delayed_email/config.py``.
"""

from __future__ import annotations

import dramatiq

from common.broker import make_broker
from common.settings import get_settings
from recipes.delayed_email.actors import register
from recipes.delayed_email.config import EmailConfig

settings = get_settings()
broker = make_broker(settings)
dramatiq.set_broker(broker)
actors = register(broker, broker.client, settings.namespace, EmailConfig())
