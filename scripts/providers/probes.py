"""Asking a running server for its own version string, over its own protocol."""

from __future__ import annotations

from sqlalchemy.engine import make_url

DATABASE_BACKENDS = ("postgres", "mysql", "mariadb")
CACHE_BACKENDS = ("redis", "valkey")


class NotAnsweringError(Exception):
    """The server did not answer (yet): refused, starting up, or a timeout."""


def server_version(backend: str, url: str, timeout_s: float = 2.0) -> str:
    """`SHOW server_version` / `SELECT VERSION()` / `INFO server`, per backend."""
    if backend == "postgres":
        return _postgres_version(url, timeout_s)
    if backend in ("mysql", "mariadb"):
        return _mysql_version(url, timeout_s)
    if backend in CACHE_BACKENDS:
        return _redis_version(url, timeout_s)
    raise ValueError(f"no version probe for backend {backend!r}")


def _postgres_version(url: str, timeout_s: float) -> str:
    import psycopg2

    parts = make_url(url)
    try:
        connection = psycopg2.connect(
            host=parts.host,
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname=parts.database,
            connect_timeout=max(1, round(timeout_s)),
        )
    except psycopg2.OperationalError as exc:
        raise NotAnsweringError(str(exc).strip()) from exc
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            row = cursor.fetchone()
    finally:
        connection.close()
    assert row is not None
    return str(row[0])


def _mysql_version(url: str, timeout_s: float) -> str:
    import pymysql

    parts = make_url(url)
    try:
        connection = pymysql.connect(
            host=parts.host or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            database=parts.database,
            connect_timeout=timeout_s,
        )
    except pymysql.err.OperationalError as exc:
        raise NotAnsweringError(str(exc)) from exc
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            row = cursor.fetchone()
    finally:
        connection.close()
    assert row is not None
    return str(row[0])


def _redis_version(url: str, timeout_s: float) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        info = client.info("server")
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        # BusyLoadingError (still loading its data) is a ConnectionError too.
        raise NotAnsweringError(str(exc)) from exc
    finally:
        client.close()
    # Valkey reports redis_version 7.2.4 for compatibility; its own version is valkey_version.
    version = info.get("valkey_version") or info.get("redis_version")
    if version is None:
        raise NotAnsweringError(f"INFO server has no version field: {sorted(info)}")
    return str(version)
