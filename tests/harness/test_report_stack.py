"""The report by library and by interpreter: verdict lines, grid rows and the cells' stacks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scripts.report.build import Written, write_report
from scripts.report.collect import collect
from scripts.report.matrix_info import MatrixInfo
from scripts.report.verdict import build_verdict
from scripts.results import RESULT_FILE, Axis, TestOutcomeKind, read_result, write_result
from tests.harness.history_scenario import MATRIX as HISTORY_MATRIX
from tests.harness.history_scenario import night_date, stamped_as
from tests.harness.result_factories import cell_result
from tests.harness.stack_scenario import (
    DEFAULT_ENVIRONMENT,
    REDIS_7,
    SQLITE,
    stack_cell,
    stack_report,
)

LINES = [
    "- **SQLAlchemy** 2.0.44, 2.1.9 ✅ passed",
    "- **Celery** 5.3.6 + kombu 5.3.7 ✅ passed; 5.5.3 + kombu 5.5.4 ❌ failed in redis-6.0",
    "- **Driver** psycopg 3.3.9 ✅ passed; psycopg2-binary 2.9.11 ❌ failed in postgres-16",
    "- **Python** 3.11–3.12 ✅ passed; 3.13 ❌ failed in py3.13",
]


@pytest.fixture(scope="module")
def stacked(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return stack_report(tmp_path_factory.mktemp("stacked"))


def test_the_markdown_verdict_has_a_line_per_library_and_one_for_python(stacked: Written) -> None:
    markdown = stacked.markdown.read_text(encoding="utf-8")
    verdict = markdown.split("## Verdict", 1)[1].split("## Cells", 1)[0]
    assert [line for line in verdict.splitlines() if line.startswith("- **")][3:] == LINES


def test_a_library_at_one_version_in_every_cell_is_no_axis_and_gets_no_line(
    stacked: Written,
) -> None:
    names = [line.name for line in stacked.report.stack_verdict]
    assert names == ["SQLAlchemy", "Celery", "Driver", "Python"]  # not FastAPI, not redis


def test_a_default_version_riding_along_a_server_failure_does_not_fail_the_library(
    stacked: Written,
) -> None:
    sqlalchemy = stacked.report.stack_verdict[0]
    assert {v.version: v.cells for v in sqlalchemy.versions} == {
        "2.0.44": ["sqlalchemy-2.0"],
        "2.1.9": ["sqlite-stdlib"],  # not redis-6.0 nor py3.13, which fail for their own part
    }


def test_the_markdown_grid_has_a_row_per_library_and_one_for_python(stacked: Written) -> None:
    markdown = stacked.markdown.read_text(encoding="utf-8")
    rows = {line.split(" | ")[0]: line for line in markdown.splitlines() if line.startswith("| **")}
    assert rows["| **SQLAlchemy**"].startswith(
        "| **SQLAlchemy** | **2.0.44** ✅ passed<br>2.0 | **2.1.9** ✅ passed<br>2.1 |"
    )
    assert "**3.13** ❌ failed<br>3.13.5" in rows["| **Python**"]


def test_the_page_shows_the_same_lines_and_rows(stacked: Written) -> None:
    page = stacked.html.read_text(encoding="utf-8")
    assert '<li data-library="sqlalchemy"><b>SQLAlchemy</b> 2.0.44, 2.1.9 passed</li>' in page
    assert (
        '<li data-interpreter="python"><b>Python</b> 3.11–3.12 passed; 3.13 failed in py3.13'
        in page
    )
    rows = re.findall(
        r'<div class="grid-row" data-kind="(\w+)"><span class="grid-label">([^<]+)', page
    )
    assert rows[3:] == [
        ("library", "SQLAlchemy"),
        ("library", "Celery"),
        ("library", "Driver"),
        ("interpreter", "Python"),
    ]
    # a group of several distributions names its boxes by what was asked, the versions under it
    assert 'href="#cell-redis-6.0" data-state="failed" data-version="5.5"' in page
    assert "5.5.3 + kombu 5.5.4" in page


def test_the_cells_table_shows_the_versions_installed_not_the_values_asked(
    stacked: Written,
) -> None:
    page = stacked.html.read_text(encoding="utf-8")
    row = page.split('id="cell-postgres-16+psycopg3"', 1)[1].split("</tr>", 1)[0]
    stack = re.search(r'<td class="stack"><span class="srv" title="([^"]+)">([^<]+)<', row)
    assert stack is not None
    # the line: what the cell varies (its id names the driver); the tooltip: all it ran
    assert stack[2] == "psycopg 3.3.9"
    assert stack[1] == (
        "asked: sqlalchemy 2.1, celery 5.5, redispy 6, driver psycopg3, python 3.11; "
        "ran: SQLAlchemy 2.1.9, Celery 5.5.3, kombu 5.5.4, psycopg 3.3.9, Python 3.11.9"
    )
    markdown = stacked.markdown.read_text(encoding="utf-8")
    assert "| SQLAlchemy 2.0.44, Celery 5.5.3, kombu 5.5.4, Python 3.11.9 |" in markdown


def test_compat_json_holds_the_library_lines(stacked: Written) -> None:
    document = json.loads(stacked.json.read_text(encoding="utf-8"))
    python = document["stack_verdict"][-1]
    assert python["kind"] == "interpreter"
    assert [(v["version"], v["installed"], v["state"]) for v in python["versions"]] == [
        ("3.11", ["3.11.9"], "passed"),
        ("3.12", ["3.12.11"], "passed"),
        ("3.13", ["3.13.5"], "failed"),
    ]


def test_a_cell_varying_the_stack_counts_for_no_server(tmp_path: Path) -> None:
    failing = stack_cell("sqlalchemy-2.0", "failed", SQLITE, REDIS_7, stack={"sqlalchemy": "2.0"})
    default = stack_cell("sqlite-stdlib", "passed", SQLITE, REDIS_7)
    matrix = MatrixInfo("m", None, default_database="sqlite-stdlib", default_cache="redis-7.0")
    verdict = build_verdict([default, failing], matrix)
    assert [(v.name, v.summary) for v in verdict] == [
        ("SQLite", "stdlib ✅ passed"),
        ("Redis", "7.0 ✅ passed"),
    ]


def test_a_result_keeps_its_stack_and_interpreter_and_an_older_one_reads_without(
    tmp_path: Path,
) -> None:
    written = stack_cell("py3.13", "passed", SQLITE, REDIS_7, interpreter="3.13")
    write_result(written, tmp_path / "new")
    again = read_result(tmp_path / "new")
    assert (again.stack, again.interpreter) == (written.stack, "3.13")
    older = json.loads((tmp_path / "new" / RESULT_FILE).read_text(encoding="utf-8"))
    del older["stack"], older["interpreter"]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / RESULT_FILE).write_text(json.dumps(older), encoding="utf-8")
    before = read_result(tmp_path / "old")
    assert (before.state, before.stack, before.interpreter) == ("passed", {}, None)


def test_a_readable_result_in_a_folder_named_by_a_stack_cell_id_is_collected(
    tmp_path: Path,
) -> None:
    for name in ("postgres-18+psycopg3", "sqlalchemy-2.0", "py3.13"):
        write_result(stack_cell(name, "passed", SQLITE, REDIS_7), tmp_path / name)
    found = collect([tmp_path])
    assert sorted(r.cell for r in found.results) == [
        "postgres-18+psycopg3",
        "py3.13",
        "sqlalchemy-2.0",
    ]
    assert found.warnings == []


LOGIN = "tests/integration/test_auth.py::test_login"


def _night(results: Path, night: int) -> None:
    """postgres-16 and sqlite-stdlib; on night 2 redis-py went from 6.4.0 to 7.1.0 in
    sqlite-stdlib only, and its LOGIN test began failing there."""
    for cell, database in (("postgres-16", Axis("postgres", "16")), ("sqlite-stdlib", SQLITE)):
        moved = night == 2 and cell == "sqlite-stdlib"
        outcomes: dict[str, TestOutcomeKind] = {LOGIN: "failed" if moved else "passed"}
        result = cell_result(cell, "failed" if moved else "passed", outcomes)
        result.axes = {"database": database, "cache": REDIS_7}
        result.environment = {**DEFAULT_ENVIRONMENT, **({"redis": "7.1.0"} if moved else {})}
        result.started_at = f"{night_date(night)}T03:17:00+00:00"
        result.finished_at = f"{night_date(night)}T03:19:00+00:00"
        write_result(result, results / cell)


def test_the_history_flags_a_library_that_changed_beside_the_regression_it_came_with(
    tmp_path: Path,
) -> None:
    matrix_file = tmp_path / "matrix.toml"
    matrix_file.write_text(HISTORY_MATRIX, encoding="utf-8")
    out = tmp_path / "reports"
    for night in (1, 2):
        _night(tmp_path / f"night-{night}", night)
        with stamped_as(night):
            written = write_report(
                [tmp_path / f"night-{night}"],
                out,
                matrix_file=matrix_file,
                previous=None,
                history=out / "history.json.gz",
            )
    assert written.report.trends is not None
    [change] = written.report.trends.library_changes
    assert (change.text(), change.cells) == ("redis 6.4.0 → 7.1.0", ["sqlite-stdlib"])
    assert change.regressions == ["cell sqlite-stdlib failed", f"sqlite-stdlib · {LOGIN} failed"]
    markdown = written.markdown.read_text(encoding="utf-8")
    assert (
        "- **redis 6.4.0 → 7.1.0** in `sqlite-stdlib`; came with: cell sqlite-stdlib failed;"
        f" sqlite-stdlib · {LOGIN} failed"
    ) in markdown.replace("\\_", "_")
    assert f"`sqlite-stdlib` · `{LOGIN}` failed since **2026-11-02** (run 2" in markdown.replace(
        "\\_", "_"
    )
    assert "redis 6.4.0 → 7.1.0" in markdown.split("### Failing since", 1)[1]
    page = written.html.read_text(encoding="utf-8")
    assert '<li data-library="redis"><b>redis 6.4.0 → 7.1.0</b> in sqlite-stdlib;' in page
