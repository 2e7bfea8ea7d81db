"""Choosing cells, sharing the cores between cells and workers, and the run's exit status."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from scripts import schedule
from scripts.layout import Layout
from scripts.matrix import Cell, load_matrix
from scripts.plan import RunPlan
from scripts.results import Axis, CellResult, ServerInfo, Timings, read_result
from scripts.schedule import (
    RunInterruptedError,
    exit_status,
    known_failure_notes,
    no_cell_ran,
    run_cells,
    select_cells,
    summary_table,
)

MATRIX = """
[matrix]
quick = ["postgres-16"]
[database.sqlite.stdlib]
library = { module = "sqlite3" }
[database.postgres.15]
image = "postgres:15"
[database.postgres.16]
image = "postgres:16"
[cache.redis."7.0"]
image = "redis:7.0"
"""


def result(cell: str, state: str) -> CellResult:
    return CellResult(
        cell=cell,
        axes={"database": Axis("postgres", "16"), "cache": Axis("redis", "7.0")},
        state=state,  # type: ignore[arg-type]
        reason=None if state == "passed" else f"{cell} was {state}",
        servers=[ServerInfo("database", "postgres", "16", "16.14", "binaries", "/pg/bin/postgres")],
        counts={"passed": 3},
        tests=[],
        timings=Timings(0.2, 3.0, 0.1, 3.3),
        started_at="2026-11-25T00:00:00+00:00",
        finished_at="2026-11-25T00:00:04+00:00",
    )


def test_select_cells_by_tag_and_id(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX)
    matrix = load_matrix(path)
    assert [c.id for c in select_cells(matrix, tags=["quick"])] == ["postgres-16"]
    assert [c.id for c in select_cells(matrix, tags=["postgres"])] == ["postgres-15", "postgres-16"]
    assert [c.id for c in select_cells(matrix, cell_ids=["postgres-15"])] == ["postgres-15"]
    assert len(select_cells(matrix)) == 3
    with pytest.raises(ValueError, match="no cell has the tag"):
        select_cells(matrix, tags=["oracle"])


def test_failed_and_errored_cells_fail_the_run_unavailable_only_when_strict() -> None:
    assert exit_status([result("a", "passed"), result("b", "flaky")], strict=True) == 0
    assert exit_status([result("a", "passed"), result("b", "failed")], strict=False) == 1
    assert exit_status([result("a", "error")], strict=False) == 1
    assert exit_status([result("a", "passed"), result("b", "unavailable")], strict=False) == 0
    assert exit_status([result("a", "unavailable")], strict=True) == 1


def test_a_known_failure_fails_the_run_only_when_it_errors_or_with_strict() -> None:
    known = {"b": "the broker needs a newer server"}
    failed = [result("a", "passed"), result("b", "failed")]
    assert exit_status(failed, strict=False, known_failures=known) == 0
    assert exit_status(failed, strict=True, known_failures=known) == 1
    assert exit_status([result("b", "error")], strict=False, known_failures=known) == 1
    assert exit_status([result("c", "failed")], strict=False, known_failures=known) == 1


def test_known_failure_notes_say_which_still_fail_and_which_now_pass() -> None:
    known = {"b": "the broker needs a newer server", "c": "old", "d": "not run"}
    notes = known_failure_notes(
        [result("b", "failed"), result("c", "passed"), result("d", "unavailable")], known
    )
    assert notes == [
        "known failure: b failed as expected (the broker needs a newer server)",
        "known failure now passes: c (remove it from matrix.known-failures)",
    ]


def test_a_run_in_which_no_cell_ran_fails_saying_why() -> None:
    unavailable = [result("mysql-8.0", "unavailable"), result("mysql-8.4", "unavailable")]
    assert exit_status(unavailable, strict=False) == 1
    assert no_cell_ran(unavailable) == (
        "no cell ran: all 2 selected cells were unavailable (mysql-8.0: mysql-8.0 was unavailable)"
    )
    assert no_cell_ran([result("a", "passed"), *unavailable]) is None


def test_summary_table_lists_every_cell_and_why_the_others_did_not_pass() -> None:
    table = summary_table([result("postgres-16", "passed"), result("mysql-8.0", "unavailable")])
    assert "postgres-16" in table
    assert "16.14 (binaries)" in table
    assert "mysql-8.0: mysql-8.0 was unavailable" in table


def test_an_interrupted_run_marks_the_running_and_waiting_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX)
    cells = load_matrix(path).cells()

    def fake_run_cell(cell: Cell, plan: RunPlan, **options: Any) -> CellResult:
        if cell.id == cells[1].id:  # running at Ctrl-C (or not yet started): stops when told
            options["cancel"].wait(10)
            time.sleep(0.3)
            return result(cell.id, "error")
        return result(cell.id, "passed")

    def interrupt(finished: CellResult) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(schedule, "run_cell", fake_run_cell)
    with pytest.raises(RunInterruptedError) as stopped:
        run_cells(RunPlan(tuple(cells), tmp_path, timeout=9), on_result=interrupt)
    states = {found.cell: (found.state, found.reason) for found in stopped.value.results}
    assert list(states) == ["sqlite-stdlib", "postgres-15", "postgres-16"]
    assert states["sqlite-stdlib"] == ("passed", None)
    assert states["postgres-15"][0] == "error"
    never_started = ("error", "interrupted: the run was stopped before this cell started")
    assert states["postgres-16"] == never_started
    assert read_result(tmp_path / "postgres-16").reason == never_started[1]


def test_cells_share_the_slots_by_their_workers_never_more_than_the_layout_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX)
    cells = load_matrix(path).cells()  # sqlite-stdlib, postgres-15, postgres-16
    layout = Layout(slots=2, workers={"sqlite-stdlib": 1, "postgres-15": 2, "postgres-16": 1})
    lock = threading.Lock()
    running: dict[str, int] = {}
    seen_together: list[frozenset[str]] = []
    given: dict[str, int] = {}
    both_single_cells_ran = threading.Event()

    def fake_run_cell(cell: Cell, plan: RunPlan, **options: Any) -> CellResult:
        with lock:
            workers = plan.chosen_layout().workers_for(cell.id)
            running[cell.id] = max(1, workers)
            given[cell.id] = workers
            assert sum(running.values()) <= layout.slots
            seen_together.append(frozenset(running))
            if set(running) == {"sqlite-stdlib", "postgres-16"}:
                both_single_cells_ran.set()
        if cell.id != "postgres-15":  # a one-process cell waits to see the other one start
            both_single_cells_ran.wait(5)
        with lock:
            del running[cell.id]
        return result(cell.id, "passed")

    monkeypatch.setattr(schedule, "run_cell", fake_run_cell)
    results = run_cells(RunPlan(tuple(cells), tmp_path, timeout=9, layout=layout))
    assert [found.cell for found in results] == [cell.id for cell in cells]
    assert given == {"sqlite-stdlib": 1, "postgres-15": 2, "postgres-16": 1}
    assert both_single_cells_ran.is_set()  # side by side, once the two-worker cell was done
    assert all(len(together) == 1 for together in seen_together if "postgres-15" in together)


def test_a_cell_waiting_for_several_slots_is_not_starved_by_one_process_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(
        MATRIX
        + '[database.postgres.17]\nimage = "postgres:17"\n'
        + '[database.postgres.18]\nimage = "postgres:18"\n'
    )
    cells = load_matrix(path).cells()
    two = {"postgres-15", "postgres-17"}
    layout = Layout(slots=2, workers={c.id: 2 if c.id in two else 1 for c in cells})
    started: list[str] = []
    lock = threading.Lock()

    def fake_run_cell(cell: Cell, plan: RunPlan, **options: Any) -> CellResult:
        with lock:
            started.append(cell.id)
        time.sleep(0.2)  # long enough for the other cells to queue for their slots
        return result(cell.id, "passed")

    monkeypatch.setattr(schedule, "run_cell", fake_run_cell)
    run_cells(RunPlan(tuple(cells), tmp_path, timeout=9, layout=layout))
    # both two-worker cells run before the one-process cells take their slots one by one
    assert set(started[:2]) == two
