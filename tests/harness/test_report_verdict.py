"""The verdict per backend: ranges of consecutive passing versions, other states named."""

from __future__ import annotations

from scripts.report.matrix_info import MatrixInfo
from scripts.report.model import VersionVerdict
from scripts.report.verdict import build_verdict, ranges
from scripts.results import Axis
from tests.harness.result_factories import cell_result

MATRIX = MatrixInfo(
    path="matrix.toml",
    sha256=None,
    versions={
        "postgres": ["13", "14", "15", "16", "17", "18"],
        "mysql": ["8.0", "8.4"],
        "redis": ["6.2", "7.0"],
        "sqlite": ["stdlib"],
    },
    roles={"postgres": "database", "mysql": "database", "redis": "cache", "sqlite": "database"},
    default_database="sqlite-stdlib",
    default_cache="redis-7.0",
)


def test_consecutive_passing_versions_form_ranges() -> None:
    cells = [cell_result(f"postgres-{v}", "passed") for v in ("13", "14", "15", "16", "18")]
    cells.append(cell_result("postgres-17", "failed", reason="1 test failed"))
    (postgres,) = [v for v in build_verdict(cells, MATRIX) if v.backend == "postgres"]
    assert postgres.summary == "13–16, 18 ✅ passed; 17 ❌ failed"
    assert postgres.supported == "13–16, 18"


def test_unavailable_error_and_flaky_are_shown_apart_with_reasons() -> None:
    cells = [
        cell_result("mysql-8.0", "unavailable", reason="no Docker engine"),
        cell_result("mysql-8.4", "unavailable", reason="no Docker engine"),
        cell_result("postgres-13", "flaky"),
        cell_result("postgres-14", "error", reason="provisioning failed: port closed"),
    ]
    verdict = {v.backend: v for v in build_verdict(cells, MATRIX)}
    assert verdict["mysql"].summary == "8.0–8.4 🚫 not run: no Docker engine"
    assert verdict["mysql"].supported == ""
    assert verdict["postgres"].summary.startswith("13 ⚠️ flaky; 14 💥 error: provisioning failed")
    assert "15–18 ➖ not in this run" in verdict["postgres"].summary


def test_a_default_version_counts_only_through_its_own_axis_cell() -> None:
    cells = [
        cell_result("postgres-16", "failed"),  # rides on the default cache redis-7.0
        cell_result("sqlite-stdlib", "passed"),  # the default cell: redis-7.0's own cell
        cell_result("redis-6.2", "failed", cache=Axis("redis", "6.2")),
    ]
    verdict = {v.backend: v for v in build_verdict(cells, MATRIX)}
    assert {v.version: (v.state, v.cells) for v in verdict["redis"].versions} == {
        "6.2": ("failed", ["redis-6.2"]),
        "7.0": ("passed", ["sqlite-stdlib"]),
    }


def test_the_worst_cell_decides_a_version_seen_in_several_cells() -> None:
    cells = [cell_result("postgres-16", "passed"), cell_result("postgres-16+redis-6.2", "flaky")]
    (postgres,) = [v for v in build_verdict(cells, MATRIX) if v.backend == "postgres"]
    assert [(v.version, v.state) for v in postgres.versions if v.cells] == [("16", "flaky")]


def test_named_versions_are_listed_not_joined_into_a_range() -> None:
    versions = [
        VersionVerdict("stdlib", "passed", [], None),
        VersionVerdict("pysqlite3", "passed", [], None),
    ]
    assert ranges(["stdlib", "pysqlite3"], {"passed"}, versions) == "stdlib, pysqlite3"


def test_a_long_reason_loses_its_parenthesised_detail_in_the_verdict_not_its_words() -> None:
    reason = (
        "image: no Docker engine answers at unix:///var/run/docker.sock (No such file or"
        " directory) (to fix: image: start Docker or point DOCKER_HOST at an engine)"
    )
    cells = [cell_result("mysql-8.0", "unavailable", reason=reason)]
    (mysql,) = [v for v in build_verdict(cells, MATRIX) if v.backend == "mysql"]
    assert mysql.summary.startswith(
        "8.0 🚫 not run: image: no Docker engine answers at unix:///var/run/docker.sock;"
    )


def test_a_long_reason_keeps_what_follows_its_parenthesised_detail() -> None:
    reason = "cell (postgres-16) timed out after 900 s while the suite was still running tests"
    cells = [cell_result("mysql-8.0", "error", reason=reason + " (see pytest.log for more)")]
    (mysql,) = [v for v in build_verdict(cells, MATRIX) if v.backend == "mysql"]
    assert mysql.summary.startswith("8.0 💥 error: cell timed out after 900 s while the suite")
