"""Accounting and plotting for bench/soak.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

DRAIN_TIMEOUT_S = 300


def summary(broker: Any, sent: dict[str, int], kills: int, accounts: int,
            bound_s: float) -> str:
    client = broker.client
    deadline = time.monotonic() + DRAIN_TIMEOUT_S + bound_s
    applied = 0
    while time.monotonic() < deadline:
        effects = client.hgetall("soak:soak:effects")
        applied = sum(int(client.llen(f"soak:fifo:{{acct-{a}}}:applied")) for a in range(accounts))
        dead = broker.dead_letters.count()
        if len(effects) + dead - sent["poison"] >= sent["effect"] and applied >= sent["fifo"] \
                and dead >= sent["poison"]:
            break
        time.sleep(1)
    effects = client.hgetall("soak:soak:effects")
    doubled = sum(1 for v in effects.values() if int(v) > 1)
    dead = broker.dead_letters.recent(limit=100_000)
    dead_effects = sum(1 for d in dead if d.actor == "effect")
    dead_poison = sum(1 for d in dead if d.actor == "poison")
    lost = sent["effect"] - len(effects) - dead_effects
    in_order = all(
        [int(s) for s in client.lrange(f"soak:fifo:{{acct-{a}}}:applied", 0, -1)]
        == list(range(1, len(client.lrange(f"soak:fifo:{{acct-{a}}}:applied", 0, -1)) + 1))
        for a in range(accounts))
    return (f"sent: {sent} | worker kills: {kills}\n"
            f"idempotent jobs: effects={len(effects)} lost={lost} doubled={doubled} "
            f"dead-lettered after retries={dead_effects}\n"
            f"fifo events applied={applied}/{sent['fifo']} in order={in_order}\n"
            f"poison jobs dead-lettered={dead_poison}/{sent['poison']}")


def plot(samples: list[dict[str, float]], png: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not samples:
        return
    t0 = samples[0]["t"]
    minutes = [(s["t"] - t0) / 60 for s in samples]
    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    for ax, key, label in zip(axes, ("jobs_per_s", "rss_mb", "redis_mb"),
                              ("jobs/s", "worker RSS (MB)", "Redis memory (MB)"), strict=True):
        ax.plot(minutes, [s[key] for s in samples])
        ax.set_ylabel(label)
    axes[-1].set_xlabel("minutes")
    fig.suptitle("Soak: mixed load with periodic worker SIGKILL")
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=90)
