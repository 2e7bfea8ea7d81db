"""The seed's fixtures (client, db_session, factories, auth_token, redis_client, celery_app),
and pytest-alembic's `alembic_runner` (its plugin is off: see pyproject.toml)."""

from pytest_alembic.plugin.fixtures import alembic_runner  # noqa: F401  (found by name)

from tests.support.fixtures import (  # noqa: F401  (fixtures are found by name)
    auth_headers,
    auth_token,
    auth_user,
    celery_app,
    client,
    committed_emails,
    db_session,
    email_outbox,
    engine,
    factories,
    live_celery_worker,
    redis_client,
    worker_resources,
)
