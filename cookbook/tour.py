"""``cookbook tour``: run every recipe's demo end to end against a throwaway Redis.

Each recipe folder with a ``demo.py`` exposes ``demo(broker, settings, report) -> int``:
it starts its own worker(s), sends jobs, checks the recipe's guarantee (raising if it does
not hold) and returns how many jobs it sent. ``report(done, total)`` feeds the progress bar.
"""

from __future__ import annotations

import importlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
import dramatiq
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from common.broker import make_broker
from common.settings import load_settings
from cookbook.redis_local import resolve_redis

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
Demo = Callable[..., int]


@dataclass
class Outcome:
    recipe: str
    jobs: int
    ok: bool
    detail: str
    seconds: float


def discover(only: tuple[str, ...] = ()) -> list[str]:
    names = sorted(p.parent.name for p in RECIPES.glob("*/demo.py"))
    return [n for n in names if not only or n in only]


def run_one(name: str, redis_url: str, report: Callable[[int, int], None]) -> Outcome:
    namespace = f"tour-{uuid.uuid4().hex[:8]}-{name}"
    settings = load_settings(redis_url=redis_url, namespace=namespace)
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    started = time.monotonic()
    try:
        demo: Demo = importlib.import_module(f"recipes.{name}.demo").demo
        jobs = demo(broker, settings, report)
        return Outcome(name, jobs, True, "guarantee held", time.monotonic() - started)
    except Exception as exc:  # the tour reports every recipe, then fails at the end
        return Outcome(name, 0, False, f"{type(exc).__name__}: {exc}"[:300],
                       time.monotonic() - started)
    finally:
        keys = list(broker.client.scan_iter(match=f"{namespace}:*", count=1000))
        for start in range(0, len(keys), 500):
            broker.client.delete(*keys[start:start + 500])
        broker.close()


@click.command()
@click.argument("recipes", nargs=-1)
def tour(recipes: tuple[str, ...]) -> None:
    """Run each recipe's demo (all by default) and print a summary table."""
    names = discover(recipes)
    if not names:
        raise click.ClickException("no recipe demos found")
    console = Console()
    # Recipe logs would tear the live display; failures are reported in the table.
    logging.basicConfig(level=logging.CRITICAL)
    outcomes: list[Outcome] = []
    with resolve_redis() as url:
        safe = load_settings(redis_url=url).redis_url_safe
        console.print(f"[bold]Queue Cookbook tour[/] against {safe}")
        columns = (TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            for name in names:
                task = progress.add_task(name, total=None)

                def report(done: int, total: int, task: TaskID = task) -> None:
                    progress.update(task, completed=done, total=total)

                outcome = run_one(name, url, report)
                progress.update(task, description=("✔ " if outcome.ok else "✘ ") + name)
                outcomes.append(outcome)
    table = Table(title="Tour summary")
    for column in ("recipe", "jobs sent", "outcome", "time"):
        table.add_column(column)
    for o in outcomes:
        table.add_row(o.recipe, str(o.jobs), ("[green]ok[/] " if o.ok else "[red]FAILED[/] ")
                      + o.detail, f"{o.seconds:.1f}s")
    console.print(table)
    if not all(o.ok for o in outcomes):
        raise SystemExit(1)
