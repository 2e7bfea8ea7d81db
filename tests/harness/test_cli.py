"""`python -m scripts`: listing, bad input, and what a whole run leaves in the results folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import scripts.__main__ as cli
from scripts.__main__ import forget_earlier_cells, main
from scripts.matrix import Cell, load_matrix
from scripts.paths import MATRIX_FILE
from scripts.results import CellResult, write_result
from tests.harness.result_factories import cell_result


def test_list_json_is_a_job_matrix_of_every_cell(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    cells = [row["cell"] for row in listing["include"]]
    assert cells == [cell.id for cell in load_matrix(MATRIX_FILE).cells()]
    assert listing["include"][0]["session"] == f"cell({cells[0]})"


def test_an_unknown_cell_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cell", "postgres-99", "--results", "/nonexistent"]) == 2
    error = capsys.readouterr().err
    assert "postgres-99: no such version; known: postgres-13" in error


def test_an_unknown_tag_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["list", "--tag", "oracle"]) == 2
    assert "no cell has the tag(s) oracle; known tags:" in capsys.readouterr().err


def test_a_bad_matrix_file_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "matrix.toml"
    bad.write_text("[matrix]\nworkers = 'two'\n")
    assert main(["--matrix", str(bad), "matrix", "--no-fetch"]) == 2
    assert f"{bad}: matrix.workers: expected an integer" in capsys.readouterr().err


def test_a_whole_run_forgets_earlier_cells_but_nothing_else(tmp_path: Path) -> None:
    def folder(name: str, files: dict[str, str]) -> None:
        (tmp_path / name).mkdir()
        for file, text in files.items():
            (tmp_path / name / file).write_text(text)

    folder("postgres-16", {"result.json": '{"cell": "postgres-16"}', "pytest.log": "..."})
    folder("notes", {"todo.txt": "keep me"})
    folder("build", {"junit.xml": "<testsuites/>", "pytest.log": "another project's"})
    folder("other", {"result.json": '{"cell": "something-else"}'})
    folder("mixed", {"result.json": '{"cell": "mixed"}', "data.csv": "keep me"})
    (tmp_path / "README").write_text("keep me too")
    forget_earlier_cells(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "README",
        "build",
        "mixed",
        "notes",
        "other",
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--workers", "-1"], "argument --workers: -1 is less than 0"),
        (["--workers", "two"], "argument --workers: 'two' is not a whole number"),
        (["--jobs", "0"], "argument --jobs: 0 is less than 1"),
        (["--timeout", "0"], "argument --timeout: 0 is not a positive number of seconds"),
        (["--timeout", "soon"], "argument --timeout: 'soon' is not a number of seconds"),
    ],
)
def test_a_bad_number_on_the_command_line_is_refused_before_anything_runs(
    option: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["matrix", "--no-fetch", *option])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_default_caches_id_names_the_default_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []

    def run_cells(cells: list[Cell], **_: object) -> list[object]:
        ran.extend(cell.id for cell in cells)
        return []

    monkeypatch.setattr(cli, "run_cells", run_cells)
    assert main(["cell", "redis-7.0", "--results", str(tmp_path)]) == 0
    assert ran == ["sqlite-stdlib"]
    assert "redis-7.0 is the cell sqlite-stdlib (sqlite-stdlib + redis-7.0)" in (
        capsys.readouterr().out
    )


def test_the_report_of_a_run_describes_the_matrix_file_that_was_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matrix_file = tmp_path / "mine.toml"
    matrix_file.write_text(MATRIX_FILE.read_text())
    results, reports = tmp_path / "results", tmp_path / "reports"

    def run_cells(cells: list[Cell], **_: object) -> list[CellResult]:
        result = cell_result("sqlite-stdlib", "passed")
        write_result(result, results / result.cell)
        return [result]

    monkeypatch.setattr(cli, "run_cells", run_cells)
    arguments = ["--matrix", str(matrix_file), "matrix", "--no-fetch", "--results", str(results)]
    assert main([*arguments, "--reports", str(reports)]) == 0
    document = json.loads((reports / "compat.json").read_text())
    assert document["run"]["matrix_path"] == str(matrix_file)


@pytest.mark.parametrize(("source", "fetched"), [("image", False), ("binaries", True)])
def test_a_run_fetches_programs_only_when_it_may_use_them_and_takes_the_matrix_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, fetched: bool
) -> None:
    asked: list[int] = []
    monkeypatch.setattr(cli, "_fetch", lambda cells: asked.append(len(cells)))
    monkeypatch.setattr(cli, "run_cells", lambda cells, **_: [])
    matrix_file = tmp_path / "mine.toml"
    matrix_file.write_text(MATRIX_FILE.read_text())
    arguments = ["matrix", "--source", source, "--matrix", str(matrix_file), "--no-report"]
    assert main([*arguments, "--results", str(tmp_path / "results"), "--tag", "quick"]) == 0
    assert bool(asked) is fetched
