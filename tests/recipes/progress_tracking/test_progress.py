"""progress_tracking: another process follows a 3 s job step by step, also across reconnects."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from pydantic import ValidationError

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.progress_tracking import FINAL_TTL_S, QUEUE, RUNNING_TTL_S
from recipes.progress_tracking.actors import register
from recipes.progress_tracking.enqueue import start_job
from recipes.progress_tracking.models import LongJob
from recipes.progress_tracking.stream import ProgressStream
from tests.support import wait_until

JOB = LongJob(name="report", steps=10, step_ms=300)  # the 3 s job in 10 steps


def assert_complete_run(events: list[dict[str, Any]]) -> None:
    """started, 10 steps in order, completed; seq 1..12 with no gap and no repeat."""
    assert [e["seq"] for e in events] == list(range(1, 13)), [e["seq"] for e in events]
    assert [e["kind"] for e in events] == ["started"] + ["progress"] * 10 + ["completed"]
    steps = [e for e in events if e["kind"] == "progress"]
    assert [e["data"]["step"] for e in steps] == list(range(1, 11))
    assert [e["percent"] for e in steps] == [10.0 * i for i in range(1, 11)]
    assert events[-1]["percent"] == 100.0 and all(e["missed"] == 0 for e in events)


def test_a_reader_process_sees_every_step_in_order_and_the_final_state(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    cli_worker, progress_reader,  # type: ignore[no-untyped-def]
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    message_id = start_job(actors, JOB)
    reader = progress_reader(message_id, "--json")  # waiting before the job even starts
    cli_worker("recipes.progress_tracking.worker", processes=1, threads=2)
    assert reader.wait(60) == 0, reader.text()
    assert_complete_run(reader.events())
    # Retention: the finished job's stream and snapshot expire within FINAL_TTL_S.
    keys = actors.stream.keys(message_id)
    for key in keys.values():
        assert 0 < redis_client.ttl(key) <= FINAL_TTL_S
    assert actors.stream.state(message_id)["kind"] == "completed"


def test_a_reader_killed_halfway_resumes_in_a_new_process_from_its_last_id(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    start_worker, progress_reader,  # type: ignore[no-untyped-def]
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    message_id = start_job(actors, JOB)
    first = progress_reader(message_id, "--json")
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: any(e.get("data", {}).get("step") == 5 for e in first.events()),
               timeout=30, message=lambda: f"reader saw step 5: {first.text()}")
    first.kill()
    seen = first.events()
    assert seen[-1]["kind"] != "completed", "the reader must be cut off mid-job"
    second = progress_reader(message_id, "--json", "--after", seen[-1]["stream_id"])
    assert second.wait(60) == 0, second.text()
    assert_complete_run(seen + second.events())
    # A reader arriving after the end replays the whole history (bar mode, as a person runs it).
    late = progress_reader(message_id)
    assert late.wait(30) == 0, late.text()
    assert "completed" in late.text() and "100%" in late.text(), late.text()


def test_a_reader_whose_connection_is_killed_reconnects_without_gap_or_repeat(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    start_worker, progress_reader,  # type: ignore[no-untyped-def]
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    message_id = start_job(actors, JOB)
    reader = progress_reader(message_id, "--json")
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: any(e.get("data", {}).get("step") == 3 for e in reader.events()),
               timeout=30, message=lambda: f"reader saw step 3: {reader.text()}")
    before = reader_connections(redis_client)
    assert before, "the reader names its connection"
    for client_id in before:
        redis_client.client_kill_filter(_id=client_id)
    wait_until(lambda: reader_connections(redis_client) - before, timeout=20,
               message="the reader to reconnect on a new connection")
    assert reader.wait(60) == 0, reader.text()
    assert_complete_run(reader.events())


def reader_connections(client: redis.Redis) -> set[str]:
    return {str(c["id"]) for c in client.client_list() if c.get("name") == "cookbook-progress"}


def test_a_failing_job_ends_in_a_failed_state_the_reader_reports(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    start_worker, progress_reader,  # type: ignore[no-untyped-def]
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    message_id = start_job(actors, LongJob(name="doomed", steps=5, step_ms=50, fail_at_step=3))
    reader = progress_reader(message_id)  # live bar mode
    start_worker(queues=[QUEUE], threads=1)
    assert reader.wait(60) == 1, reader.text()
    assert "failed" in reader.text() and "step 3 cannot be done" in reader.text(), reader.text()
    kinds = [e.kind for e in actors.stream.history(message_id)]
    assert kinds == ["started", "progress", "progress", "failed"]
    assert broker.dead_letters.count() == 1


def test_retention_trims_to_maxlen_and_the_reader_counts_what_it_missed(
    redis_client: redis.Redis, settings: Settings
) -> None:
    stream = ProgressStream(redis_client, settings.namespace, maxlen=5)
    for step in range(1, 13):
        stream.publish("m-1", "progress", percent=step * 5, message=f"step {step}")
    events_key = stream.keys("m-1")["events"]
    assert redis_client.xlen(events_key) == 5
    assert FINAL_TTL_S < redis_client.ttl(events_key) <= RUNNING_TTL_S
    stream.publish("m-1", "completed", percent=100)
    assert 0 < redis_client.ttl(events_key) <= FINAL_TTL_S
    events = list(stream.follow("m-1", timeout_s=5))
    assert events[0].seq == 9 and events[0].missed == 8  # 12 progress + completed, keep 5
    assert [e.seq for e in events] == [9, 10, 11, 12, 13] and events[-1].final


def test_bad_input_is_refused_and_an_unknown_id_times_out_clearly(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    progress_reader,  # type: ignore[no-untyped-def]
) -> None:
    actors = register(broker, redis_client, settings.namespace)
    with pytest.raises(ValidationError, match="steps"):
        start_job(actors, LongJob.model_construct(name="x", steps=0, step_ms=1))
    assert redis_client.llen(f"{settings.namespace}:{QUEUE}") == 0
    with pytest.raises(ValueError, match="percent"):
        actors.stream.publish("m-2", "progress", percent=150)
    with pytest.raises(TypeError):
        actors.stream.publish("m-2", "progress", percent=1, data={"bad": object()})
    assert not redis_client.exists(*actors.stream.keys("m-2").values())
    reader = progress_reader("no-such-id", "--timeout", "1")
    assert reader.wait(30) == 3
    assert "no progress event for message no-such-id" in reader.text()
