"""What the page's browser tests share: Chromium (or why the test cannot run), axe-core from
the npm registry (fetched once into the cache), and the checks run inside the page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts.report.browser import Page, find_chromium, headless_chromium
from scripts.sources.npm import fetch_npm, npm_package_dir
from tests.harness.chromium import INSTALL_HINT

AXE_PACKAGE = "axe-core@4.10.3"
BLOCKING_IMPACTS = ("serious", "critical")


def chromium_or_skip() -> str:
    """Chromium's path; without one, a skip (COMPAT_ALLOW_NO_BROWSER=1) or a failure saying how
    to install it."""
    found = find_chromium()
    if found:
        return found
    if os.environ.get("COMPAT_ALLOW_NO_BROWSER") == "1":
        pytest.skip("no Chromium on PATH and COMPAT_ALLOW_NO_BROWSER=1")
    pytest.fail(INSTALL_HINT)


@contextmanager
def opened(page_file: Path, profile: Path, window: tuple[int, int] = (1366, 768)) -> Iterator[Page]:
    with headless_chromium(chromium_or_skip(), profile, window) as page:
        page.open(page_file)
        yield page


def axe_source() -> str:
    """axe.min.js, `npm pack`ed into the fetch cache the first time."""
    fetch_npm(AXE_PACKAGE, bin_dir=Path("unpacked/package"))
    return (npm_package_dir(AXE_PACKAGE) / "axe.min.js").read_text(encoding="utf-8")


# Every character the page shows (text, and the content of ::before/::after), drawn in its
# element's font on a canvas and compared with a character no font has (U+10FFFD): equal
# pixels mean the missing-glyph box. Returns [[character, font], ...] of those.
MISSING_GLYPHS_JS = r"""
(function () {
  var canvas = document.createElement("canvas"); canvas.width = 40; canvas.height = 40;
  var ctx = canvas.getContext("2d", {willReadFrequently: true});
  function pixels(text, font) {
    ctx.clearRect(0, 0, 40, 40); ctx.font = font; ctx.textBaseline = "top";
    ctx.fillText(text, 4, 4);
    return Array.prototype.join.call(ctx.getImageData(0, 0, 40, 40).data, "");
  }
  var seen = {}, missing = [], tofu = {};
  function check(text, style) {
    var font = style.fontStyle + " " + style.fontWeight + " 20px " + style.fontFamily;
    Array.from(text).forEach(function (ch) {
      if (/\s/.test(ch) || seen[ch + font]) return;
      seen[ch + font] = 1;
      if (!(font in tofu)) tofu[font] = pixels("\u{10FFFD}", font);
      if (pixels(ch, font) === tofu[font]) missing.push([ch, font]);
    });
  }
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (var node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("script,style")) continue;
    check(node.textContent, getComputedStyle(node.parentElement));
  }
  document.querySelectorAll("*").forEach(function (el) {
    ["::before", "::after"].forEach(function (pseudo) {
      var style = getComputedStyle(el, pseudo), content = style.content;
      if (content && content !== "none" && content !== "normal") check(content, style);
    });
  });
  return missing;
})()
"""
