"""Live progress: plain timestamped lines in logs, a redrawn table on a terminal, downloads."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from scripts.live import PlainDisplay, RichDisplay, live_display
from scripts.sources import fetched


def write_progress(folder: Path, *events: dict[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(event) for event in events]
    (folder / "progress.jsonl").write_text("\n".join(lines) + '\n{"event": "fin')  # half a line


def test_a_plain_log_gets_each_stage_and_the_tests_run_so_far(tmp_path: Path) -> None:
    output = io.StringIO()
    display = PlainDisplay(tmp_path, output, every_s=0)
    display.stage("postgres-16", "starting servers")
    write_progress(
        tmp_path / "postgres-16",
        {"event": "collected", "count": 10},
        *(
            event
            for n in range(3)
            for event in (
                {"event": "start", "id": f"tests/t.py::test_{n}"},
                {"event": "finish", "id": f"tests/t.py::test_{n}", "outcome": "passed"},
            )
        ),
        {"event": "start", "id": "tests/t.py::test_slow"},
    )
    display.stage("postgres-16", "servers up: postgres 16.14 (binaries) in 0.4 s")
    display.tick()
    display.finished("postgres-16", "[     passed] postgres-16")
    display.tick()  # a finished cell is no longer reported
    lines = output.getvalue().splitlines()
    stamp = r"\[\d\d:\d\d:\d\d\] "
    assert [re.sub(stamp, "", line) for line in lines] == [
        "postgres-16: starting servers (0 s)",
        "postgres-16: servers up: postgres 16.14 (binaries) in 0.4 s (0 s)",
        "postgres-16: servers up: postgres 16.14 (binaries) in 0.4 s,"
        " 3/10 tests, running tests/t.py::test_slow, 0 s",
        "[     passed] postgres-16",
    ]
    assert all(re.match(stamp, line) for line in lines)


def test_a_terminal_gets_the_rich_table_and_a_pipe_the_plain_lines(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    with live_display(tmp_path, io.StringIO()) as plain:
        assert isinstance(plain, PlainDisplay)
    terminal = Terminal()
    with live_display(tmp_path, terminal) as rich:
        assert isinstance(rich, RichDisplay)
        rich.stage("redis-6.2", "starting servers")
        rich.tick()
        rich.finished("redis-6.2", "[     passed] redis-6.2")
    assert "[     passed] redis-6.2" in terminal.getvalue()


def test_a_download_reports_its_size_and_time_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetched, "PROGRESS_EVERY_S", 0.1)
    heard: list[str] = []
    writer = (
        "import pathlib, sys, time;"
        "pathlib.Path(sys.argv[1]).write_bytes(b'x' * 2_000_000); time.sleep(1)"
    )
    with fetched.reporting_progress_to(heard.append):
        fetched.run_tool(
            [sys.executable, "-c", writer, str(tmp_path / "part")],
            what="npm pack something",
            watch=tmp_path,
        )
    assert heard
    assert re.fullmatch(r"npm pack something: 2\.0 MB, \d+ s", heard[-1])
