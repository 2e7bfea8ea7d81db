"""Twenty nights rendered in order (regression on night 12, one flaky test): the strips, the
first failing night with its cause, the flaky rate and the "since" dates, in COMPATIBILITY.md,
in compat.json, and in compat.html as headless Chromium draws it."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from scripts.report.history import History, history_bytes, parse_history, record_run
from scripts.report.model import Night, RunInfo
from scripts.report.trends import first_failures, flaky_tests
from scripts.results import NOT_STARTED, WHILE_RUNNING, CellResult, interrupted
from tests.harness.chromium import chromium
from tests.harness.history_scenario import (
    FLAKY_TEST,
    NIGHTS,
    REGRESSED_TEST,
    REGRESSION_NIGHT,
    Nights,
    commit_of,
    night_date,
    render_nights,
)
from tests.harness.result_factories import cell_result

REGRESSION_DATE = night_date(REGRESSION_NIGHT)
CAUSE = f"commit {commit_of(REGRESSION_NIGHT - 1)[:12]} → {commit_of(REGRESSION_NIGHT)[:12]}"
SERVER_CAUSE = "database 16.3 → 16.4"
SQLITE_STRIP = "✅✅⚠️✅✅❌✅⚠️✅✅✅✅✅✅✅✅⚠️✅✅✅"


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Nights:
    return render_nights(tmp_path_factory.mktemp("nights"))


def _markdown(nights: Nights) -> str:
    return (nights.out / "COMPATIBILITY.md").read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", text, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def test_markdown_shows_each_cells_strip_oldest_first(nights: Nights) -> None:
    rows = {
        cols[0].strip("`"): cols[1:]
        for line in _section(_markdown(nights), "History").splitlines()
        if line.startswith("| `")
        for cols in [[c.strip() for c in line.strip("|").split(" | ")]]
    }
    assert rows == {
        "postgres-15": ["✅" * NIGHTS, "✅ passed since 2026-11-01"],
        "postgres-16": [
            "✅" * (REGRESSION_NIGHT - 1) + "❌" * (NIGHTS - REGRESSION_NIGHT + 1),
            f"❌ failed since {REGRESSION_DATE}",
        ],
        "sqlite-stdlib": [SQLITE_STRIP, "✅ passed since 2026-11-18"],
    }


def test_markdown_names_the_first_failing_night_and_its_cause(nights: Nights) -> None:
    section = _section(_markdown(nights), "Failing since")
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    commit = commit_of(REGRESSION_NIGHT)[:12]
    assert lines == [
        f"- cell `postgres-16` failed since **{REGRESSION_DATE}** (run 12, commit `{commit}`):"
        f" {CAUSE}; {SERVER_CAUSE}",
        f"- `postgres-16` · `{REGRESSED_TEST}` failed since **{REGRESSION_DATE}** (run 12,"
        f" commit `{commit}`): {CAUSE}; {SERVER_CAUSE}",
    ]


def test_markdown_gives_the_flaky_rate(nights: Nights) -> None:
    rows = [
        line for line in _section(_markdown(nights), "Flaky tests").splitlines() if "| `" in line
    ]
    # flaky on nights 3, 8 and 17, and failed on night 6 between two passing nights
    assert rows == [f"| `{FLAKY_TEST}` | 4 of 20 | 20% | `sqlite-stdlib` |"]


def test_the_verdict_says_since_when(nights: Nights) -> None:
    verdict = _section(_markdown(nights), "Verdict")
    assert (
        "- **PostgreSQL** 15 ✅ passed since 2026-11-01; 16 ❌ failed since 2026-11-12" in verdict
    )
    assert "- **SQLite** stdlib ✅ passed since 2026-11-18" in verdict
    assert "- **Redis** 7.0 ✅ passed since 2026-11-18" in verdict  # through the default cell


def test_compat_json_carries_the_findings(nights: Nights) -> None:
    document: dict[str, Any] = json.loads((nights.out / "compat.json").read_text())
    history = document["history"]
    assert len(history["nights"]) == NIGHTS
    assert history["strips"]["postgres-16"][REGRESSION_NIGHT - 2 : REGRESSION_NIGHT] == [
        "passed",
        "failed",
    ]
    (cell, test) = history["first_failures"]
    assert (cell["cell"], cell["test"], cell["night"]["at"][:10]) == (
        "postgres-16",
        None,
        REGRESSION_DATE,
    )
    assert test["test"] == REGRESSED_TEST
    assert cell["cause"] == f"{CAUSE}; {SERVER_CAUSE}"
    assert [(f["test"], f["flaky_nights"], f["rate"]) for f in history["flaky"]] == [
        (FLAKY_TEST, 4, 0.2)
    ]
    postgres = next(v for v in document["verdict"] if v["backend"] == "postgres")
    assert [(v["version"], v["since"]) for v in postgres["versions"]] == [
        ("15", "2026-11-01"),
        ("16", REGRESSION_DATE),
    ]


class _Page(HTMLParser):
    """What headless Chromium's DOM holds: strips as drawn, failures, flaky rows, verdict."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str | None] = {}
        self.strips: dict[str, list[tuple[str, str]]] = {}
        self.first_failures: list[dict[str, str | None]] = []
        self.flaky: list[dict[str, str | None]] = []
        self._row: str | None = None
        self._in_strip = False
        self._capture: list[str] | None = None
        self.texts: dict[str, list[str]] = {"li": [], "verdict": []}
        self._in_verdict = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "body":
            self.body = found
        if tag == "section":
            self._in_verdict = found.get("id") == "verdict"
        if tag == "tr" and found.get("data-cell"):
            self._row = found["data-cell"]
        if tag == "td":
            self._in_strip = "strip" in (found.get("class") or "")
        if tag == "i" and self._in_strip and self._row:
            entry = (found.get("class") or "", found.get("title") or "")
            self.strips.setdefault(self._row, []).append(entry)
        if tag == "li" and found.get("data-night"):
            self.first_failures.append(found)
            self._capture = []
        elif tag == "li" and self._in_verdict:
            self._capture = []
        if tag == "tr" and found.get("data-rate"):
            self.flaky.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_strip = False
        if tag == "li" and self._capture is not None:
            self.texts["verdict" if self._in_verdict else "li"].append("".join(self._capture))
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture.append(data)


def test_the_page_draws_the_strips_and_shows_the_findings_in_chromium(
    nights: Nights, tmp_path: Path
) -> None:
    dom = chromium(nights.out / "compat.html", tmp_path / "profile", "--dump-dom").stdout
    page = _Page()
    page.feed(dom)
    assert page.body.get("data-history") == "ready", "the history script did not finish"
    regression = page.strips["postgres-16"]
    assert [css for css, _ in regression] == ["h-p"] * (REGRESSION_NIGHT - 1) + ["h-f"] * (
        NIGHTS - REGRESSION_NIGHT + 1
    )
    assert regression[REGRESSION_NIGHT - 1][1] == f"{REGRESSION_DATE} · 12c0ffe: failed"
    sqlite = [css for css, _ in page.strips["sqlite-stdlib"]]
    assert [i + 1 for i, css in enumerate(sqlite) if css != "h-p"] == [3, 6, 8, 17]
    assert [f.get("data-night") for f in page.first_failures] == [REGRESSION_DATE] * 2
    assert all(f"{CAUSE}; {SERVER_CAUSE}" in text for text in page.texts["li"])
    assert [(f.get("data-test"), f.get("data-rate")) for f in page.flaky] == [
        (FLAKY_TEST, "0.2000")
    ]
    assert (
        "PostgreSQL 15 passed since 2026-11-01; 16 failed since 2026-11-12" in page.texts["verdict"]
    )


def test_a_screenshot_shows_the_strips(nights: Nights, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    chromium(
        nights.out / "compat.html",
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1200,900",
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


# ------------------------------------------------------------------ the rules, night by night


INTERRUPTED_WHILE_RUNNING = "interrupted while it ran"
NEVER_STARTED = "interrupted before it started"


def _cell_of_night(cell: str, outcome: str) -> CellResult:
    """One cell's result: its one test's outcome, or cut short by the run's interruption."""
    if outcome == NEVER_STARTED:
        return interrupted(cell_result(cell, "error", reason="interrupted"), NOT_STARTED)
    if outcome == INTERRUPTED_WHILE_RUNNING:
        cut = cell_result(cell, "error", {"t.py::test_x": "error"}, reason="interrupted")
        return interrupted(cut, WHILE_RUNNING)
    state = {"passed": "passed", "flaky": "flaky"}.get(outcome, "failed")
    return cell_result(cell, state, {"t.py::test_x": outcome})  # type: ignore[dict-item]


def _history_of(*nights: dict[str, str]) -> History:
    """A history of `nights`, each a mapping cell → one test's outcome (absent: not run)."""
    history = History()
    for number, outcomes in enumerate(nights, start=1):
        cells = []
        for cell, outcome in outcomes.items():
            result = _cell_of_night(cell, outcome)
            result.finished_at = night_date(number)
            cells.append(result)
        run = RunInfo(night_date(number), None, None, "3.11", "linux", {}, "m", None, [], [])
        record_run(history, cells, [], run)
    return history


def _flaky_nights(history: History) -> list[tuple[str, int, int, list[str]]]:
    return [(f.test, f.flaky_nights, f.nights, f.cells) for f in flaky_tests(history)]


def test_a_failure_that_stays_is_a_regression_not_flakiness() -> None:
    p, f = "passed", "failed"
    history = _history_of(*({"postgres-16": o} for o in (p, p, f, f, f)))
    assert _flaky_nights(history) == []


def test_a_failure_between_passes_counts_even_across_nights_without_the_test() -> None:
    p, f = "passed", "failed"
    history = _history_of(
        {"postgres-16": p}, {"postgres-16": f}, {}, {"postgres-16": p}, {"postgres-16": f}
    )
    # night 2 failed between passes (night 3 did not run it); night 5 may be a regression
    assert _flaky_nights(history) == [("t.py::test_x", 1, 4, ["postgres-16"])]


def test_flaky_nights_count_once_whatever_the_number_of_cells() -> None:
    k, p = "flaky", "passed"
    history = _history_of({"a-1": k, "b-1": k}, {"a-1": p, "b-1": p})
    assert _flaky_nights(history) == [("t.py::test_x", 1, 2, ["a-1", "b-1"])]


def test_the_first_failing_night_passes_over_nights_without_the_cell() -> None:
    p, f = "passed", "failed"
    history = _history_of({"postgres-16": p}, {"postgres-16": f}, {}, {"postgres-16": f})
    nights = [Night(i, run.at, run.commit) for i, run in enumerate(history.runs)]
    tonight = [cell_result("postgres-16", "failed", {"t.py::test_x": "failed"})]
    cell, test = first_failures(history, nights, tonight)
    assert (cell.test, cell.night.date, test.night.date) == (None, night_date(2), night_date(2))
    assert cell.cause.previous == nights[0]


def test_an_interrupted_night_is_marked_and_keeps_only_the_cells_it_started() -> None:
    history = _history_of(
        {"postgres-16": "passed", "sqlite-stdlib": "passed"},
        {"postgres-16": INTERRUPTED_WHILE_RUNNING, "sqlite-stdlib": NEVER_STARTED},
    )
    normal, cut_short = parse_history(history_bytes(history)).runs
    assert (normal.interrupted, cut_short.interrupted) == (False, True)
    assert sorted(cut_short.cells) == ["postgres-16"]  # the unstarted cell is absent


def test_streaks_and_flakiness_pass_over_an_interrupted_night() -> None:
    p, f, cut = "passed", "failed", INTERRUPTED_WHILE_RUNNING
    history = _history_of(*({"postgres-16": o} for o in (p, cut, p, cut, f, f)))
    assert _flaky_nights(history) == []  # the interruption's errors are not failures
    nights = [Night(i, run.at, run.commit) for i, run in enumerate(history.runs)]
    tonight = [cell_result("postgres-16", "failed", {"t.py::test_x": "failed"})]
    cell, test = first_failures(history, nights, tonight)
    # failing since night 5: the interrupted night 4 neither starts the streak nor is its cause
    assert (cell.night.date, test.night.date) == (night_date(5), night_date(5))
    assert cell.cause.previous == nights[2]


def test_a_cell_tonights_interrupted_run_never_started_has_no_first_failure() -> None:
    p, cut, never = "passed", INTERRUPTED_WHILE_RUNNING, NEVER_STARTED
    history = _history_of(
        {"postgres-16": p, "sqlite-stdlib": p}, {"postgres-16": cut, "sqlite-stdlib": never}
    )
    nights = [Night(i, run.at, run.commit) for i, run in enumerate(history.runs)]
    tonight = [_cell_of_night("postgres-16", cut), _cell_of_night("sqlite-stdlib", never)]
    found = first_failures(history, nights, tonight)
    assert {(f.cell, f.night.date) for f in found} == {("postgres-16", night_date(2))}
