"""Run-wide setup, in the xdist controller (or the only process): the run id and its marker,
one clear error for a wrong database or cache URL, a throwaway Redis server when the suite is
given no cache URL, and the cell's template database. Workers inherit the environment."""

from __future__ import annotations

import os
from contextlib import ExitStack

import pytest

from scripts.backends.janitors import (
    CacheUnreachableError,
    DatabaseUnreachableError,
    UnsupportedDatabaseError,
)
from scripts.prepare_step import PrepareCommandError
from scripts.pytest_plugin.caches import check_cache_url
from scripts.pytest_plugin.databases import check_database_url, check_sqlite_module
from scripts.pytest_plugin.naming import RUN_ID_ENV, new_run_id, register_run
from scripts.pytest_plugin.redis_server import RedisServerMissingError, throwaway_redis_server
from scripts.pytest_plugin.template import (
    TEMPLATE_ENV,
    Preparation,
    SchemaPreparationError,
    cell_template,
)
from scripts.pytest_plugin.workers import server_database_url
from scripts.suite import SuiteEnv


def variables_it_sets(names: SuiteEnv) -> tuple[str, ...]:
    """The variables the setup may set (restored when the run ends)."""
    return (RUN_ID_ENV, TEMPLATE_ENV, *((names.cache,) if names.cache else ()))


def start_run() -> str:
    """A new run id, exported and registered (a later run reaps this one's leftovers if it
    dies)."""
    run_id = os.environ[RUN_ID_ENV] = new_run_id()
    register_run(run_id)
    return run_id


def check_servers_once(names: SuiteEnv) -> None:
    """A wrong database or cache URL is one clear error, not a traceback per test."""
    try:
        check_database_url(server_database_url(names), names.database)
        if names.sqlite_module:
            check_sqlite_module(os.environ.get(names.sqlite_module) or None, names.sqlite_module)
        if names.cache and os.environ.get(names.cache):
            check_cache_url(os.environ[names.cache], names.cache)
    except (UnsupportedDatabaseError, DatabaseUnreachableError, CacheUnreachableError) as error:
        raise pytest.UsageError(str(error)) from None


def run_servers(run_id: str, preparation: Preparation) -> ExitStack:
    """The template database and, when needed, a throwaway Redis: open until the stack is
    closed. `pytest.UsageError` saying why when either cannot be had."""
    names = preparation.suite.env
    check_servers_once(names)
    stack = ExitStack()
    try:
        template = cell_template(server_database_url(names), run_id, preparation)
        os.environ[TEMPLATE_ENV] = stack.enter_context(template)
        if names.cache and not os.environ.get(names.cache):
            os.environ[names.cache] = stack.enter_context(throwaway_redis_server(names.cache))
    except (SchemaPreparationError, PrepareCommandError, RedisServerMissingError) as error:
        stack.close()
        raise pytest.UsageError(str(error)) from error
    return stack
