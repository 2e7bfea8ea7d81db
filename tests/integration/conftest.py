"""The bundled service's own fixtures (client, factories, auth_token, celery_app, ...), on top
of the plugin's (tests/conftest.py enables it), and pytest-alembic's `alembic_runner` (its
plugin is off: see pyproject.toml)."""

from pytest_alembic.plugin.fixtures import alembic_runner  # noqa: F401  (found by name)

from tests.support.fixtures import (  # noqa: F401  (fixtures are found by name)
    auth_headers,
    auth_token,
    auth_user,
    celery_app,
    client,
    committed_emails,
    email_outbox,
    engine,
    factories,
    live_celery_worker,
    make_schema,
    worker_resources,
)
