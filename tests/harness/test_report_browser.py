"""compat.html in a real headless Chromium on this machine (no emoji font): the grid is on the
first screen, every state looks different, no glyph is a missing-glyph box, axe-core finds no
serious or critical violation, and the tables stay one line per cell and readable."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.bench.page_rendering import page_render_figure
from scripts.bench.report_rendering import synthetic_cell
from scripts.matrix import load_matrix
from scripts.paths import MATRIX_FILE
from scripts.report.build import Written, write_report
from scripts.report.html import render_html
from scripts.report.model import Report, RunInfo
from scripts.results import write_result
from tests.harness.browser_support import (
    BLOCKING_IMPACTS,
    MISSING_GLYPHS_JS,
    axe_source,
    chromium_or_skip,
    opened,
)
from tests.harness.grid_scenario import STATES, shipped_matrix_report
from tests.harness.history_scenario import REGRESSION_NIGHT, render_nights
from tests.harness.result_factories import cell_result

SCREEN = (1366, 768)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return shipped_matrix_report(tmp_path_factory.mktemp("shipped"))


def test_the_shipped_matrixs_grid_fits_the_first_screen_above_everything(
    shipped: Written, tmp_path: Path
) -> None:
    with opened(shipped.html, tmp_path / "profile", SCREEN) as page:
        found = page.evaluate(
            """(function () {
              var grid = document.getElementById("grid").getBoundingClientRect();
              var sections = Array.from(document.querySelectorAll("main > section"));
              return {top: grid.top, bottom: grid.bottom, right: grid.right,
                      first: sections[0].id, boxes: document.querySelectorAll(".box").length,
                      rows: Array.from(document.querySelectorAll(".grid-label"),
                                       function (l) { return l.textContent; })};
            })()"""
        )
    assert found["first"] == "grid"
    assert found["rows"] == [
        *("PostgreSQL", "MySQL", "MariaDB", "SQLite", "Redis", "Valkey", "Migrations")
    ]
    # one per version of the shipped matrix: 21 cells, the default one counts for two versions
    # 22 versions (the default cell counts for two), and a Migrations box for each database
    # backend (the cache cells' migrations ran on the default SQLite)
    assert found["boxes"] == 22 + 4
    assert found["bottom"] <= SCREEN[1], f"the grid ends at {found['bottom']} px"
    assert found["right"] <= SCREEN[0]


def test_every_state_has_a_visible_box_that_looks_like_no_other(
    shipped: Written, tmp_path: Path
) -> None:
    with opened(shipped.html, tmp_path / "profile", SCREEN) as page:
        looks = page.evaluate(
            """(function () {
              var found = {};
              document.querySelectorAll(".box").forEach(function (box) {
                var r = box.getBoundingClientRect(), s = getComputedStyle(box);
                if (found[box.dataset.state]) return;
                found[box.dataset.state] = {
                  visible: r.width > 40 && r.height > 30 && r.bottom <= innerHeight &&
                    s.visibility === "visible",
                  look: [s.backgroundColor, s.backgroundImage, s.borderTopStyle,
                         box.querySelector(".shape").innerHTML].join(" | "),
                  word: box.querySelector("small").textContent.split(" · ")[0]};
              });
              return found;
            })()"""
        )
    assert set(looks) == {"passed", "failed", "flaky", "error", "unavailable"}
    assert all(look["visible"] for look in looks.values()), looks
    assert len({look["look"] for look in looks.values()}) == len(looks), looks
    assert {state: look["word"] for state, look in looks.items()} == {
        "passed": "passed",
        "failed": "failed",
        "flaky": "flaky",
        "error": "error",
        "unavailable": "not run",
    }


def test_focus_shows_a_boxs_detail_and_a_click_goes_to_its_cell(
    shipped: Written, tmp_path: Path
) -> None:
    with opened(shipped.html, tmp_path / "profile", SCREEN) as page:
        found = page.evaluate(
            """(function () {
              var box = document.querySelector('.box[data-state="failed"]');
              var tip = box.querySelector(".tip");
              var hidden = getComputedStyle(tip).display;
              box.focus();
              var shown = getComputedStyle(tip).display, text = tip.innerText;
              box.click();
              var row = document.querySelector("tr:target");
              return {hidden: hidden, shown: shown, text: text, hash: location.hash,
                      row: row && row.dataset.cell};
            })()"""
        )
    assert (found["hidden"], found["shown"]) == ("none", "block")
    cell = found["hash"].removeprefix("#cell-")
    assert found["row"] == cell
    for label in ("Cell", "Source", "Tests", "Cause"):
        assert label in found["text"]
    assert cell in found["text"]
    assert "/unpacked/package/native/bin/postgres" in found["text"] or "binaries" in found["text"]


def _emoji_font_installed() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    listed = subprocess.run([fc_list, ":charset=2705"], capture_output=True, text=True)  # noqa: S603
    return bool(listed.stdout.strip())


def test_no_glyph_falls_back_to_a_missing_glyph_box(shipped: Written, tmp_path: Path) -> None:
    # and a page with every section: history strips, first failures, flaky tests, changes
    (tmp_path / "nights").mkdir()
    with_history = render_nights(tmp_path / "nights", nights=REGRESSION_NIGHT).last.html
    for page_file in (with_history, shipped.html):
        with opened(page_file, tmp_path / "profile", SCREEN) as page:
            page.evaluate('document.querySelector("#cells-table th").click()')  # a sort arrow
            missing = page.evaluate(MISSING_GLYPHS_JS)
            assert missing == [], f"characters no installed font draws: {missing}"
            if not _emoji_font_installed():
                # the check sees what it looks for: an emoji here is a missing-glyph box
                page.evaluate('document.body.appendChild(document.createTextNode("\\u2705"))')
                assert [ch for ch, _ in page.evaluate(MISSING_GLYPHS_JS)] == ["\u2705"]


def test_axe_core_finds_no_serious_or_critical_violation(
    shipped: Written, planted_report: Written, tmp_path: Path
) -> None:
    source = axe_source()
    for report in (shipped, planted_report):
        with opened(report.html, tmp_path / "profile", SCREEN) as page:
            page.evaluate(source)
            result = page.evaluate(
                "axe.run(document, {resultTypes: ['violations']}).then(function (r) {"
                " return {version: axe.version, violations: r.violations.map(function (v) {"
                " return {id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map("
                " function (n) { return n.html; })}; })}; })"
            )
        assert result["version"] == "4.10.3"
        blocking = [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]
        assert blocking == [], json.dumps(blocking, indent=1)


def test_the_cells_table_takes_a_line_per_cell(shipped: Written, tmp_path: Path) -> None:
    with opened(shipped.html, tmp_path / "profile", SCREEN) as page:
        heights = page.evaluate(
            "Array.from(document.querySelectorAll('#cells-table tbody tr'),"
            " function (tr) { return tr.getBoundingClientRect().height; })"
        )
        overflow = page.evaluate(
            "(function (w) { return w.scrollWidth - w.clientWidth; })"
            "(document.querySelector('#cells .wide'))"
        )
        filtered = page.evaluate(
            """(function () {
              var select = document.getElementById("cells-state");
              select.value = "failed"; select.dispatchEvent(new Event("input"));
              var rows = document.querySelectorAll("#cells-table tbody tr:not([hidden])");
              return [rows.length, document.getElementById("cells-status").textContent];
            })()"""
        )
    cells = len(load_matrix(MATRIX_FILE).cells())
    failed = sum(1 for index in range(cells) if STATES[index % len(STATES)] == "failed")
    assert len(heights) == cells
    assert max(heights) < 40, f"row heights {heights}"
    assert overflow <= 0, f"the table is {overflow} px wider than the window"
    assert filtered == [failed, f"showing {failed} of {cells} cells"]


def test_the_heat_map_of_200_cells_keeps_its_columns_and_header(tmp_path: Path) -> None:
    results = tmp_path / "results"
    rng = random.Random(7)
    for index in range(200):
        cell = synthetic_cell(index, 30, rng)
        cell.tests[0].id += "[" + "a-very-long-parameter-" * 8 + "]"
        write_result(cell, results / cell.cell)
    written = write_report(
        [results], tmp_path / "reports", matrix_file=MATRIX_FILE, previous=None, history=None
    )
    with opened(written.html, tmp_path / "profile", SCREEN) as page:
        found = page.evaluate(
            """(function () {
              var scroll = document.querySelector("#heatmap-section .scroll");
              var widths = Array.from(document.querySelectorAll("#heatmap th.cell"),
                function (th) { return th.getBoundingClientRect().width; });
              var names = Array.from(document.querySelectorAll("#heatmap td.name"));
              var longest = names.reduce(function (a, b) {
                return a.title.length > b.title.length ? a : b; });
              scroll.scrollTop = 400; scroll.scrollLeft = 600;
              var head = document.querySelector("#heatmap thead th.cell").getBoundingClientRect();
              var name = names[20].getBoundingClientRect();
              var box = scroll.getBoundingClientRect();
              return {columns: widths.length, narrowest: Math.min.apply(null, widths),
                      scrolls: scroll.scrollWidth > scroll.clientWidth,
                      nameWidth: longest.getBoundingClientRect().width,
                      title: longest.title, shown: longest.textContent,
                      headerAtTop: Math.abs(head.top - box.top) < 3,
                      nameAtLeft: Math.abs(name.left - box.left) < 3};
            })()"""
        )
    assert found["columns"] == 200
    assert found["narrowest"] >= 16
    assert found["scrolls"], "200 columns scroll sideways instead of shrinking"
    assert found["nameWidth"] <= 32 * 12 + 14  # 32em of 12 px text and its padding
    assert found["title"] == found["shown"]
    assert "a-very-long-parameter-" * 8 in found["title"]
    assert found["headerAtTop"], found
    assert found["nameAtLeft"], found


def test_a_hostile_test_name_stays_text_in_the_built_heat_map(tmp_path: Path) -> None:
    evil = 'tests/test_x.py::test_y[<img src=x onerror="document.title=1">&amp;\'"]'
    run = RunInfo("2026-01-01T00:00:00+00:00", None, None, "3.11", "linux", {}, "m", None, [], [])
    cell = cell_result("postgres-16", "failed", {evil: "failed"}, reason="boom")
    page_file = tmp_path / "compat.html"
    page_file.write_text(render_html(Report(run, [cell], [], None, None)), encoding="utf-8")
    with opened(page_file, tmp_path / "profile", SCREEN) as page:
        found = page.evaluate(
            """[document.querySelectorAll("#heatmap img").length,
                document.querySelector("#heatmap td.name").textContent,
                document.querySelector("#heatmap td[data-test]").dataset.test, document.title]"""
        )
    assert found == [0, evil, evil, "Compatibility report"]


def test_the_benchmark_reads_the_pages_own_clock_per_load(
    planted_report: Written, tmp_path: Path
) -> None:
    chromium_or_skip()
    figure = page_render_figure("report", "page", planted_report.html, tmp_path / "p", repeat=2)
    assert figure is not None
    assert len(figure.samples) == 2
    assert all(sample > 0 for sample in figure.samples)
    assert figure.target is not None
    assert figure.target.describe() == "≤ 1 s"
    assert re.search(r"\d+ KiB page, \d+ px tall$", figure.note)
