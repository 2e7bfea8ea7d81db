"""GitHub annotations for a cell: each failing test on its file and failing line with its first
lines, flaky tests as warnings, a cell that could not run named, GitHub's limits respected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts import results
from scripts.__main__ import main
from scripts.report.annotate import (
    MAX_PER_LEVEL,
    Annotation,
    cell_annotations,
    failing_line,
)
from tests.harness.report_scenario import CASE_TEST, FLAKY_TEST, PlantedRun
from tests.harness.result_factories import cell_result

REPO = Path(__file__).parents[2]
CASE_FILE = CASE_TEST.split("::")[0]


def _line_of(path: str, text: str) -> int:
    lines = (REPO / path).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_a_failing_test_is_an_error_on_its_failing_line_with_its_first_lines(
    planted: PlantedRun,
) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "scripts", "annotate", str(planted.results / "mariadb-10.11")],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    (line,) = done.stdout.splitlines()
    expected_line = _line_of(CASE_FILE, "assert not equal")
    prefix = (
        f"::error file={CASE_FILE},line={expected_line},"
        f"title=mariadb-10.11%3A {CASE_TEST.replace(':', '%3A')} failed::"
    )
    assert line.startswith(prefix), line
    message = line[len(prefix) :]
    assert "compares 'a' = 'A' as equal (collation)" in message
    assert "\n" not in message
    assert message.count("%0A") <= 8  # the first lines, not the whole traceback


def test_flaky_tests_warn_and_cells_that_could_not_run_are_named(planted: PlantedRun) -> None:
    flaky = cell_annotations(planted.cells["postgres-15"], REPO)
    assert [(a.level, a.file, a.title) for a in flaky] == [
        ("warning", FLAKY_TEST.split("::")[0], f"postgres-15: {FLAKY_TEST} flaky (failed, then"
         " passed on the rerun)"),
    ]  # fmt: skip
    assert flaky[0].line is not None
    (error,) = cell_annotations(planted.cells["postgres-16"], REPO)
    assert (error.level, error.title, error.file) == ("error", "cell postgres-16: error", None)
    assert "provisioning failed" in error.message
    (unavailable,) = cell_annotations(planted.cells["mysql-8.0"], REPO)
    assert (unavailable.level, unavailable.title) == ("warning", "cell mysql-8.0: unavailable")
    assert cell_annotations(planted.cells["sqlite-stdlib"], REPO) == []


def test_beyond_githubs_ten_errors_one_notice_counts_the_rest() -> None:
    outcomes: dict[str, results.TestOutcomeKind] = {
        f"tests/integration/test_x.py::test_{n:02d}": "failed" for n in range(14)
    }
    cell = cell_result("postgres-16", "failed", outcomes)
    found = cell_annotations(cell, REPO)
    assert [a.level for a in found] == ["error"] * MAX_PER_LEVEL + ["notice"]
    assert found[-1].title == "cell postgres-16: 4 more failing tests"


def test_the_line_is_where_it_failed_in_its_file_else_its_definition() -> None:
    failed_there = results.TestOutcome(CASE_TEST, CASE_FILE, "failed", 0.1, "boom", CASE_FILE, 5, 9)
    assert failing_line(failed_there, REPO) == 9
    failed_elsewhere = results.TestOutcome(CASE_TEST, CASE_FILE, "error", 0.1, "boom", CASE_FILE, 5)
    assert failing_line(failed_elsewhere, REPO) == 5


def test_a_result_without_recorded_lines_points_at_the_tests_def() -> None:
    test = results.TestOutcome(
        CASE_TEST, CASE_FILE, "failed", 0.1, "E   boom\nelsewhere.py:3: Error"
    )
    assert failing_line(test, REPO) == _line_of(CASE_FILE, "def test_string_equality_is_case_")
    gone = results.TestOutcome("tests/gone.py::test_x", "tests/gone.py", "failed", 0.1, None)
    assert failing_line(gone, REPO) is None


def test_messages_and_properties_are_escaped_as_github_wants() -> None:
    command = Annotation("error", "a: b, c", "100% sure\r\nsecond", "t.py", 3).command()
    assert command == "::error file=t.py,line=3,title=a%3A b%2C c::100%25 sure%0D%0Asecond"


def test_a_missing_result_is_still_annotated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "postgres-16"
    folder.mkdir()
    assert main(["annotate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("::error title=cell postgres-16%3A error::")
    assert "result.json is missing" in out


def test_it_needs_only_the_standard_library() -> None:
    code = (
        "import sys, scripts.report.annotate;"
        "print(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)"
        " - {'scripts', '__main__'}))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-S", "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
