"""The bundled service's suite runs on the harness's plugin (`scripts.pytest_plugin`: run-wide
setup, per-worker servers, `db_session`); what is the service's own is added here and in
tests/integration/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.migrations_in_process import upgrade_in_process

if TYPE_CHECKING:  # imported by pytest_plugins below, not before (its asserts are rewritten)
    from scripts.pytest_plugin.template import InProcessStep

pytest_plugins = ["scripts.pytest_plugin"]

_HARNESS_TESTS = Path(__file__).parent / "harness"


def pytest_configure(config: pytest.Config) -> None:
    # Test mode before any test module is imported: collection may already read the settings.
    os.environ.setdefault("APP_ENV", "test")


def pytest_compat_needs_servers(config: pytest.Config) -> bool | None:
    """The harness's own tests need no template database nor Redis of the run."""
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    if paths and all(path.is_relative_to(_HARNESS_TESTS) for path in paths):
        return False
    return None


def pytest_compat_prepare_in_process(config: pytest.Config) -> InProcessStep:
    """The service's migrations, run in this process (no `alembic` interpreter to start)."""
    return upgrade_in_process
