"""`python -m scripts floor` end to end (scripts.floor.command, .probe): a real index on
127.0.0.1, each probe a subprocess of a stand-in harness that writes the result.json a cell
would (tests/harness/floor_fake_harness.py); and the command line's `floor` and `--pin`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.command_line import parse_arguments
from scripts.floor.answer import FLOORS_FILE, read_answers
from scripts.floor.command import floor_from_arguments
from scripts.matrix import Matrix, load_matrix
from scripts.paths import MATRIX_FILE
from scripts.run import plan_from_arguments
from tests.harness.floor_index import project_page, serve_index

SQLALCHEMY = [f"2.0.{n}" for n in range(25, 41)] + ["2.1.0", "2.1.1"]
KOMBU = ["5.5.4", "5.6.0", "5.6.1", "5.6.2", "5.7.0"]


def fake_harness(*behaviour: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "tests.harness.floor_fake_harness", *behaviour, "--")


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    pages = {"sqlalchemy": project_page("sqlalchemy", SQLALCHEMY)}
    pages["kombu"] = project_page("kombu", KOMBU)
    with serve_index(pages) as url:
        monkeypatch.setenv("PIP_INDEX_URL", f"{url}/simple/")
        yield url


@pytest.fixture
def matrix() -> Matrix:
    return load_matrix(MATRIX_FILE)


def run_floor(matrix: Matrix, argv: list[str], *behaviour: str) -> int:
    return floor_from_arguments(matrix, parse_arguments(argv), harness=fake_harness(*behaviour))


@pytest.mark.usefixtures("index")
def test_the_floor_is_found_printed_step_by_step_and_kept_for_the_report(
    matrix: Matrix, tmp_path: Path, scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["floor", "sqlalchemy", "--results", str(tmp_path)]
    status = run_floor(matrix, argv, "--passes-from", "2.0.31", "--uninstallable", "2.0.26")
    out = capsys.readouterr().out
    assert status == 0, out
    searched = "floor of sqlalchemy on sqlite-stdlib: 18 releases, 2.0.25 … 2.1.1 in >=1.4,<2.2"
    assert searched in out
    assert "probe 1/7: sqlalchemy==2.1.1 … passed in " in out
    assert "sqlalchemy==2.0.30 … failed in " in out
    assert "    failed: 1 test failed: tests/test_a.py::test_a" in out
    assert "SQLAlchemy ≥ 2.0.31 required (floor on sqlite-stdlib, " in out
    [answer] = read_answers(tmp_path / FLOORS_FILE)
    assert (answer.kind, answer.cell, answer.answer, answer.releases) == (
        "floor",
        "sqlite-stdlib",
        "2.0.31",
        18,
    )
    outcomes = {p.release: (p.passed, p.reason) for p in answer.probes}
    assert outcomes["2.0.31"] == (True, None)
    assert outcomes["2.0.30"][0] is False
    assert list(scratch.iterdir()) == [], "the probes' folders outlived the search"


@pytest.mark.usefixtures("index", "scratch")
def test_a_release_that_does_not_install_fails_with_the_installer_s_reason(
    matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["floor", "sqlalchemy", "--results", str(tmp_path), "--range", ">=2.0.25,<2.0.28"]
    status = run_floor(matrix, argv, "--passes-from", "2.0.25", "--uninstallable", "2.0.25")
    out = capsys.readouterr().out
    assert status == 0, out
    assert "unavailable: the suite environment cannot be built: no matching distribution" in out
    [answer] = read_answers(tmp_path / FLOORS_FILE)
    assert answer.answer == "2.0.26"
    assert answer.range == ">=2.0.25,<2.0.28"


@pytest.mark.usefixtures("index", "scratch")
def test_the_kombu_ceiling_is_searched_on_its_ceiling_cell(
    matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["floor", "kombu", "--ceiling", "--results", str(tmp_path), "--range", ">=5.5"]
    status = run_floor(matrix, argv, "--fails-from", "5.7")
    out = capsys.readouterr().out
    assert status == 0, out
    assert "kombu ≤ 5.6.2 on redis-6.0+redispy-6+celery-5.6 (ceiling, " in out
    [answer] = read_answers(tmp_path / FLOORS_FILE)
    assert (answer.kind, answer.cell, answer.answer) == (
        "ceiling",
        "redis-6.0+redispy-6+celery-5.6",
        "5.6.2",
    )
    assert answer.probes[0].release == "5.5.4"  # the oldest first: a ceiling needs it to pass
    assert {p.release: p.passed for p in answer.probes}["5.7.0"] is False


@pytest.mark.usefixtures("index", "scratch")
def test_a_failing_newest_release_leaves_no_floor_and_exits_1(
    matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_floor(
        matrix, ["floor", "sqlalchemy", "--results", str(tmp_path)], "--passes-from", "9"
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "SQLAlchemy: no floor found on sqlite-stdlib (1 probe, " in out
    assert "the newest release searched, 2.1.1, fails" in out


@pytest.mark.usefixtures("index", "scratch")
def test_a_harness_that_leaves_no_result_stops_the_search(
    matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_floor(matrix, ["floor", "sqlalchemy", "--results", str(tmp_path)], "--no-result")
    out, err = capsys.readouterr()
    assert status == 2
    assert out.splitlines()[-1] == "probe 1/7: sqlalchemy==2.1.1 … stopped"
    assert "exited 3 and left no result.json for sqlite-stdlib" in err
    assert "Traceback: the harness broke before the cell ran" in err
    assert not (tmp_path / FLOORS_FILE).exists()


@pytest.mark.usefixtures("index", "scratch")
def test_a_cell_that_ran_another_release_than_pinned_stops_the_search(
    matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_floor(
        matrix, ["floor", "sqlalchemy", "--results", str(tmp_path)], "--ran", "2.1.9"
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "sqlite-stdlib ran sqlalchemy 2.1.9, not 2.1.1 as pinned" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["floor", "kombu", "--cell", "postgres-99"], "--cell postgres-99: no such version"),
        (["floor", "sqlalchemy", "--ceiling"], "floor.sqlalchemy.ceiling-cell: missing"),
        (["floor", "flask"], "floor.flask: missing: add [floor.flask]"),
        (["floor", "sqlalchemy", "--range", "2.0"], "--range: '2.0' is not a PEP 440 specifier"),
    ],
)
def test_a_search_that_cannot_be_asked_for_exits_2_saying_why(
    matrix: Matrix, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_floor(matrix, argv) == 2
    assert message in capsys.readouterr().err


def test_pins_given_to_cell_reach_the_run_plan(matrix: Matrix) -> None:
    argv = ["cell", "sqlite-stdlib", "--pin", "sqlalchemy==2.0.31", "--pin", "kombu<5.7"]
    plan = plan_from_arguments(matrix, parse_arguments(argv))
    assert plan.extra_pins == ("sqlalchemy==2.0.31", "kombu<5.7")
    assert plan_from_arguments(matrix, parse_arguments(["matrix"])).extra_pins == ()


def test_the_floor_command_line_takes_its_options() -> None:
    args = parse_arguments(
        ["floor", "kombu", "--ceiling", "--cell", "redis-6.0", "--range", ">=5.3", "--no-fetch"]
    )
    assert (args.library, args.ceiling, args.cell, args.range, args.no_fetch) == (
        "kombu",
        True,
        "redis-6.0",
        ">=5.3",
        True,
    )
