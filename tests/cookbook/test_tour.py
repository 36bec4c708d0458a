"""The README's main command: ``cookbook tour`` runs every recipe's demo and reports each."""

from __future__ import annotations

import os
import subprocess
import sys

from cookbook.tour import discover
from tests.support import ROOT


def test_tour_runs_every_recipe_against_its_own_throwaway_redis() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"COOKBOOK_NO_DOCKER": "1", "COLUMNS": "200", "PYTHONPATH": str(ROOT)})
    result = subprocess.run([sys.executable, "-m", "cookbook", "tour"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "against redis://127.0.0.1:" in result.stdout  # it started its own server
    recipes = discover()
    assert len(recipes) >= 10
    summary = result.stdout.split("Tour summary", 1)[1]
    for recipe in recipes:
        row = next(line for line in summary.splitlines() if f" {recipe} " in line)
        assert "ok guarantee held" in row, row
