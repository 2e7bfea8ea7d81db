"""The cell's cache answers."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from tests.harness.sample_suite.planted import fail_if_broken_on_purpose


def test_cache_round_trip() -> None:
    fail_if_broken_on_purpose("test_cache_round_trip")
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    key = f"compat-sample-{uuid.uuid4().hex}"
    try:
        client.set(key, "<value & more>", ex=30)
        assert client.get(key) == b"<value & more>"
    finally:
        client.delete(key)
        client.close()


def test_skipped_on_purpose() -> None:
    pytest.skip("a skip must be counted, not treated as a pass or a failure")
