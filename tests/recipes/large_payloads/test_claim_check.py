"""large_payloads: a 50 MB payload rides as a <1 KB claim check, read intact, cleaned up."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import redis

from common.broker import CookbookBroker
from common.settings import Settings
from recipes.large_payloads import BLOB_DIR_ENV, BLOB_TTL_S, QUEUE, blob_key
from recipes.large_payloads.actors import LargePayloadActors, register
from recipes.large_payloads.enqueue import send_document
from recipes.large_payloads.models import BlobRef, DocumentJob, InlineData
from recipes.large_payloads.stores import BlobStore, FileBlobStore, RedisBlobStore
from tests.support import wait_until

MB = 1024 * 1024


def make_store(kind: str, client: redis.Redis, namespace: str, tmp_path: Path) -> BlobStore:
    return RedisBlobStore(client, namespace) if kind == "redis" else FileBlobStore(tmp_path / "b")


def blobs_left(kind: str, client: redis.Redis, namespace: str, tmp_path: Path) -> list[str]:
    if kind == "redis":
        return [k.decode() for k in client.scan_iter(match=f"{namespace}:blob:*")]
    return [p.name for p in (tmp_path / "b").iterdir()]


def queued_message_sizes(client: redis.Redis, namespace: str) -> list[int]:
    raw: list[bytes] = client.hvals(f"{namespace}:{QUEUE}.msgs")  # type: ignore[assignment]
    return [len(m) for m in raw]


def job_of(message: object) -> DocumentJob:
    return DocumentJob.model_validate(message.args[0])  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["redis", "file"])
def test_50mb_payload_rides_as_a_small_message_read_intact_by_a_worker_process(
    kind: str, broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    tmp_path: Path, cli_worker,  # type: ignore[no-untyped-def]
) -> None:
    actors = register(broker, redis_client, settings.namespace,
                      store=make_store(kind, redis_client, settings.namespace, tmp_path))
    original = os.urandom(50 * MB)
    message = send_document(actors, "big", original)

    ref = job_of(message).payload
    assert isinstance(ref, BlobRef) and ref.store == kind and ref.size == 50 * MB
    # The message as stored on the queue, envelope and all, is what the issue limits.
    sizes = queued_message_sizes(redis_client, settings.namespace)
    assert len(sizes) == 1 and sizes[0] < 1024, sizes
    assert blobs_left(kind, redis_client, settings.namespace, tmp_path)  # stored once, outside

    env = {BLOB_DIR_ENV: str(tmp_path / "b")} if kind == "file" else {}
    worker = cli_worker("recipes.large_payloads.worker", processes=1, threads=2, env=env)
    result = wait_until(lambda: actors.result("big"), timeout=90,
                        message=lambda: f"the worker to process the blob\n{worker.log_tail()}")
    assert result.from_blob and result.size == len(original)
    assert result.sha256 == hashlib.sha256(original).hexdigest()
    wait_until(lambda: not blobs_left(kind, redis_client, settings.namespace, tmp_path),
               timeout=10, message="no blob left after success")
    assert broker.dead_letters.count() == 0


@pytest.mark.parametrize("kind", ["redis", "file"])
def test_checksum_mismatch_is_permanent_and_the_worker_keeps_serving(
    kind: str, broker: CookbookBroker, settings: Settings, redis_client: redis.Redis,
    tmp_path: Path, start_worker,  # type: ignore[no-untyped-def]
) -> None:
    store = make_store(kind, redis_client, settings.namespace, tmp_path)
    actors = register(broker, redis_client, settings.namespace, store=store)
    bad = job_of(send_document(actors, "tampered", b"a" * (200 * 1024))).payload
    good = os.urandom(300 * 1024)
    send_document(actors, "fine", good)
    assert isinstance(bad, BlobRef)
    corrupt(kind, redis_client, settings.namespace, tmp_path, bad.blob_id)

    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: broker.dead_letters.count() == 1 and actors.result("fine"), timeout=30,
               message="the tampered job dead-lettered and the good one processed")
    letter = broker.dead_letters.recent()[0]
    assert letter.error_type == "ChecksumMismatch" and letter.reason.startswith("permanent")
    assert letter.attempts == 1, "a checksum mismatch must not be retried"
    assert actors.result("tampered") is None
    assert actors.result("fine").sha256 == hashlib.sha256(good).hexdigest()  # type: ignore[union-attr]
    # Failure keeps the blob for inspection; it expires on its own (TTL / sweep).
    assert store.exists(bad.blob_id)
    if kind == "redis":
        assert 0 < redis_client.ttl(blob_key(settings.namespace, bad.blob_id)) <= BLOB_TTL_S
    else:
        assert isinstance(store, FileBlobStore) and store.sweep(now=9e12) == 1
        assert not store.exists(bad.blob_id)


def corrupt(kind: str, client: redis.Redis, namespace: str, root: Path, blob_id: str) -> None:
    if kind == "redis":
        client.setrange(blob_key(namespace, blob_id), 1_000, b"b")
        return
    path = root / "b" / f"{blob_id}.blob"
    stat = path.stat()
    with open(path, "r+b") as handle:
        handle.seek(1_000)
        handle.write(b"b")
    os.utime(path, (stat.st_atime, stat.st_mtime))  # keep the expiry (mtime) as it was


def test_small_payload_travels_inline_and_stores_nothing(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,  # type: ignore[no-untyped-def]
) -> None:
    actors = register(broker, redis_client, settings.namespace,
                      store=RedisBlobStore(redis_client, settings.namespace))
    data = b"hello " * 1000
    assert isinstance(job_of(send_document(actors, "small", data)).payload, InlineData)
    assert not list(redis_client.scan_iter(match=f"{settings.namespace}:blob:*"))
    start_worker(queues=[QUEUE], threads=1)
    result = wait_until(lambda: actors.result("small"), timeout=20, message="inline job done")
    assert not result.from_blob and result.sha256 == hashlib.sha256(data).hexdigest()


def test_redelivery_after_success_is_a_no_op_not_a_missing_blob(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,  # type: ignore[no-untyped-def]
) -> None:
    """A worker dying between cleanup and ack redelivers the message; the blob is gone by then."""
    actors = register(broker, redis_client, settings.namespace,
                      store=RedisBlobStore(redis_client, settings.namespace))
    message = send_document(actors, "twice", os.urandom(2 * MB))
    start_worker(queues=[QUEUE], threads=2)
    wait_until(lambda: actors.result("twice"), timeout=20, message="first delivery done")
    wait_until(lambda: not actors.claims.store.exists(job_of(message).payload.blob_id),  # type: ignore[union-attr]
               timeout=10, message="blob released")
    broker.enqueue(message)  # same message id, as a redelivery would bring it
    broker.join(QUEUE, timeout=20_000)
    assert broker.dead_letters.count() == 0, broker.dead_letters.recent()[0].reason


def test_replaying_a_dead_letter_whose_blob_is_gone_fails_with_a_clear_reason(
    broker: CookbookBroker, settings: Settings, redis_client: redis.Redis, start_worker,  # type: ignore[no-untyped-def]
) -> None:
    store = RedisBlobStore(redis_client, settings.namespace)
    actors = register(broker, redis_client, settings.namespace, store=store)
    ref = job_of(send_document(actors, "late", os.urandom(MB))).payload
    assert isinstance(ref, BlobRef)
    store.delete(ref.blob_id)  # as the TTL would, days after the failure
    start_worker(queues=[QUEUE], threads=1)
    wait_until(lambda: broker.dead_letters.count() == 1, timeout=20, message="dead-lettered")
    letter = broker.dead_letters.recent()[0]
    assert letter.error_type == "BlobMissing" and letter.attempts == 1
    assert ref.blob_id in (letter.error or "")


def test_bad_input_stores_nothing(broker: CookbookBroker, settings: Settings,
                                  redis_client: redis.Redis) -> None:
    from pydantic import ValidationError

    from recipes.large_payloads.claimcheck import ClaimCheck, PayloadTooLarge

    actors = register(broker, redis_client, settings.namespace,
                      store=RedisBlobStore(redis_client, settings.namespace))
    with pytest.raises(ValidationError, match="name"):
        send_document(actors, "", os.urandom(MB))
    capped = LargePayloadActors(actors.process, ClaimCheck(actors.claims.store, max_bytes=MB),
                                redis_client, settings.namespace)
    with pytest.raises(PayloadTooLarge, match="limit"):
        send_document(capped, "huge", os.urandom(3 * MB))
    assert not list(redis_client.scan_iter(match=f"{settings.namespace}:blob:*"))
    assert queued_message_sizes(redis_client, settings.namespace) == []


def test_neither_side_holds_the_whole_payload_in_memory(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """Producer streams from a file, worker reads into a spooled temp file: 50 MB never in RAM."""
    import tracemalloc

    from recipes.large_payloads.claimcheck import ClaimCheck

    source = tmp_path / "upload.bin"
    digest = hashlib.sha256()
    with open(source, "wb") as out:
        for _ in range(50):
            chunk = os.urandom(MB)
            digest.update(chunk)
            out.write(chunk)
    claims = ClaimCheck(RedisBlobStore(redis_client, settings.namespace))
    tracemalloc.start()
    try:
        with open(source, "rb") as upload:
            ref = claims.wrap(upload)
        read = hashlib.sha256()
        with claims.open(ref) as data:
            while chunk := data.read(MB):
                read.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read.hexdigest() == digest.hexdigest()
    assert peak < 20 * MB, f"peak Python allocation {peak / MB:.1f} MB for a 50 MB payload"
