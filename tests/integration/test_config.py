"""The settings object, and the service starting on its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, inspect

from app.config import Settings, get_settings
from app.main import StartupError, app
from app.schema import current_revision, head_revision


def test_missing_jwt_secret_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ValidationError, match="JWT_SECRET is not set"):
        Settings()


def test_a_settings_error_does_not_print_the_database_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:hunter2@db/app")
    with pytest.raises(ValidationError, match="JWT_SECRET is not set") as raised:
        Settings()
    assert "hunter2" not in str(raised.value)
    assert "input_value" not in str(raised.value)


def test_argon2_memory_below_eight_kib_per_lane_is_refused_when_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARGON2_MEMORY_COST_KIB", "8")
    monkeypatch.setenv("ARGON2_PARALLELISM", "4")
    with pytest.raises(ValidationError, match=r"ARGON2_MEMORY_COST_KIB .* at least 32"):
        Settings()


def test_development_mode_may_omit_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    assert Settings().signing_secret


def test_celery_broker_defaults_to_the_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6380/3")
    settings = Settings()
    assert settings.broker_url == "redis://cache.internal:6380/3"
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://guest@mq//")
    assert Settings().broker_url == "amqp://guest@mq//"


def test_start_up_migrates_an_empty_database_to_the_newest_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker_resources: object
) -> None:
    database = tmp_path / "standalone.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    get_settings.cache_clear()
    try:
        with TestClient(app):  # runs the lifespan, as uvicorn does
            pass
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    engine = create_engine(f"sqlite:///{database}")
    try:
        assert set(inspect(engine).get_table_names()) == {"users", "posts", "alembic_version"}
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("environment", "says"),
    [
        ({"APP_ENV": "production", "JWT_SECRET": ""}, "JWT_SECRET is not set"),
        (
            {"DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:1/postgres"},
            "the database at DATABASE_URL 'postgresql+psycopg2://postgres@127.0.0.1:1/postgres'"
            " cannot be used",
        ),
    ],
    ids=["no-jwt-secret", "database-down"],
)
def test_the_service_that_cannot_start_says_why_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    worker_resources: object,
    environment: dict[str, str],
    says: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(StartupError, match=re.escape(says)), TestClient(app):
            pass
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
