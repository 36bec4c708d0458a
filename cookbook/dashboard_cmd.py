"""``cookbook dashboard``: serve the monitoring UI for the namespace in the environment."""

from __future__ import annotations

import click

from common.broker import make_broker
from common.settings import load_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True)
@click.option("--read-only", is_flag=True, help="Hide replay/purge and refuse them.")
def dashboard(host: str, port: int, read_only: bool) -> None:
    """Queues, workers, dead letters and Redis health; Prometheus gauges at /metrics."""
    import uvicorn

    from cookbook.dashboard.app import create_app

    settings = load_settings()
    app = create_app(make_broker(settings), read_only=read_only,
                     heartbeat_timeout_ms=settings.heartbeat_timeout_ms,
                     redis_label=settings.redis_url_safe)
    uvicorn.run(app, host=host, port=port, log_level="warning")
