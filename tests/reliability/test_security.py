"""Security: ACL user + password via REDIS_URL, wrong credentials, TLS (rediss://), no pickle."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import dramatiq
import pytest
import redis

from common.broker import BrokerUnavailable, make_broker
from common.settings import Settings
from cookbook.redis_local import free_port
from tests.support import ROOT, wait_until

APP_PASSWORD = "app-pw-7f3e9c"


def _acl_server(redis_server_factory, namespace: str):  # type: ignore[no-untyped-def]
    # The app user may only touch its namespace; the default user needs a password too.
    return redis_server_factory(args=[
        "--user", "default", "on", ">admin-pw", "~*", "&*", "+@all",
        "--user", "app", "on", f">{APP_PASSWORD}", f"~{namespace}", f"~{namespace}:*", "&*",
        "+@all",
    ])


def test_acl_user_works_end_to_end_and_wrong_password_fails_clearly(
    redis_server_factory, settings: Settings, settings_env: dict[str, str], cli_worker
) -> None:  # type: ignore[no-untyped-def]
    server = _acl_server(redis_server_factory, settings.namespace)
    url = f"redis://app:{APP_PASSWORD}@127.0.0.1:{server.port}/0"
    broker = make_broker(settings.model_copy(update={"redis_url": url}))

    @dramatiq.actor(broker=broker, queue_name="work", actor_name="work")
    def work(job_id: str, duration_ms: int) -> None: ...

    for i in range(20):
        work.send(f"acl-{i}", 1)
    worker = cli_worker("tests.common.worker_app", env={**settings_env, "REDIS_URL": url},
                        processes=1, threads=4)
    wait_until(lambda: broker.client.scard(f"{settings.namespace}:finished") == 20,
               timeout=30, message="jobs processed as the ACL user")
    assert APP_PASSWORD not in worker.log_tail(100_000)

    wrong = make_broker(settings.model_copy(
        update={"redis_url": f"redis://app:not-the-password@127.0.0.1:{server.port}/0"}))

    @dramatiq.actor(broker=wrong, queue_name="work", actor_name="work")
    def work2(job_id: str, duration_ms: int) -> None: ...

    with pytest.raises(BrokerUnavailable, match="refused the credentials") as info:
        work2.send("x", 1)
    assert "not-the-password" not in str(info.value) and "***" in str(info.value)
    broker.close()
    wrong.close()


def _make_certs(directory: Path) -> dict[str, Path]:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.crt")
    return {name: directory / f"{name}" for name in ("ca.crt", "server.crt", "server.key")}


def test_rediss_tls_url_works(redis_server_factory, settings: Settings, tmp_path: Path,
                              start_worker) -> None:  # type: ignore[no-untyped-def]
    certs = _make_certs(tmp_path)
    tls_port = free_port()
    redis_server_factory(args=[
        "--tls-port", str(tls_port), "--tls-cert-file", str(certs["server.crt"]),
        "--tls-key-file", str(certs["server.key"]), "--tls-ca-cert-file", str(certs["ca.crt"]),
        "--tls-auth-clients", "no",
    ])
    url = f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={certs['ca.crt']}"
    broker = make_broker(settings.model_copy(update={"redis_url": url}))
    dramatiq.set_broker(broker)
    assert broker.client.connection_pool.connection_class is redis.SSLConnection

    @dramatiq.actor(broker=broker, queue_name="tls")
    def secure(n: int) -> None:
        broker.client.sadd("tls-done", n)

    for n in range(10):
        secure.send(n)
    from common.worker import running_worker

    with running_worker(broker, queues=["tls"], threads=2):
        wait_until(lambda: broker.client.scard("tls-done") == 10, message="jobs over TLS")
    # The plain-text client is refused on the TLS port.
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=tls_port, socket_connect_timeout=1, socket_timeout=1).ping()
    broker.close()


def test_no_pickle_on_the_wire_or_in_stored_state(broker) -> None:  # type: ignore[no-untyped-def]
    from dramatiq.encoder import JSONEncoder

    assert isinstance(dramatiq.get_encoder(), JSONEncoder)
    banned = {"pickle", "cPickle", "dill", "cloudpickle", "shelve", "marshal"}
    for folder in ("common", "recipes", "cookbook"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    assert name.split(".")[0] not in banned, f"{path} imports {name}"
                    # APScheduler's Redis job store pickles jobs.
                    assert "jobstores.redis" not in name, f"{path} uses a pickling job store"
