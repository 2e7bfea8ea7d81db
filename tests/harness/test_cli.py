"""`python -m scripts`: listing, bad input, and what a whole run leaves in the results folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import scripts.__main__ as cli
import scripts.run as run_module
from scripts.__main__ import main
from scripts.command_line import session_arguments
from scripts.matrix import Cell, VersionSpec, load_matrix
from scripts.paths import MATRIX_FILE
from scripts.plan import RunPlan
from scripts.results import CellResult, write_result
from scripts.schedule import RunInterruptedError
from tests.harness.result_factories import cell_result


def test_list_json_is_a_job_matrix_of_every_cell(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    cells = [row["cell"] for row in listing["include"]]
    assert cells == [cell.id for cell in load_matrix(MATRIX_FILE).cells()]
    assert listing["include"][0]["session"] == f"cell({cells[0]})"


def test_list_pairwise_prints_its_cells_and_both_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["list", "--strategy", "pairwise"]) == 0
    lines = capsys.readouterr().out.splitlines()
    matrix = load_matrix(MATRIX_FILE)
    pairwise, product = matrix.cells("pairwise"), matrix.cells("product")
    assert [line.split()[0] for line in lines[:-1]] == [cell.id for cell in pairwise]
    possible = len(matrix.pairs(product))
    assert lines[-1] == (
        f"pairwise: {len(pairwise)} cells cover {possible} of the {possible} pairs of values "
        f"the {len(matrix.axes_named())} axes take together; product: {len(product)} cells"
    )


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
    run_module.forget_earlier_cells(tmp_path)
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

    def run_cells(plan: RunPlan, **_: object) -> list[object]:
        ran.extend(cell.id for cell in plan.cells)
        return []

    monkeypatch.setattr(run_module, "run_cells", run_cells)
    assert main(["cell", "redis-7.0", "--results", str(tmp_path)]) == 0
    assert ran == ["sqlite-stdlib"]
    assert "redis-7.0 is the cell sqlite-stdlib (sqlite-stdlib + redis-7.0" in (
        capsys.readouterr().out
    )


def test_the_report_of_a_run_describes_the_matrix_file_that_was_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matrix_file = tmp_path / "mine.toml"
    matrix_file.write_text(MATRIX_FILE.read_text())
    results, reports = tmp_path / "results", tmp_path / "reports"

    def run_cells(plan: RunPlan, **_: object) -> list[CellResult]:
        result = cell_result("sqlite-stdlib", "passed")
        write_result(result, results / result.cell)
        return [result]

    monkeypatch.setattr(run_module, "run_cells", run_cells)
    arguments = ["--matrix", str(matrix_file), "matrix", "--no-fetch", "--results", str(results)]
    assert main([*arguments, "--reports", str(reports)]) == 0
    document = json.loads((reports / "compat.json").read_text())
    assert document["run"]["matrix_path"] == str(matrix_file)


def test_a_whole_run_forgets_failed_and_flaky_cells_too(tmp_path: Path) -> None:
    """A failed cell also leaves the rerun's files; a cell since removed must not linger."""
    folder = tmp_path / "postgres-12"
    folder.mkdir()
    for name in ("junit.xml", "junit-rerun.xml", "pytest.log", "pytest-rerun.log"):
        (folder / name).write_text("...")
    (folder / "result.json").write_text('{"cell": "postgres-12"}')
    run_module.forget_earlier_cells(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_selection_whose_cells_were_all_unavailable_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_cells(plan: RunPlan, **_: object) -> list[CellResult]:
        return [
            cell_result(cell.id, "unavailable", reason="image: no Docker") for cell in plan.cells
        ]

    monkeypatch.setattr(run_module, "run_cells", run_cells)
    arguments = ["matrix", "--tag", "mysql", "--no-fetch", "--no-report"]
    assert main([*arguments, "--results", str(tmp_path)]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [
        "error: no cell ran: all 3 selected cells were unavailable (mysql-8.0: image: no Docker)"
    ]


def recorded_runs(monkeypatch: pytest.MonkeyPatch) -> list[RunPlan]:
    """The plan of every call of run_cells; nothing runs."""
    calls: list[RunPlan] = []

    def run_cells(plan: RunPlan, **_: object) -> list[CellResult]:
        calls.append(plan)
        return [cell_result(cell.id, "passed") for cell in plan.cells]

    monkeypatch.setattr(run_module, "run_cells", run_cells)
    return calls


def recorded_fetches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every fetch the run asks for (the version ids); nothing is fetched."""
    fetches: list[list[str]] = []
    monkeypatch.setattr(
        run_module, "fetch_for", lambda cells, *_: fetches.append(_version_ids(cells))
    )
    return fetches


def _version_ids(cells: list[Cell]) -> list[str]:
    return list(dict.fromkeys(spec.id for cell in cells for spec in cell.specs))


def test_matrix_is_accepted_after_the_subcommand_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = tmp_path / "small.toml"
    small.write_text(
        "[database.sqlite.stdlib]\nlibrary = { module = 'sqlite3' }\n"
        "[cache.redis.'7.0']\nimage = 'redis:7.0'\n"
    )
    calls = recorded_runs(monkeypatch)
    results = ["--results", str(tmp_path / "r"), "--no-fetch"]
    assert main(["matrix", "--matrix", str(small), *results, "--no-report"]) == 0
    assert main(["cell", "sqlite-stdlib", "--matrix", str(small), *results]) == 0
    assert [[cell.id for cell in call.cells] for call in calls] == [["sqlite-stdlib"]] * 2
    assert main(["list", "--matrix", str(tmp_path / "missing.toml")]) == 2


def test_arguments_after_a_double_dash_go_to_the_suites_pytest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = recorded_runs(monkeypatch)
    recorded_fetches(monkeypatch)
    assert main(["cell", "postgres-16", "--results", str(tmp_path), "--", "-k", "auth", "-x"]) == 0
    assert [cell.id for cell in calls[0].cells] == ["postgres-16"]
    assert calls[0].pytest_args == ("-k", "auth", "-x")
    assert (
        main(["matrix", "--tag", "quick", "--no-report", "--results", str(tmp_path), "--", "--lf"])
        == 0
    )
    assert calls[1].pytest_args == ("--lf",)


@pytest.mark.parametrize(
    ("posargs", "expected"),
    [
        ([], ["cell", "postgres-16"]),
        (["--no-fetch"], ["cell", "postgres-16", "--no-fetch"]),
        (
            ["--source", "binaries", "-k", "auth", "-x"],
            ["cell", "postgres-16", "--source", "binaries", "--", "-k", "auth", "-x"],
        ),
        (["--timeout=60", "redis-6.2"], ["cell", "postgres-16", "--timeout=60", "--", "redis-6.2"]),
        (["--", "--no-fetch"], ["cell", "postgres-16", "--", "--no-fetch"]),
    ],
)
def test_a_cell_sessions_extra_arguments_are_options_or_pytests_never_more_cells(
    posargs: list[str], expected: list[str]
) -> None:
    assert session_arguments("cell", posargs, cell="postgres-16") == expected


def test_the_matrix_sessions_extra_arguments_split_the_same_way() -> None:
    assert session_arguments("matrix", ["--matrix", "x.toml", "--tag", "quick", "--lf"]) == [
        "matrix",
        "--matrix",
        "x.toml",
        "--tag",
        "quick",
        "--",
        "--lf",
    ]


def test_running_cells_fetches_every_server_they_need_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded_runs(monkeypatch)
    fetches = recorded_fetches(monkeypatch)
    assert main(["cell", "postgres-16", "postgres-16+valkey-8", "--results", str(tmp_path)]) == 0
    assert fetches == [["postgres-16", "redis-7.0", "valkey-8"]]
    assert main(["cell", "postgres-16", "--no-fetch", "--results", str(tmp_path)]) == 0
    assert len(fetches) == 1


def test_a_listing_read_by_a_closed_pipe_ends_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already exited
    try:
        done = subprocess.run(
            [sys.executable, "-m", "scripts", "list", "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=MATRIX_FILE.parent,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr.decode() == ""
    assert done.returncode in (0, 1, 141)


def test_an_interrupted_matrix_renders_the_report_with_the_interrupted_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results, reports = tmp_path / "results", tmp_path / "reports"
    reason = "interrupted while running the suite; still running: tests/x.py::test_y"

    def run_cells(plan: RunPlan, **_: object) -> list[CellResult]:
        done = [
            cell_result("sqlite-stdlib", "passed"),
            cell_result("postgres-13", "error", reason=reason),
        ]
        for result in done:
            write_result(result, results / result.cell)
        raise RunInterruptedError(done)

    monkeypatch.setattr(run_module, "run_cells", run_cells)
    arguments = ["matrix", "--no-fetch", "--results", str(results), "--reports", str(reports)]
    assert main(arguments) == 130
    document = json.loads((reports / "compat.json").read_text())
    states = {cell["cell"]: (cell["state"], cell["reason"]) for cell in document["cells"]}
    assert states == {"sqlite-stdlib": ("passed", None), "postgres-13": ("error", reason)}
    assert "interrupted" in (reports / "COMPATIBILITY.md").read_text()
    assert "interrupted: servers stopped" in capsys.readouterr().out


def test_only_the_first_signal_interrupts_so_the_clean_stop_is_not_cut_short(
    capsys: pytest.CaptureFixture[str],
) -> None:
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        cli._stop_cleanly_on_signals()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGTERM)  # nox's follow-up: ignored, and said so
        assert "stopping already" in capsys.readouterr().err
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def test_a_forced_image_or_url_source_fetches_only_what_it_does_not_replace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scripts import fetch
    from scripts.fetch import FetchOutcome

    asked: list[str] = []

    def fetch_missing(specs: list[VersionSpec], **_: object) -> list[FetchOutcome]:
        asked.extend(spec.id for spec in specs)
        return [FetchOutcome(spec.id, "present", "here") for spec in specs]

    monkeypatch.setattr(fetch, "fetch_missing", fetch_missing)
    matrix = load_matrix(MATRIX_FILE)
    cells = [matrix.cell("postgres-16"), matrix.cell("sqlite-pysqlite3")]
    run_module.fetch_for(cells, "image", note=lambda line: None)
    assert asked == ["sqlite-pysqlite3"]  # a library, whatever the source
    asked.clear()
    run_module.fetch_for(cells, "binaries", note=lambda line: None)
    assert asked == ["postgres-16", "redis-7.0", "sqlite-pysqlite3"]
