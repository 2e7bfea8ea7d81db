"""A wrong DATABASE_URL or REDIS_URL is refused once, before any test, with what to fix."""

from __future__ import annotations

import socket

import pytest

from scripts.backends.janitors.redis_indexes import RedisUnreachableError, check_redis_url
from scripts.pytest_plugin.caches import CacheUnreachableError, check_cache_url
from scripts.pytest_plugin.databases import (
    DatabaseUnreachableError,
    UnsupportedDatabaseError,
    check_database_url,
)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("not a url", UnsupportedDatabaseError, "not a database URL"),
        ("oracle://scott@db/orcl", UnsupportedDatabaseError, "uses 'oracle'"),
        ("postgresql+nosuchdriver://u@h/db", UnsupportedDatabaseError, "not installed"),
        ("sqlite:////nonexistent-folder/x.db", DatabaseUnreachableError, "not a writable folder"),
    ],
    ids=["unparsable", "unsupported-backend", "missing-driver", "unwritable-sqlite-folder"],
)
def test_a_database_url_the_suite_cannot_use_is_refused_with_the_reason(
    url: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_database_url(url)


def test_a_database_server_that_does_not_answer_is_refused_without_its_password() -> None:
    url = f"postgresql+psycopg2://app:s3cret@127.0.0.1:{_closed_port()}/postgres"
    with pytest.raises(DatabaseUnreachableError, match="Start the server") as raised:
        check_database_url(url)
    assert "s3cret" not in str(raised.value)


def test_a_redis_server_that_does_not_answer_is_refused_with_the_fix() -> None:
    with pytest.raises(RedisUnreachableError, match="leave its cache URL unset"):
        check_redis_url(f"redis://127.0.0.1:{_closed_port()}/0")


def test_a_redis_url_that_is_not_one_is_refused() -> None:
    with pytest.raises(RedisUnreachableError, match="not a Redis URL"):
        check_redis_url("http://127.0.0.1:6379/0")


def test_a_cache_url_no_cache_backend_takes_is_refused_before_any_test() -> None:
    with pytest.raises(CacheUnreachableError, match="not a Redis URL"):
        check_cache_url("http://127.0.0.1:6379/0")
