"""history.json.gz: one run per rendering, bounded, compact, versioned, and never in the way:
a missing or damaged file starts a new history and says so."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import scripts.__main__ as cli
import scripts.run as run_module
from scripts.plan import RunPlan
from scripts.report.history import (
    HISTORY_FORMAT,
    History,
    history_bytes,
    load_history,
    parse_history,
    record_run,
    save_history,
)
from scripts.report.model import RunInfo
from scripts.results import CellResult, TestOutcomeKind, write_result
from tests.harness.history_scenario import (
    CELLS,
    FLAKY_TEST,
    MATRIX,
    NIGHTS,
    REGRESSED_TEST,
    commit_of,
    night_date,
    render_nights,
    write_night,
)
from tests.harness.result_factories import cell_result

REPO = Path(__file__).parents[2]
SCHEMA = REPO / "scripts" / "report" / "compat.schema.json"
RUN = RunInfo("2026-11-01T03:30:00+00:00", "c1", False, "3.11.7", "linux", {}, "m", None, [], [])


def _document(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return data


def test_each_rendering_adds_a_run_with_states_outcomes_versions_libraries_and_commit(
    tmp_path: Path,
) -> None:
    nights = render_nights(tmp_path, nights=3)
    document = _document(nights.history)
    assert (document["format"], document["limit"], len(document["runs"])) == (HISTORY_FORMAT, 60, 3)
    last = document["runs"][-1]
    assert (last["at"], last["commit"]) == (f"{night_date(3)}T03:30:00+00:00", commit_of(3))
    assert "sqlalchemy" in last["libraries"]
    assert set(last["cells"]) == set(CELLS)
    postgres_16 = last["cells"]["postgres-16"]
    assert postgres_16["state"] == "p"
    assert postgres_16["servers"] == {"database": "16.3", "cache": "7.0.15"}
    # one code per entry of the shared test table
    assert len(postgres_16["tests"]) == len(document["tests"]) == 5
    flaky_at = document["tests"].index(FLAKY_TEST)
    assert last["cells"]["sqlite-stdlib"]["tests"][flaky_at] == "k"  # night 3: flaky
    assert last["versions"] == {
        "postgres-15": "p",
        "postgres-16": "p",
        "sqlite-stdlib": "k",
        "redis-7.0": "k",
    }


def test_rendering_the_same_results_again_replaces_the_run_instead_of_adding_one(
    tmp_path: Path,
) -> None:
    history = History()
    cells = [cell_result("postgres-16", "passed", {"t.py::a": "passed"})]
    record_run(history, cells, [], RUN)
    again = replace(RUN, generated_at="2026-11-03T04:00:00+00:00", git_commit="c2")
    record_run(history, cells, [], again)
    # the same night: its date and commit stay the ones it was first rendered at
    assert [(run.at, run.commit) for run in history.runs] == [(RUN.generated_at, "c1")]
    cells[0].finished_at = "2026-11-02T00:00:00+00:00"  # a new run of the cell
    record_run(history, cells, [], RUN)
    assert len(history.runs) == 2


def test_the_history_keeps_the_last_n_runs_and_only_the_tests_they_mention() -> None:
    history = History(limit=3)
    for night in range(1, 6):
        test = f"t.py::only_on_night_{night}"
        cell = cell_result("postgres-16", "passed", {"t.py::always": "passed", test: "passed"})
        cell.finished_at = night_date(night)
        record_run(history, [cell], [], replace(RUN, generated_at=night_date(night)))
    assert [run.at for run in history.runs] == [night_date(n) for n in (3, 4, 5)]
    assert history.tests == ["t.py::always", *(f"t.py::only_on_night_{n}" for n in (3, 4, 5))]
    codes = [run.cells["postgres-16"].tests for run in history.runs]
    assert codes == ["pp", "p-p", "p--p"]
    reread = parse_history(history_bytes(history))
    assert (reread.tests, reread.limit, len(reread.runs)) == (history.tests, 3, 3)


def test_a_shorter_limit_given_later_trims_an_existing_history(tmp_path: Path) -> None:
    nights = render_nights(tmp_path, nights=4)
    loaded = load_history(nights.history, limit=2)
    assert loaded.note is None
    assert [run.at[:10] for run in loaded.history.runs] == [night_date(3), night_date(4)]


def test_sixty_runs_of_500_cells_x_200_tests_stay_small() -> None:
    history = History()
    tests: dict[str, TestOutcomeKind] = {
        f"tests/integration/test_m{t % 20}.py::test_{t}": "passed" for t in range(200)
    }
    cells = [cell_result(f"postgres-{c}", "passed", tests) for c in range(500)]
    for night in range(60):
        for cell in cells:
            cell.finished_at = str(night)
        record_run(history, cells, [], RUN)
    size = len(history_bytes(history))
    assert len(history.runs) == 60
    assert size < 400_000, f"{size} bytes"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"not gzip at all", "is not gzip data"),
        (gzip.compress(b"{trunc"), "is not JSON"),
        (gzip.compress(b'{"schema": "something else"}'), "is not a report history"),
        (
            gzip.compress(json.dumps({"schema": "fastapi-compat-matrix/compat-history"}).encode()),
            "has format None",
        ),
        (
            gzip.compress(
                json.dumps(
                    {"schema": "fastapi-compat-matrix/compat-history", "format": 1, "tests": []}
                ).encode()
            ),
            "is damaged",
        ),
    ],
    ids=["not-gzip", "not-json", "foreign", "no-format", "damaged"],
)
def test_an_unreadable_history_starts_a_new_one_keeps_the_old_file_and_says_why(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "history.json.gz"
    path.write_bytes(content)
    loaded = load_history(path)
    assert loaded.history.runs == []
    assert loaded.note is not None
    assert said in loaded.note
    assert "started a new one" in loaded.note
    kept = list(tmp_path.glob("history.json.gz.unreadable-*"))
    assert [path.read_bytes() for path in kept] == [content]
    assert kept[0].name in loaded.note


def test_a_second_damaged_history_never_overwrites_the_first_one_kept(tmp_path: Path) -> None:
    path = tmp_path / "history.json.gz"
    damaged = [b"the first damage, maybe 60 real nights", b"the second damage"]
    for content in damaged:
        path.write_bytes(content)
        load_history(path)
        save_history(History(), path)  # the report saves the new history in its place
    kept = sorted(tmp_path.glob("history.json.gz.unreadable-*"))
    assert sorted(path.read_bytes() for path in kept) == sorted(damaged)


def test_a_missing_history_is_started_and_said(tmp_path: Path) -> None:
    loaded = load_history(tmp_path / "nowhere" / "history.json.gz")
    assert loaded.history.runs == []
    assert (
        loaded.note
        == f"no history at {tmp_path / 'nowhere' / 'history.json.gz'} yet: started a new one"
    )


def test_a_corrupt_history_never_stops_the_report_cli(tmp_path: Path) -> None:
    (tmp_path / "matrix.toml").write_text(MATRIX)
    write_night(tmp_path / "results", 1)
    history = tmp_path / "elsewhere" / "history.json.gz"
    history.parent.mkdir()
    history.write_bytes(b"\x1f\x8b broken")
    done = _cli(tmp_path, "--history", str(history))
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "history" in line]
    assert len(notes) == 1
    assert notes[0].startswith(f"note: history {history} is not gzip data")
    assert f"history: {history} (1 run)" in done.stdout.splitlines()
    assert len(_document(history)["runs"]) == 1
    markdown = (tmp_path / "reports" / "COMPATIBILITY.md").read_text(encoding="utf-8")
    assert "Note: history" in markdown


def test_the_cli_keeps_its_history_beside_the_report_unless_told_otherwise(tmp_path: Path) -> None:
    (tmp_path / "matrix.toml").write_text(MATRIX)
    for night in (1, 2):
        write_night(tmp_path / "results", night)
        assert _cli(tmp_path).returncode == 0
    assert len(_document(tmp_path / "reports" / "history.json.gz")["runs"]) == 2
    done = _cli(tmp_path, "--no-history")
    assert done.returncode == 0
    assert "## History" not in (tmp_path / "reports" / "COMPATIBILITY.md").read_text()
    assert _cli(tmp_path, "--history-runs", "0").returncode == 2


def test_the_report_with_history_is_valid_against_the_schema(tmp_path: Path) -> None:
    nights = render_nights(tmp_path, nights=NIGHTS)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    document = json.loads(nights.last.json.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]
    assert errors == []
    assert document["history"]["first_failures"][1]["test"] == REGRESSED_TEST


def test_save_is_atomic_and_readable_by_everyone(tmp_path: Path) -> None:
    history = History()
    record_run(history, [cell_result("postgres-16", "passed")], [], RUN)
    path = save_history(history, tmp_path / "h" / "history.json.gz")
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["history.json.gz"]


def _cli(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable, "-m", "scripts", "report",
            "--results", str(root / "results"),
            "--out", str(root / "reports"),
            "--matrix", str(root / "matrix.toml"),
            *extra,
        ],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_matrix_keeps_a_local_history_under_its_reports_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "matrix.toml").write_text(MATRIX)
    results, reports = tmp_path / "results", tmp_path / "reports"
    nights = iter((1, 2))

    def run_cells(plan: RunPlan, **_: object) -> list[CellResult]:
        night = next(nights)
        result = cell_result("sqlite-stdlib", "passed", {"t.py::a": "passed"})
        result.finished_at = night_date(night)
        write_result(result, results / result.cell)
        return [result]

    monkeypatch.setattr(run_module, "run_cells", run_cells)
    arguments = ["--matrix", str(tmp_path / "matrix.toml"), "matrix", "--no-fetch"]
    for _ in range(2):
        assert cli.main([*arguments, "--results", str(results), "--reports", str(reports)]) == 0
    runs = _document(reports / "history.json.gz")["runs"]
    assert [run["cells"]["sqlite-stdlib"]["tests"] for run in runs] == ["p", "p"]


def test_a_history_that_cannot_be_written_is_a_warning_not_a_failed_report(
    tmp_path: Path,
) -> None:
    (tmp_path / "matrix.toml").write_text(MATRIX)
    write_night(tmp_path / "results", 1)
    in_the_way = tmp_path / "history.json.gz"
    in_the_way.mkdir()  # a folder where the file should be
    done = _cli(tmp_path, "--history", str(in_the_way))
    assert done.returncode == 0, done.stderr
    assert f"warning: the history could not be saved to {in_the_way}" in done.stderr
    assert (tmp_path / "reports" / "COMPATIBILITY.md").is_file()
