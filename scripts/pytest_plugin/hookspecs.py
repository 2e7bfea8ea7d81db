"""What a service's conftest.py may add to the plugin, by implementing these hooks."""

from __future__ import annotations

import pytest

from scripts.pytest_plugin.template import InProcessStep


@pytest.hookspec(firstresult=True)
def pytest_compat_prepare_in_process(config: pytest.Config) -> InProcessStep | None:
    """The service's own way of preparing an empty database inside the test process, taken
    when the `[suite]` table names no `prepare` command (the bundled service migrates with
    Alembic in-process: seconds less per cell than `alembic upgrade head`)."""


@pytest.hookspec(firstresult=True)
def pytest_compat_needs_servers(config: pytest.Config) -> bool | None:
    """False when this run needs no database nor cache (e.g. only a repository's own unit
    tests are run): no template is built, no Redis started. Unanswered: it needs them."""
