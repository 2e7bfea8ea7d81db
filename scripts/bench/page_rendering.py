"""How long compat.html takes in a browser: headless Chromium loads the page, runs its scripts
(the heat map builds one square per test and cell) and lays it out; the figure is the page's
own clock (`performance.now()`, from the start of navigation) once a frame has been laid out
and painted. Target: under a second for 500 cells x 200 tests."""

from __future__ import annotations

from pathlib import Path

from scripts.bench.figures import Figure, at_most
from scripts.report.browser import find_chromium, headless_chromium

TARGET_S = 1.0
# after the load event: the next frame's layout, then the task after its paint
RENDERED_AT_MS = """new Promise(function (done) {
  requestAnimationFrame(function () {
    document.body.getBoundingClientRect();
    setTimeout(function () { done(performance.now()); }, 0);
  });
})"""


def page_render_figure(
    section: str, name: str, html: Path, profile: Path, repeat: int
) -> Figure | None:
    """The figure, or None when no Chromium is on PATH (the section says so in its note)."""
    chromium = find_chromium()
    if chromium is None:
        return None
    samples: list[float] = []
    height = 0
    with headless_chromium(chromium, profile) as page:
        for _ in range(repeat):
            page.open(html)
            samples.append(float(page.evaluate(RENDERED_AT_MS)) / 1000)
            height = int(page.evaluate("document.documentElement.scrollHeight"))
    size = html.stat().st_size // 1024
    return Figure(
        section,
        name,
        "s",
        tuple(samples),
        at_most(TARGET_S, "s"),
        note=f"headless Chromium 1366x768: load, scripts, layout, paint; {size} KiB page,"
        f" {height} px tall",
    )
