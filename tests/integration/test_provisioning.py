"""The suite's own provisioning: worker names, worker databases, reaping leftovers."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, inspect

from scripts.pytest_plugin.databases import provisioner_for
from scripts.pytest_plugin.naming import is_stale, new_run_id, worker_resource_name
from tests.support.worker import WorkerResources


def test_worker_names_carry_prefix_run_and_worker() -> None:
    run_id = new_run_id()
    name = worker_resource_name(run_id, "gw3")
    assert name.startswith("ct_")
    assert name.endswith("_gw3")
    assert not is_stale(name)
    assert is_stale(name, now=time.time() + 2 * 3600)
    assert not is_stale("production_db", now=time.time() + 10 * 3600)


def test_worker_database_is_the_apps_database(worker_resources: WorkerResources) -> None:
    assert worker_resources.settings.database_url == worker_resources.database_url
    assert worker_resources.name in worker_resources.database_url
    engine = create_engine(worker_resources.database_url)
    try:
        assert {"users", "posts"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_reaping_drops_only_this_suites_databases_older_than_an_hour(
    worker_resources: WorkerResources,
) -> None:
    provisioner = provisioner_for(worker_resources.server_url)
    suffix = worker_resources.name.rsplit("_", 1)[-1]
    old = f"ct_{int(time.time()) - 2 * 3600}_0ddba1_reap{suffix}"
    provisioner.create(old)
    try:
        provisioner.reap_stale()
        remaining = provisioner.list_databases()
        assert old not in remaining
        assert worker_resources.name in remaining  # this run's database is fresh: kept
    finally:
        provisioner.drop(old)
