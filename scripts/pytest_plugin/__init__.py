"""The harness's pytest plugin: what any FastAPI + SQLAlchemy service's suite needs to run in
the matrix's cells. A service's top-level `conftest.py` enables it with one line:

    pytest_plugins = ["scripts.pytest_plugin"]

It reads the environment names from the `[suite]` table of the matrix file (the cell names it
in `COMPAT_MATRIX_FILE`; else `matrix.toml` in pytest's root folder; else the defaults) and
gives the suite:

- run-wide (in the xdist controller): the run id and its marker, one clear error for a wrong
  database or cache URL, the cell's template database prepared once (scripts/prepare_step.py),
  a throwaway Redis server when no cache URL is given, and `COMPAT_SUITE_REPEAT`;
- per worker (session fixtures): `suite_table` (the `[suite]` table); `worker_servers` (its
  own database, copied from the template and dropped after; its own Redis db index; its
  Celery queue's name), with the service's variables naming them; `engine`;
- per test: `db_session` (a rolled-back SAVEPOINT), `redis_client` (flushed after).

A service adds its own fixtures on top (its app's client, factories) and may implement the
hooks of `scripts.pytest_plugin.hookspecs`.
"""

from __future__ import annotations

import os
from contextlib import ExitStack

import pytest

from scripts.matrix import MatrixError
from scripts.pytest_plugin import hookspecs
from scripts.pytest_plugin.fixtures import (
    PREPARATION,
    cache_url,
    db_session,
    engine,
    make_schema,
    redis_client,
    suite_table,
    worker_servers,
)
from scripts.pytest_plugin.naming import RUN_ID_ENV, unregister_run
from scripts.pytest_plugin.repetition import repeat_each_test
from scripts.pytest_plugin.run_setup import run_servers, start_run, variables_it_sets
from scripts.pytest_plugin.suite_file import suite_of
from scripts.pytest_plugin.template import Preparation

__all__ = [
    "cache_url",
    "db_session",
    "engine",
    "make_schema",
    "redis_client",
    "suite_table",
    "worker_servers",
]

_RUN_RESOURCES = pytest.StashKey[ExitStack]()
_PREVIOUS_ENV = pytest.StashKey[dict[str, str | None]]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config: pytest.Config) -> None:
    try:
        found = suite_of(config.rootpath)
    except MatrixError as error:
        raise pytest.UsageError(str(error)) from None
    preparation = Preparation(
        found, config.hook.pytest_compat_prepare_in_process(config=config), config.rootpath
    )
    config.stash[PREPARATION] = preparation
    if hasattr(config, "workerinput"):
        return  # an xdist worker: it inherits the controller's environment
    config.stash[_PREVIOUS_ENV] = {
        name: os.environ.get(name) for name in variables_it_sets(found.env)
    }
    run_id = start_run()
    if config.hook.pytest_compat_needs_servers(config=config) is False:
        return
    config.stash[_RUN_RESOURCES] = run_servers(run_id, preparation)


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
