"""The cache across a Redis outage: no write undone afterwards, and a silent Redis costs little."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from app.cache import (
    PendingInvalidations,
    UserCache,
    close_redis_clients,
    get_user_cache,
    redis_client_for,
)
from app.config import get_settings
from app.main import app
from app.models import User
from app.tasks import configure_celery
from tests.support.fixtures import CommittedEmails
from tests.support.live_server import live_app_server
from tests.support.tcp_proxy import TcpProxy, silent_server, tcp_proxy
from tests.support.worker import WorkerResources


@pytest.fixture
def redis_through_proxy(worker_resources: WorkerResources) -> Iterator[TcpProxy]:
    """The app's cache reaches this worker's Redis db through a proxy the test can cut."""
    url = urlsplit(worker_resources.redis_url)
    with tcp_proxy((url.hostname or "127.0.0.1", url.port or 6379)) as proxy:
        credentials = url.netloc.rpartition("@")[0]  # a password-protected Redis keeps it
        address = f"127.0.0.1:{proxy.port}"
        proxied = url._replace(
            netloc=f"{credentials}@{address}" if credentials else address
        ).geturl()
        settings = get_settings()
        client = redis_client_for(proxied, settings.redis_socket_timeout_seconds)
        pending = PendingInvalidations()  # one process's memory, shared by its requests
        app.dependency_overrides[get_user_cache] = lambda: UserCache(
            client, 300, pending, settings.cache_retry_interval_seconds
        )
        try:
            yield proxy
        finally:
            app.dependency_overrides.pop(get_user_cache, None)
            pending.stop()
            client.close()


def _write_in_an_outage(
    client: TestClient, path: str, headers: dict[str, str], proxy: TcpProxy, write: str
) -> None:
    """Cut Redis off, then update (rename) or delete the user at `path`: both succeed."""
    proxy.cut()
    if write == "update":
        changed = client.put(path, json={"name": "Renamed in the outage"}, headers=headers)
        assert changed.status_code == 200
    else:
        assert client.delete(path, headers=headers).status_code == 204


@pytest.mark.parametrize("write", ["update", "delete"])
def test_a_write_during_a_redis_outage_is_not_undone_when_redis_comes_back(
    client: TestClient,
    redis_client: redis.Redis,
    auth_user: User,
    auth_headers: dict[str, str],
    redis_through_proxy: TcpProxy,
    write: str,
) -> None:
    path = f"/users/{auth_user.id}"
    assert client.get(path).headers["X-Cache"] == "MISS"
    assert client.get(path).headers["X-Cache"] == "HIT"

    _write_in_an_outage(client, path, auth_headers, redis_through_proxy, write)
    assert client.get(path).headers.get("X-Cache", "BYPASS") == "BYPASS"
    # Redis kept the entry cached before the outage: only the app could not reach it.
    assert redis_client.exists(UserCache.key(auth_user.id)) == 1

    redis_through_proxy.restore()
    after = client.get(path)
    if write == "update":
        assert after.status_code == 200
        assert after.json()["name"] == "Renamed in the outage"
        assert after.headers["X-Cache"] == "MISS"
    else:
        assert after.status_code == 404


@pytest.mark.parametrize("write", ["update", "delete"])
def test_another_process_stops_serving_an_entry_changed_during_an_outage_once_redis_is_back(
    client: TestClient,
    redis_client: redis.Redis,
    auth_user: User,
    auth_headers: dict[str, str],
    redis_through_proxy: TcpProxy,
    write: str,
) -> None:
    # This process (the app behind the proxy) writes during the outage; another process
    # (its own client and memory: `elsewhere`) reads the same Redis. This process is not
    # used again: only its background retry can delete the old entry.
    settings = get_settings()
    elsewhere = UserCache(redis_client, 300)
    path = f"/users/{auth_user.id}"
    assert client.get(path).headers["X-Cache"] == "MISS"
    _write_in_an_outage(client, path, auth_headers, redis_through_proxy, write)
    assert elsewhere.get(auth_user.id) is not None  # the old entry, served as a HIT elsewhere

    redis_through_proxy.restore()
    restored = time.monotonic()
    bound = settings.cache_retry_interval_seconds + settings.redis_socket_timeout_seconds
    while elsewhere.get(auth_user.id) is not None and time.monotonic() - restored < 4 * bound:
        threading.Event().wait(bound / 20)
    assert elsewhere.get(auth_user.id) is None, f"still cached {4 * bound:.2f} s after recovery"


def test_the_cache_client_gives_up_well_under_a_second() -> None:
    settings = get_settings()
    client = redis_client_for(settings.redis_url, settings.redis_socket_timeout_seconds)
    try:
        options = client.connection_pool.connection_kwargs
        assert options["socket_timeout"] <= 0.3
        assert options["socket_connect_timeout"] <= 0.3
    finally:
        client.close()


@contextmanager
def _silent_redis(worker_resources: WorkerResources) -> Iterator[None]:
    """The cache and the broker are a port that accepts connections and never answers."""
    with silent_server() as port, pytest.MonkeyPatch.context() as patch:
        settings = get_settings()
        patch.setattr(settings, "redis_url", f"redis://127.0.0.1:{port}/0")
        configure_celery(settings)
        try:
            yield
        finally:
            patch.undo()
            configure_celery(worker_resources.settings)
            close_redis_clients()


def _timed(send: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


def test_a_silent_redis_costs_a_read_and_a_create_one_timeout_at_most(
    committed_emails: CommittedEmails, worker_resources: WorkerResources
) -> None:
    # A real server: the time to the answer is what a client waits. Compared with the same
    # requests while Redis answers, a silent one may add its socket timeout once per request
    # (the read's GET; the create touches no cache), never a multiple of it. The welcome
    # email is published by its own thread, so the silent broker holds up no request.
    timeout = get_settings().redis_socket_timeout_seconds
    no_keep_alive = httpx.Limits(max_keepalive_connections=0)
    with (
        live_app_server() as base_url,
        httpx.Client(base_url=base_url, timeout=10, limits=no_keep_alive) as http,
    ):

        def create() -> httpx.Response:
            return http.post("/users", json={"name": "Quiet", "email": committed_emails.new()})

        created, create_answering = _timed(create)
        _read, read_answering = _timed(lambda: http.get(f"/users/{created.json()['id']}"))
        with _silent_redis(worker_resources):
            created, create_silent = _timed(create)
            read, read_silent = _timed(lambda: http.get(f"/users/{created.json()['id']}"))
    assert created.status_code == 201
    assert read.status_code == 200
    assert read.headers["X-Cache"] == "BYPASS"
    # The bug took 4 timeouts per read and 8 per create (the margin is for a loaded machine).
    assert read_silent < 2 * read_answering + 2 * timeout, (read_answering, read_silent)
    assert create_silent < 2 * create_answering + 2 * timeout, (create_answering, create_silent)
