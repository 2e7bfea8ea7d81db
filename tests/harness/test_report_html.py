"""compat.html: self-contained, escaped, and its heat map (built by its script) marks exactly
the planted failure and flaky test, checked in a real headless Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from scripts.report.build import Written
from scripts.report.html import render_html
from scripts.report.model import Report, RunInfo
from tests.harness.chromium import chromium
from tests.harness.report_scenario import CASE_TEST, FLAKY_TEST
from tests.harness.result_factories import cell_result


class _Squares(HTMLParser):
    """The heat-map squares the page's script marked as failing, erroring or flaky."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[tuple[str, str, str]] = set()
        self.body: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "body":
            self.body = found
        if tag == "td" and found.get("data-outcome"):
            self.marked.add(
                (found["data-cell"] or "", found["data-test"] or "", found["data-outcome"] or "")
            )


def test_the_heat_map_renders_exactly_the_planted_marks_inchromium(
    planted_report: Written, tmp_path: Path
) -> None:
    dom = chromium(planted_report.html, tmp_path / "profile", "--dump-dom").stdout
    squares = _Squares()
    squares.feed(dom)
    assert squares.body.get("data-heatmap") == "ready", "the page's script did not finish"
    assert squares.marked == {
        ("mariadb-10.11", CASE_TEST, "failed"),
        ("postgres-15", FLAKY_TEST, "flaky"),
    }
    status = re.search(r'id="heatmap-status">([^<]*)<', dom)
    assert status is not None
    assert status.group(1) == "showing 5 of 5 tests · 1 failing and 1 flaky test×cell squares"
    # the error and unavailable cells are columns marked by their state, never as supported
    assert re.search(r'<th class="cell c-error"[^>]*data-state="error"', dom)
    assert re.search(r'<th class="cell c-unavailable"[^>]*data-state="unavailable"', dom)


def test_a_screenshot_shows_the_page(planted_report: Written, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    chromium(
        planted_report.html, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,900"
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a blank page compresses to a few hundred bytes


def test_the_page_needs_no_network(planted_report: Written) -> None:
    page = planted_report.html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "<script src" not in page


def test_names_and_messages_are_escaped(tmp_path: Path) -> None:
    evil = "tests/test_x.py::test_y[</script><img src=x onerror=alert(1)>&amp;]"
    cell = cell_result("postgres-16", "failed", {evil: "failed"}, reason="<b>bold</b> & more")
    run = RunInfo("2026-01-01T00:00:00+00:00", None, None, "3.11", "linux", {}, "m", None, [], [])
    page = render_html(Report(run, [cell], [], None, None))
    assert "<img src=x" not in page
    assert "</script><img" not in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert page.count("</script>") == 2  # the data block and the script, nothing injected
