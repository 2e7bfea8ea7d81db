"""The report's verdict shows what `python -m scripts floor` found (scripts/report/floors.py)."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.floor.answer import FloorAnswer, ProbeRecord, record_answer
from scripts.paths import MATRIX_FILE
from scripts.report.build import write_report
from scripts.results import write_result
from tests.harness.result_factories import cell_result

FLOOR = FloorAnswer(
    library="sqlalchemy",
    kind="floor",
    cell="sqlite-stdlib",
    range=">=2.0.0,<2.2",
    answer="2.0.31",
    problem=None,
    releases=70,
    probes=[ProbeRecord("2.1.9", True, None, 40.0), ProbeRecord("2.0.30", False, "failed", 9.0)],
    at="2026-12-01T10:00:00+00:00",
)
LINE = "SQLAlchemy ≥ 2.0.31 required (floor on sqlite-stdlib, 2 probes, 2026-12-01)"


def test_a_found_floor_is_a_line_of_the_verdict_in_every_format(tmp_path: Path) -> None:
    results = tmp_path / "results"
    write_result(cell_result("sqlite-stdlib", "passed"), results / "sqlite-stdlib")
    record_answer(results, FLOOR)
    written = write_report([results], tmp_path / "reports", matrix_file=MATRIX_FILE, previous=None)
    markdown = written.markdown.read_text(encoding="utf-8")
    verdict = markdown.split("## Verdict", 1)[1].split("\n\n", 2)[1]
    assert f"- {LINE}" in verdict.splitlines()
    html = written.html.read_text(encoding="utf-8")
    assert f'<li class="floor">{LINE}</li></ul></section>' in html
    assert json.loads(written.json.read_text(encoding="utf-8"))["floors"] == [LINE]


def test_without_floors_json_the_verdict_has_no_floor_line(tmp_path: Path) -> None:
    results = tmp_path / "results"
    write_result(cell_result("sqlite-stdlib", "passed"), results / "sqlite-stdlib")
    written = write_report([results], tmp_path / "reports", matrix_file=MATRIX_FILE, previous=None)
    assert "required (floor" not in written.markdown.read_text(encoding="utf-8")
    assert json.loads(written.json.read_text(encoding="utf-8"))["floors"] == []
