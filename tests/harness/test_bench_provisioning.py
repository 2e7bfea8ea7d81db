"""The provisioning benchmark: its figures, the commands it builds, and one real round of the
ways that need no engine (against the machine's own Redis and PostgreSQL programs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.bench import container_engine
from scripts.bench import provisioning as section
from scripts.bench.figures import at_least, at_most
from scripts.bench.pytest_postgresql_start import executor
from scripts.providers import runs
from scripts.providers.accounts import Account
from tests.harness.providers_support import binaries_spec

FOUR_WAYS = {
    section.HARNESS: [0.2, 0.3, 0.25],
    section.FRESH: [1.0, 1.2, 1.0],
    section.CONTAINER: [2.0, 3.3, 2.5],
    section.FLOOR: [0.1, 0.1, 0.125],
}


def ways_for(keys: object) -> dict[str, section.Way]:
    return {
        key: section.Way(lambda: 0.0, f"how {key} starts", section.Seen("17.10", f"from {key}"))
        for key in keys  # type: ignore[attr-defined]
    }


def by_name(
    figures: list[section.Figure], title: str = "PostgreSQL 17"
) -> dict[str, section.Figure]:
    """The figures by name, their server's title left out."""
    return {figure.name.removeprefix(f"{title} "): figure for figure in figures}


def test_every_way_gives_a_time_and_the_ratios_are_per_round_with_the_issue_targets() -> None:
    figures = by_name(
        section.server_figures(
            "postgres-17", "PostgreSQL 17", FOUR_WAYS, ways_for(FOUR_WAYS), absent={}
        )
    )

    assert set(figures) == {
        "harness: template copy + start",
        "fresh data dir + start",
        "container",
        "floor: start in place",
        "harness / floor",
        "container / harness",
        "fresh / harness",
    }
    assert all(f.section == "provisioning" for f in figures.values())
    harness = figures["harness: template copy + start"]
    assert (harness.unit, harness.samples, harness.target) == ("s", (0.2, 0.3, 0.25), None)
    assert harness.details["reported_version"] == "17.10"
    assert harness.details["server"] == "postgres-17"
    to_floor = figures["harness / floor"]
    assert to_floor.samples == pytest.approx((2.0, 3.0, 2.0))
    assert (to_floor.unit, to_floor.target) == ("x", at_most(2.0, "x floor"))
    to_container = figures["container / harness"]
    assert to_container.samples == pytest.approx((10.0, 11.0, 10.0))
    assert to_container.target == at_least(5.0, "x")
    assert figures["fresh / harness"].target is None
    assert figures["fresh / harness"].samples == pytest.approx((5.0, 4.0, 4.0))


def test_a_way_left_out_drops_its_figures_and_the_harness_figure_says_why() -> None:
    samples = {k: v for k, v in FOUR_WAYS.items() if k != section.CONTAINER}
    figures = by_name(
        section.server_figures(
            "postgres-17",
            "PostgreSQL 17",
            samples,
            ways_for(samples),
            absent={section.CONTAINER: "no dockerd program on this machine"},
        )
    )

    assert "container" not in figures
    assert "container / harness" not in figures
    assert "harness / floor" in figures
    assert (
        "container left out: no dockerd program" in figures["harness: template copy + start"].note
    )


def test_the_child_result_is_its_last_json_line_whatever_else_it_printed() -> None:
    output = "\n".join(
        [
            "waiting for server to start.... done",
            "{not json",
            json.dumps({"seconds": 0.75, "version": "17.10"}),
            "",
        ]
    )

    assert section.child_result(output) == (0.75, "17.10")
    with pytest.raises(ValueError, match="no result line"):
        section.child_result('FATAL: data directory has wrong ownership\n{"version": "17"}')


def test_the_pytest_postgresql_child_runs_as_the_servers_account_when_there_is_one() -> None:
    account = Account("compat-servers", 949, 948, frozenset({948}))
    folder = Path("/scratch/run/bench-pytest-postgresql-1")
    pg_ctl = Path("/opt/pg/17/bin/pg_ctl")

    as_account = section.pytest_postgresql_command("/venv/python", pg_ctl, 5500, folder, account)
    as_ourselves = section.pytest_postgresql_command("/venv/python", pg_ctl, 5500, folder, None)

    assert as_account == [
        "/venv/python",
        "-m",
        "scripts.bench.pytest_postgresql_start",
        "--pg-ctl",
        "/opt/pg/17/bin/pg_ctl",
        "--port",
        "5500",
        "--folder",
        str(folder),
        "--uid",
        "949",
        "--gid",
        "948",
    ]
    assert as_ourselves == as_account[:-4]


def test_the_child_builds_the_executor_the_postgresql_proc_fixture_builds() -> None:
    folder = Path("/scratch/bench-pg")

    server = executor(Path("/opt/pg/17/bin/pg_ctl"), 5501, folder)

    assert (server.host, server.port, server.user) == ("127.0.0.1", 5501, "postgres")
    assert server.datadir == str(folder / "data-5501")
    assert server.unixsocketdir == str(folder)
    assert server.startparams == "-w"  # the plugin's default: pg_ctl waits for the start
    assert server.password is None  # the fixture's default: trust


def test_no_engine_is_explained_by_the_machine_then_by_the_engine_then_by_the_ping() -> None:
    ping = "no Docker engine answers at unix:///var/run/docker.sock"
    heard = [
        "docker: removed 1 container(s) of dead runs",
        "docker: the private engine could not start: no dockerd program on this machine",
    ]

    assert container_engine.why_no_engine(ping, heard, "starting dockerd needs root") == (
        f"{ping}, and no private engine here: starting dockerd needs root"
    )
    assert container_engine.why_no_engine(ping, heard, None) == (
        f"{ping}, and the private engine could not start: no dockerd program on this machine"
    )
    assert container_engine.why_no_engine(ping, heard[:1], None) == ping


def test_only_the_projects_own_images_are_built_and_only_when_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def check(image: str) -> None:
        asked.append(image)
        if image.endswith("mysql:9.7"):
            raise section.Unavailable(f"{image} is not built")

    monkeypatch.setattr(container_engine, "check_local_image", check)

    missing = container_engine.missing_images(
        ["fastapi-compat-matrix/postgres:17", "fastapi-compat-matrix/mysql:9.7", "redis:7.0"]
    )

    assert missing == ["fastapi-compat-matrix/mysql:9.7"]
    assert "redis:7.0" not in asked  # an official image: testcontainers pulls it, as in a run


def test_one_real_round_of_postgresql_times_the_harness_pytest_postgresql_and_the_floor() -> None:
    spec = binaries_spec("postgres", "15")
    said: list[str] = []

    figures = by_name(
        section.measure_server(spec, 1, containers_why_not="no engine here", say=said.append),
        "PostgreSQL 15",
    )

    assert set(figures) == {
        "harness: template copy + start",
        "fresh data dir + start",
        "floor: start in place",
        "harness / floor",
        "fresh / harness",
    }
    times = [f for f in figures.values() if f.unit == "s"]
    assert all(len(f.samples) == 1 and f.samples[0] > 0 for f in times)
    assert all(str(f.details["reported_version"]).startswith("15") for f in times)
    fresh = figures["fresh data dir + start"]
    assert "pytest-postgresql" in str(fresh.details["provenance"])
    assert "container left out: no engine here" in figures["harness: template copy + start"].note
    left = [
        p.name for p in runs.run_folder().iterdir() if p.name.startswith(("bench-", "postgres"))
    ]
    assert left == []  # the floor's data directory and the child's folder are gone
