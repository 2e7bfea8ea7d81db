"""Headless Chromium for the report's page tests: the page's scripts run, the DOM comes back."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.report.browser import HEADLESS_FLAGS

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "headless Chromium is needed to check compat.html: install it with"
    " `apt-get install -y chromium` (or set COMPAT_ALLOW_NO_BROWSER=1 to skip this check)"
)


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("COMPAT_ALLOW_NO_BROWSER") == "1":
        pytest.skip("no Chromium and COMPAT_ALLOW_NO_BROWSER=1")
    pytest.fail(f"{INSTALL_HINT}; looked for {', '.join(BROWSERS)} on PATH")


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own browser and file
        [
            browser(),
            *HEADLESS_FLAGS,
            f"--user-data-dir={profile}",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
