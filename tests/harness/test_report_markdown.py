"""COMPATIBILITY.md marks exactly the planted failure, flaky test, error and unavailable cell."""

from __future__ import annotations

import json
import re
from pathlib import Path

from scripts.paths import MATRIX_FILE
from scripts.report.build import Written, write_report
from scripts.report.markdown import archive_origin, code, escape, source_shown
from scripts.report.symbols import FAILURES_HEADING
from scripts.results import ServerInfo, write_result
from tests.harness.report_scenario import CASE_TEST, FLAKY_TEST
from tests.harness.result_factories import cell_result


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def test_sections_come_in_the_promised_order(planted_report: Written) -> None:
    text = planted_report.markdown.read_text(encoding="utf-8")
    titles = re.findall(r"^## (.+)$", text, re.M)
    assert titles == [
        "Versions",
        "Verdict",
        "Cells",
        "Test groups × cells",
        FAILURES_HEADING,
        "Changes since the previous report",
    ]


def test_verdict_lines_agree_with_the_cells(planted_report: Written) -> None:
    lines = _section(planted_report.markdown.read_text(encoding="utf-8"), "Verdict").split("\n")
    verdict = {
        line.split("**")[1]: line.split("** ", 1)[1] for line in lines if line.startswith("- ")
    }
    assert verdict["MariaDB"] == "10.11 ❌ failed"
    assert verdict["SQLite"] == "stdlib ✅ passed"
    assert verdict["Redis"] == "7.0 ✅ passed"
    assert verdict["PostgreSQL"].startswith("15 ⚠️ flaky; 16 💥 error: provisioning failed")
    assert verdict["MySQL"].startswith("8.0 🚫 not run: ")
    assert "Docker" in verdict["MySQL"]
    # only the two cells that passed show the ✅ of a supported version
    assert sum("✅" in v for v in verdict.values()) == 2


def test_one_row_per_cell_with_state_and_counts(planted_report: Written) -> None:
    table = _section(planted_report.markdown.read_text(encoding="utf-8"), "Cells")
    rows: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            cols = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cols[0].strip("`")] = cols[1:]
    states = {cell: cols[0] for cell, cols in rows.items()}
    assert states == {
        "postgres-15": "⚠️ flaky",
        "postgres-16": "💥 error",
        "mysql-8.0": "🚫 unavailable",
        "mariadb-10.11": "❌ failed",
        "sqlite-stdlib": "✅ passed",
    }
    # passed, failed, skipped, flaky
    assert rows["mariadb-10.11"][4:8] == ["3", "1", "1", "0"]
    assert rows["postgres-15"][4:8] == ["3", "0", "1", "1"]
    assert rows["mariadb-10.11"][1].startswith("mariadb-10.11: 10.11.")
    assert rows["mysql-8.0"][1] == "mysql-8.0 (not started)"


def test_failures_list_exactly_the_planted_ones(planted_report: Written) -> None:
    failures = _section(planted_report.markdown.read_text(encoding="utf-8"), FAILURES_HEADING)
    headers = re.findall(r"^\*\*`([^`]+)`\*\* · `([^`]+)` · (.+)$", failures, re.M)
    assert [(cell, test) for cell, test, _ in headers] == [
        ("postgres-15", FLAKY_TEST),
        ("mariadb-10.11", CASE_TEST),
    ]
    assert "flaky" in headers[0][2]
    assert "compares 'a' = 'A' as equal" in failures
    broken = re.findall(r"^- \S+ cell `([^`]+)` (\w+):", failures, re.M)
    assert broken == [("postgres-16", "error"), ("mysql-8.0", "unavailable")]


def test_the_group_grid_marks_the_failing_module_in_the_failing_cell_only(
    planted_report: Written,
) -> None:
    grid = _section(planted_report.markdown.read_text(encoding="utf-8"), "Test groups × cells")
    marks = [line.count("❌") for line in grid.splitlines() if line.startswith("| `tests")]
    assert sum(marks) == 1
    assert "❌" in next(line for line in grid.splitlines() if "sample_database.py" in line)


def test_text_from_results_cannot_break_the_markdown() -> None:
    assert escape("a | b <script> `x`") == "a \\| b &lt;script&gt; \\`x\\`"
    assert code("test_x[a|b]") == "`test_x[a\\|b]`"
    assert code("has `ticks`") == "`` has `ticks` ``"


def test_a_server_from_debians_archive_shows_its_suite_and_package_version() -> None:
    fetched = (
        "debian sid mysql-server-core 9.7.4-2 (/cache/fetched/debian-sid/root/usr/sbin/mysqld)"
    )
    assert archive_origin(fetched) == " (debian sid mysql-server-core 9.7.4-2)"
    assert archive_origin("/usr/sbin/mariadbd") == ""
    assert archive_origin(None) == ""


def test_a_server_in_a_container_shows_its_image() -> None:
    provenance = (
        "fastapi-compat-matrix/mysql:9.7 (996bdd9cacee, built from debian sid mysql-server-core"
        " 9.7.4-2), container e1135768f4c4 (mysql+pymysql://root:***@127.0.0.1:32772/mysql)"
    )
    server = ServerInfo("database", "mysql", "9.7", "9.7.4-2", "image", provenance)
    assert source_shown(server) == "image fastapi-compat-matrix/mysql:9.7"
    binaries = ServerInfo("database", "mariadb", "10.11", "10.11.19", "binaries", "/usr/sbin/x")
    assert source_shown(binaries) == "binaries"


def test_a_huge_reason_is_a_few_lines_in_the_table_and_whole_in_the_json_and_html(
    tmp_path: Path,
) -> None:
    tail = "\n".join(f"OSError: [Errno 28] No space left on device: file-{n}" for n in range(1500))
    reason = f"provisioning failed: initdb exited 1\n{tail}"
    assert len(reason) > 80_000
    results = tmp_path / "results"
    write_result(cell_result("postgres-16", "error", reason=reason), results / "postgres-16")
    written = write_report([results], tmp_path / "out", matrix_file=MATRIX_FILE, previous=None)
    markdown = written.markdown.read_text(encoding="utf-8")
    assert len(markdown.encode()) < 20_000
    [row] = [line for line in markdown.splitlines() if line.startswith("| `postgres-16`")]
    assert "provisioning failed: initdb exited 1" in row
    assert "full text in result.json and compat.html" in row
    assert len(row) < 1_000
    assert (
        reason in json.loads((tmp_path / "out" / "compat.json").read_text())["cells"][0]["reason"]
    )
    assert "file-1499" in written.html.read_text(encoding="utf-8")


def test_the_grid_is_a_table_a_row_per_backend_saying_each_state_in_words(
    planted_report: Written,
) -> None:
    grid = _section(planted_report.markdown.read_text(encoding="utf-8"), "Versions")
    assert "![The version grid: 5 rows](grid.svg)" in grid
    rows = {
        line.split(" | ")[0].strip("| *"): line.split(" | ")[1:]
        for line in grid.splitlines()
        if line.startswith("| **")
    }
    assert list(rows) == ["PostgreSQL", "MySQL", "MariaDB", "SQLite", "Redis"]
    assert rows["PostgreSQL"][0].startswith("**15** ⚠️ flaky<br>15.")
    assert rows["PostgreSQL"][1].startswith("**16** 💥 error")
    assert rows["MySQL"][0].startswith("**8.0** 🚫 not run")
    assert rows["MariaDB"][0].startswith("**10.11** ❌ failed<br>")
    assert rows["SQLite"][0].startswith("**stdlib** ✅ passed<br>3.")  # the reported version
    widths = {line.count("|") - line.count("\\|") for line in grid.splitlines() if line[:1] == "|"}
    assert len(widths) == 1, "every row has as many columns as the header"
