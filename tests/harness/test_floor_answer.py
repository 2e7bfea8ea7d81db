"""The answers kept in floors.json (scripts.floor.answer) and the report's line for each."""

from __future__ import annotations

from pathlib import Path

from scripts.floor.answer import (
    FLOORS_FILE,
    FloorAnswer,
    ProbeRecord,
    answers_in,
    read_answers,
    record_answer,
)

PROBES = [
    ProbeRecord("2.1.9", True, None, 40.0),
    ProbeRecord("2.0.30", False, "failed: 1 test failed: test_x", 12.5),
    ProbeRecord("2.0.31", True, None, 41.0),
]


def answer(
    kind: str = "floor", cell: str = "sqlite-stdlib", found: str | None = "2.0.31"
) -> FloorAnswer:
    return FloorAnswer(
        library="sqlalchemy",
        kind=kind,
        cell=cell,
        range=">=2.0.0,<2.2",
        answer=found,
        problem=None if found else "the newest release searched, 2.1.9, fails",
        releases=70,
        probes=PROBES,
        at="2026-12-01T10:00:00+00:00",
    )


def test_a_floor_reads_as_the_release_required() -> None:
    assert answer().line() == (
        "SQLAlchemy ≥ 2.0.31 required (floor on sqlite-stdlib, 3 probes, 2026-12-01)"
    )


def test_a_ceiling_reads_as_the_newest_release_on_its_cell() -> None:
    kombu = FloorAnswer("kombu", "ceiling", "redis-6.0", ">=5.6,<5.8", "5.6.2", None, 4, PROBES[:1])
    assert kombu.line() == "kombu ≤ 5.6.2 on redis-6.0 (ceiling, 1 probe)"


def test_no_answer_reads_as_why() -> None:
    assert answer(found=None).line() == (
        "SQLAlchemy: no floor found on sqlite-stdlib (3 probes, 2026-12-01): the newest release"
        " searched, 2.1.9, fails"
    )


def test_warnings_follow_the_answer() -> None:
    warned = FloorAnswer(**{**answer().__dict__, "warnings": ["2.0.0 passes though 2.0.30 fails"]})
    assert warned.line().endswith("2026-12-01); 2.0.0 passes though 2.0.30 fails")


def test_an_answer_replaces_the_earlier_one_of_its_library_kind_and_cell(tmp_path: Path) -> None:
    record_answer(tmp_path, answer(found="2.0.20"))
    record_answer(tmp_path, answer(kind="ceiling", cell="redis-6.0", found="2.1.0"))
    record_answer(tmp_path, answer(found="2.0.31"))
    kept = read_answers(tmp_path / FLOORS_FILE)
    assert [(a.kind, a.answer) for a in kept] == [("ceiling", "2.1.0"), ("floor", "2.0.31")]
    assert kept[1] == answer()  # every field, the probes too, read back as written


def test_an_unreadable_floors_file_holds_no_answers(tmp_path: Path) -> None:
    (tmp_path / FLOORS_FILE).write_text("{not json", encoding="utf-8")
    assert read_answers(tmp_path / FLOORS_FILE) == []
    record_answer(tmp_path, answer())  # and the next search replaces it
    assert read_answers(tmp_path / FLOORS_FILE) == [answer()]


def test_answers_in_several_folders_keep_the_last_folder_s(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    record_answer(first, answer(found="2.0.20"))
    record_answer(second, answer(found="2.0.31"))
    assert [a.answer for a in answers_in([first, second, tmp_path / "none"])] == ["2.0.31"]
