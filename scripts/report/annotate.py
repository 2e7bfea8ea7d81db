"""GitHub annotations for one cell: each failing test on its file and line, with its first lines.

    python -m scripts annotate results/<cell-id> [--root .]

Prints GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`): one error
per failing or erroring test, one warning per flaky test, one error for a cell that could not
run. GitHub shows at most 10 errors and 10 warnings per step, so beyond that one notice says
how many more there are. The file and line are pytest's own (the result records where the
test is defined and where in that file it failed). Standard library only, and so must be all
it imports (`scripts.results`, `scripts.progress_log`): it runs before, or without, the
project's virtualenv. Always exits 0: the cell's own step has already failed.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.report.symbols import first_lines
from scripts.results import CellResult, TestOutcome, read_result

MAX_PER_LEVEL = 10  # GitHub keeps 10 error and 10 warning annotations per step
MESSAGE_LINES = 8


@dataclass(frozen=True)
class Annotation:
    level: str  # error | warning | notice
    title: str
    message: str
    file: str | None = None
    line: int | None = None

    def command(self) -> str:
        properties = [f"title={_property(self.title)}"]
        if self.file:
            properties.insert(0, f"file={_property(self.file)}")
            if self.line:
                properties.insert(1, f"line={self.line}")
        return f"::{self.level} {','.join(properties)}::{_data(self.message)}"


def cell_annotations(result: CellResult, root: Path) -> list[Annotation]:
    found: list[Annotation] = []
    if result.state in ("error", "unavailable"):
        level = "error" if result.state == "error" else "warning"
        found.append(
            Annotation(
                level,
                f"cell {result.cell}: {result.state}",
                result.reason or "no reason recorded",
            )
        )
    by_level: dict[str, list[TestOutcome]] = {"error": [], "warning": []}
    for test in result.tests:
        if test.outcome in ("failed", "error"):
            by_level["error"].append(test)
        elif test.outcome == "flaky":
            by_level["warning"].append(test)
    for level, tests in by_level.items():
        room = MAX_PER_LEVEL - sum(1 for a in found if a.level == level)
        for test in tests[:room]:
            found.append(_test_annotation(result.cell, test, level, root))
        more = len(tests) - max(room, 0)
        if more > 0:
            kind = "failing" if level == "error" else "flaky"
            found.append(
                Annotation(
                    "notice",
                    f"cell {result.cell}: {more} more {kind} tests",
                    f"{more} more {kind} tests than GitHub shows annotations for;"
                    " see the cell's result.json or the report",
                )
            )
    return found


def _test_annotation(cell: str, test: TestOutcome, level: str, root: Path) -> Annotation:
    what = "flaky (failed, then passed on the rerun)" if test.outcome == "flaky" else test.outcome
    return Annotation(
        level,
        f"{cell}: {test.id} {what}",
        first_lines(test.message, lines=MESSAGE_LINES) or f"{test.outcome}, no message",
        file=test.file or test.group,
        line=failing_line(test, root),
    )


def failing_line(test: TestOutcome, root: Path) -> int | None:
    """The failing line: where the failure was in the test's own file, else the test's
    definition; for a result from before lines were recorded, its `def` in its module."""
    if test.failed_line is not None or test.line is not None:
        return test.failed_line or test.line
    name = test.id.rsplit("::", 1)[-1].split("[", 1)[0]
    try:
        source = (root / test.group).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    wanted = re.compile(rf"^\s*(async\s+)?def\s+{re.escape(name)}\s*\(")
    return next((n for n, text in enumerate(source, start=1) if wanted.match(text)), None)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def print_annotations(cell_folder: Path, root: Path) -> int:
    """`python -m scripts annotate`: print the cell's annotations; always 0."""
    for annotation in cell_annotations(read_result(cell_folder), root):
        print(annotation.command())
    return 0


if __name__ == "__main__":
    from scripts.command_line import old_spelling

    old_spelling("annotate", sys.argv[1:])
