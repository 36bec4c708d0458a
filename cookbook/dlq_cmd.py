"""``cookbook dlq``: list, show, replay and purge dead letters (settings from the environment)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table

from common.broker import make_broker
from common.settings import load_settings

console = Console()


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else "-"


@click.group()
def dlq() -> None:
    """Inspect and re-drive the dead-letter queue."""


@dlq.command("list")
@click.option("--queue", default=None, help="Only this queue.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line.")
def list_cmd(queue: str | None, limit: int, as_json: bool) -> None:
    """Newest dead letters first."""
    store = make_broker(load_settings()).dead_letters
    letters = store.recent(limit=limit, queue=queue)
    if as_json:
        for letter in letters:
            click.echo(letter.model_dump_json(exclude={"traceback", "message", "raw"}))
        return
    table = Table(title=f"dead letters ({store.count()} in all)")
    for column in ("id", "queue", "actor", "attempts", "failed at", "reason"):
        table.add_column(column)
    for letter in letters:
        table.add_row(letter.id, letter.queue, letter.actor or "-", str(letter.attempts),
                      _when(letter.failed_at_ms), letter.reason)
    console.print(table)


@dlq.command()
@click.argument("letter_id")
def show(letter_id: str) -> None:
    """Everything recorded about one dead letter, as JSON."""
    letter = make_broker(load_settings()).dead_letters.get(letter_id)
    if letter is None:
        raise click.ClickException(f"no dead letter with id {letter_id!r}")
    click.echo(json.dumps(letter.model_dump(), indent=2))


@dlq.command()
@click.argument("letter_ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every replayable record.")
def replay(letter_ids: tuple[str, ...], replay_all: bool) -> None:
    """Enqueue fresh copies (attempt count reset) and remove the records."""
    broker = make_broker(load_settings())
    store = broker.dead_letters
    targets: list[str] = list(letter_ids)
    if replay_all:
        targets = [item.id for item in store.recent(limit=max(store.count(), 1)) if item.replayable]
    if not targets:
        raise click.UsageError("give dead-letter ids or --all")
    for letter_id in targets:
        try:
            message = store.replay(broker, letter_id)
        except (KeyError, ValueError) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None
        click.echo(f"replayed {letter_id} as {message.message_id} on {message.queue_name}")


@dlq.command()
@click.argument("letter_ids", nargs=-1)
@click.option("--all", "purge_all", is_flag=True, help="Delete every record.")
@click.option("--older-than-days", type=float, default=None)
def purge(letter_ids: tuple[str, ...], purge_all: bool, older_than_days: float | None) -> None:
    """Delete records for good."""
    store = make_broker(load_settings()).dead_letters
    if purge_all:
        removed = store.purge()
    elif older_than_days is not None:
        removed = store.prune(max_age_days=older_than_days)
    elif letter_ids:
        removed = store.purge(letter_ids)
    else:
        raise click.UsageError("give dead-letter ids, --older-than-days or --all")
    click.echo(f"purged {removed}")

