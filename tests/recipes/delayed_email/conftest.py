"""Recipe fixtures: a real SMTP server (aiosmtpd) on a free port, and fast test settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from recipes.delayed_email.config import EmailConfig
from recipes.delayed_email.smtp_server import RecordingSmtp

# Fast retries, promotion and lease expiry so failure paths finish in seconds.
FAST = {"min_backoff_ms": 100, "max_backoff_ms": 1_000, "promote_interval_ms": 100,
        "smtp_timeout_s": 1.0, "idem_lease_ms": 8_000}


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., RecordingSmtp]]:
    """``smtp_server(port=None)`` starts a recording SMTP server; stopped at teardown."""
    servers: list[RecordingSmtp] = []

    def start(port: int | None = None, **kwargs: float) -> RecordingSmtp:
        server = RecordingSmtp(port, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def email_config(port: int, **overrides: object) -> EmailConfig:
    return EmailConfig(smtp_host="127.0.0.1", smtp_port=port, **{**FAST, **overrides})  # type: ignore[arg-type]


def email_env(port: int) -> dict[str, str]:
    """The same settings as environment variables, for ``dramatiq`` subprocess workers."""
    return {"DELAYED_EMAIL_SMTP_HOST": "127.0.0.1", "DELAYED_EMAIL_SMTP_PORT": str(port),
            **{f"DELAYED_EMAIL_{k.upper()}": str(v) for k, v in FAST.items()}}
