"""Prometheus gauges read from Redis at scrape time, so every worker process is counted.

Dramatiq's own ``Prometheus`` middleware counts per worker process (and needs a shared
multiprocess directory); queue depth, in-flight, dead letters and live workers are facts in
Redis, so the dashboard exports them directly.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cookbook.dashboard.data import Snapshot


class QueueCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = {
            state: GaugeMetricFamily(f"cookbook_queue_{state}", f"Messages {state}",
                                     labels=["queue"])
            for state in ("waiting", "delayed", "in_flight", "dead")
        }
        for row in self.snapshot.queues():
            for state, family in families.items():
                family.add_metric([row["name"]], row[state])
        yield from families.values()
        workers = self.snapshot.workers()
        alive = GaugeMetricFamily("cookbook_workers_alive",
                                  "Worker processes with a fresh heartbeat")
        alive.add_metric([], sum(1 for w in workers if w["alive"]))
        yield alive
