"""Run-wide setup: the run id, a throwaway Redis server when no REDIS_URL is given, the cell's
template database (migrated once, copied per worker: tests/support/template.py), and the
suite's repetition switch (tests/support/repetition.py)."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import pytest

from scripts.prepare_step import PrepareCommandError
from tests.support.caches import CacheUnreachableError, check_cache_url
from tests.support.databases import (
    DatabaseUnreachableError,
    UnsupportedDatabaseError,
    check_database_url,
    check_sqlite_module,
)
from tests.support.naming import RUN_ID_ENV, new_run_id, register_run, unregister_run
from tests.support.redis_server import RedisServerMissingError, throwaway_redis_server
from tests.support.repetition import repeat_each_test
from tests.support.template import TEMPLATE_ENV, SchemaPreparationError, cell_template
from tests.support.worker import DEFAULT_DATABASE_URL

_RUN_RESOURCES = pytest.StashKey[ExitStack]()
_PREVIOUS_ENV = pytest.StashKey[dict[str, str | None]]()
_HARNESS_TESTS = Path(__file__).parent / "harness"


def _runs_only_harness_tests(config: pytest.Config) -> bool:
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return bool(paths) and all(path.is_relative_to(_HARNESS_TESTS) for path in paths)


def _check_servers_once() -> None:
    """A wrong DATABASE_URL or REDIS_URL is one clear error, not a traceback per test."""
    try:
        check_database_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        check_sqlite_module(os.environ.get("SQLITE_MODULE") or None)
        if os.environ.get("REDIS_URL"):
            check_cache_url(os.environ["REDIS_URL"])
    except (UnsupportedDatabaseError, DatabaseUnreachableError, CacheUnreachableError) as error:
        raise pytest.UsageError(str(error)) from None


def pytest_configure(config: pytest.Config) -> None:
    # Test mode before any test module is imported: collection may already read the settings.
    os.environ.setdefault("APP_ENV", "test")
    if hasattr(config, "workerinput"):
        return  # an xdist worker: it inherits the controller's environment
    config.stash[_PREVIOUS_ENV] = {
        name: os.environ.get(name) for name in (RUN_ID_ENV, "REDIS_URL", TEMPLATE_ENV)
    }
    os.environ[RUN_ID_ENV] = new_run_id()
    register_run(os.environ[RUN_ID_ENV])  # a later run reaps this one's databases if it dies
    if _runs_only_harness_tests(config):
        return
    _check_servers_once()
    stack = ExitStack()
    try:
        server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        run_id = os.environ[RUN_ID_ENV]
        os.environ[TEMPLATE_ENV] = stack.enter_context(cell_template(server_url, run_id))
        if not os.environ.get("REDIS_URL"):
            os.environ["REDIS_URL"] = stack.enter_context(throwaway_redis_server())
    except (SchemaPreparationError, PrepareCommandError, RedisServerMissingError) as error:
        stack.close()
        raise pytest.UsageError(str(error)) from error
    config.stash[_RUN_RESOURCES] = stack


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    repeat_each_test(metafunc)


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and os.environ.get(RUN_ID_ENV):
        unregister_run(os.environ[RUN_ID_ENV])
    stack = config.stash.get(_RUN_RESOURCES, None)
    if stack is not None:
        stack.close()
    for name, value in config.stash.get(_PREVIOUS_ENV, {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
