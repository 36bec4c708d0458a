"""``cookbook progress <message-id>``: follow a job's progress stream with a live bar.

Exit status: 0 the job completed, 1 it failed, 3 no event within ``--timeout``.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import redis
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from common.settings import SettingsError, load_settings
from recipes.progress_tracking.models import ProgressEvent
from recipes.progress_tracking.stream import ProgressStream, ProgressTimeout

READER_NAME = "cookbook-progress"


def _stream() -> ProgressStream:
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    # Its own named connection: an operator (or a test) can spot the reader in CLIENT LIST.
    client = redis.Redis.from_url(settings.redis_url, client_name=READER_NAME,
                                  socket_connect_timeout=settings.connect_timeout_s,
                                  socket_timeout=settings.socket_timeout_s)
    return ProgressStream(client, settings.namespace)


@click.command("progress")
@click.argument("message_id")
@click.option("--after", default="0-0", show_default=True,
              help="Resume after this stream id (each --json line carries its stream_id).")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per event, no bar.")
@click.option("--timeout", default=60.0, show_default=True,
              help="Give up after this many seconds without an event.")
def progress(message_id: str, after: str, as_json: bool, timeout: float) -> None:
    """Follow the progress of the job with id MESSAGE_ID until it completes or fails."""
    events = _stream().follow(message_id, after=after, timeout_s=timeout)
    try:
        final = _print_json(events) if as_json else _show_bar(message_id, events)
    except ProgressTimeout as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(3) from None
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis: {type(exc).__name__}: {exc}") from None
    raise SystemExit(0 if final.kind == "completed" else 1)


def _print_json(events: Iterator[ProgressEvent]) -> ProgressEvent:
    last = None
    for event in events:
        click.echo(event.model_dump_json())
        last = event
    assert last is not None
    return last


def _show_bar(message_id: str, events: Iterator[ProgressEvent]) -> ProgressEvent:
    console = Console()
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TimeElapsedColumn())
    last = None
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(f"job {message_id[:8]}", total=100)
        for event in events:
            last = event
            if event.missed:
                bar.console.print(f"[yellow]{event.missed} older events were trimmed")
            if event.percent is not None:
                bar.update(task, completed=event.percent)
            if event.kind == "progress":
                bar.update(task, description=event.message or f"job {message_id[:8]}")
            else:
                bar.console.print(f"attempt {event.attempt}: {event.kind} {event.message}".rstrip())
    assert last is not None
    style = "green" if last.kind == "completed" else "red"
    console.print(f"[{style}]{last.kind}[/]" + (f": {last.message}" if last.kind != "completed"
                                                  and last.message else ""))
    return last
