"""``cookbook`` command line: tour, dead-letter queue, copy a recipe.

Run with: ``uv run cookbook --help``
"""

from __future__ import annotations

import click

from cookbook.copy_cmd import copy_recipe
from cookbook.dashboard_cmd import dashboard
from cookbook.dlq_cmd import dlq
from cookbook.progress_cmd import progress
from cookbook.tour import tour


@click.group()
def cli() -> None:
    """Queue Cookbook: Dramatiq + Redis recipes, tested against real Redis."""


cli.add_command(tour)
cli.add_command(dlq)
cli.add_command(copy_recipe)
cli.add_command(dashboard)
cli.add_command(progress)


def main() -> None:
    cli()
