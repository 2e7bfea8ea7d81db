"""Live progress of a run: which cells are starting, their servers, tests run so far, elapsed.

On a terminal, a `rich` table of the running cells redrawn in place, with finished cells and
fetches printed above it. Elsewhere (CI logs, a pipe), plain timestamped lines: each stage of
each cell as it happens and, every `PLAIN_EVERY_S`, one line per running cell.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from scripts.progress_log import read_progress

PLAIN_EVERY_S = 30.0
"""How often a plain log gets a line per running cell (stages are printed when they happen)."""


@dataclass
class _Running:
    cell: str
    progress_file: Path
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting"

    def tests(self) -> str:
        """`12/118 tests, running tests/x.py::test_y` (or nothing before the suite starts)."""
        progress = read_progress(self.progress_file)
        if progress.collected is None and not progress.finished:
            return ""
        total = f"/{progress.collected}" if progress.collected is not None else ""
        running = f", running {progress.running[-1]}" if progress.running else ""
        return f"{len(progress.finished)}{total} tests{running}"

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.0f} s"


class Display(Protocol):
    def stage(self, cell: str, text: str) -> None: ...
    def finished(self, cell: str, line: str) -> None: ...
    def note(self, line: str) -> None: ...
    def tick(self) -> None: ...


class _Cells:
    """The running cells (`stage` and `finished` may come from the cells' threads)."""

    def __init__(self, results_dir: Path) -> None:
        self.results_dir = results_dir
        self.lock = threading.Lock()
        self.running: dict[str, _Running] = {}

    def stage(self, cell: str, text: str) -> _Running:
        with self.lock:
            entry = self.running.setdefault(
                cell, _Running(cell, self.results_dir / cell / "progress.jsonl")
            )
            entry.stage = text
            return entry

    def done(self, cell: str) -> None:
        with self.lock:
            self.running.pop(cell, None)

    def snapshot(self) -> list[_Running]:
        with self.lock:
            return list(self.running.values())


class PlainDisplay:
    """Timestamped lines for logs."""

    def __init__(self, results_dir: Path, output: IO[str], every_s: float = PLAIN_EVERY_S) -> None:
        self.cells = _Cells(results_dir)
        self.output = output
        self.every_s = every_s
        self.last_report = time.monotonic()
        self.lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self.lock:
            self.output.write(f"[{datetime.now().strftime('%H:%M:%S')}] {text}\n")
            self.output.flush()

    def stage(self, cell: str, text: str) -> None:
        entry = self.cells.stage(cell, text)
        self._line(f"{cell}: {text} ({entry.elapsed()})")

    def finished(self, cell: str, line: str) -> None:
        self.cells.done(cell)
        self._line(line)

    def note(self, line: str) -> None:
        self._line(line)

    def tick(self) -> None:
        if time.monotonic() - self.last_report < self.every_s:
            return
        self.last_report = time.monotonic()
        for entry in self.cells.snapshot():
            tests = entry.tests()
            self._line(f"{entry.cell}: {entry.stage}, {tests or 'no test yet'}, {entry.elapsed()}")


class RichDisplay:
    """A table of the running cells, redrawn in place on a terminal."""

    def __init__(self, results_dir: Path, output: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.cells = _Cells(results_dir)
        self.console = Console(file=output)
        self.live = Live(console=self.console, auto_refresh=False, transient=True)

    def stage(self, cell: str, text: str) -> None:
        self.cells.stage(cell, text)

    def finished(self, cell: str, line: str) -> None:
        self.cells.done(cell)
        self.console.print(line, markup=False, highlight=False)

    def note(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False)

    def tick(self) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis", max_width=24)
        table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        table.add_column(no_wrap=True, justify="right", min_width=6)
        for entry in self.cells.snapshot():
            table.add_row(
                Text(entry.cell, style="bold"),
                Text(entry.stage.rsplit("; ", 1)[-1]),  # "servers up: …; running the suite"
                Text(entry.tests()),
                Text(entry.elapsed(), style="dim"),
            )
        self.live.update(table, refresh=True)


@contextmanager
def live_display(results_dir: Path, output: IO[str] | None = None) -> Iterator[Display]:
    """A rich display on a terminal, plain lines otherwise."""
    stream = output or sys.stdout
    if not stream.isatty():
        yield PlainDisplay(results_dir, stream)
        return
    display = RichDisplay(results_dir, stream)
    with display.live:
        yield display
