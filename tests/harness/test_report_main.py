"""`python -m scripts.report`: re-renders from results, prints the verdict, fails on regressions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.__main__ import main as harness_main
from tests.harness.report_scenario import REGRESSED_TEST, DiffRuns, PlantedRun

REPO = Path(__file__).parents[2]


def report(argv: list[str]) -> int:
    """`python -m scripts report <argv>`, in this process."""
    return harness_main(["report", *argv])


def test_the_cli_writes_every_file_and_prints_path_and_verdict(
    planted: PlantedRun, tmp_path: Path
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier job output\n")
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable, "-m", "scripts", "report",
            "--results", str(planted.results),
            "--out", str(tmp_path / "reports"),
            "--matrix", str(planted.matrix_file),
            "--summary-to", str(summary),
        ],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "reports"
    assert done.stdout.splitlines() == [
        f"report: {out / 'COMPATIBILITY.md'}",
        f"history: {out / 'history.json.gz'} (1 run)",
        "verdict: 5 cells: 1 passed, 1 failed, 1 flaky, 1 error, 1 unavailable",
    ]
    backends = ["mariadb", "mysql", "postgres", "redis", "sqlite"]
    assert sorted(p.name for p in (out / "badges").iterdir()) == sorted(
        f"{backend}.{kind}" for backend in backends for kind in ("json", "svg")
    )
    assert (out / "compat.html").is_file()
    appended = summary.read_text(encoding="utf-8")
    assert appended.startswith("earlier job output\n# Compatibility report")


def test_fail_on_regression_exits_non_zero_naming_the_regression(
    diff_pair: DiffRuns, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    common = ["--out", str(out), "--matrix", str(diff_pair.matrix_file), "--fail-on-regression"]
    assert report(["--results", str(diff_pair.before), *common]) == 0
    assert report(["--results", str(diff_pair.after), *common]) == 1
    err = capsys.readouterr().err
    assert f"regression: sqlite-stdlib {REGRESSED_TEST}: passed → failed" in err
    assert err.count("regression:") == 1
    assert (out / "previous" / "compat.json").is_file()


def test_a_missing_previous_file_is_a_usage_error(planted: PlantedRun, tmp_path: Path) -> None:
    code = report(
        [
            "--results",
            str(planted.results),
            "--out",
            str(tmp_path),
            "--previous",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2
    assert not (tmp_path / "compat.json").exists()


def test_broken_results_never_crash_the_report(tmp_path: Path) -> None:
    (tmp_path / "results" / "postgres-16").mkdir(parents=True)
    (tmp_path / "results" / "postgres-16" / "result.json").write_text("{trunc")
    code = report(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "reports")])
    assert code == 0
    markdown = (tmp_path / "reports" / "COMPATIBILITY.md").read_text(encoding="utf-8")
    assert "💥 error" in markdown
    assert "not valid JSON" in markdown


def test_no_results_at_all_is_an_error_that_leaves_the_reports_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    (out / "COMPATIBILITY.md").write_text("last night's table")
    assert report(["--results", str(tmp_path / "empty"), "--out", str(out)]) == 2
    assert "no cell results" in capsys.readouterr().err
    assert (out / "COMPATIBILITY.md").read_text() == "last night's table"
