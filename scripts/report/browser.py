"""Headless Chromium driven over the Chrome DevTools Protocol, through a pipe (no port, no extra
package): open a page at a given window size, run script in it, take a screenshot.

    with headless_chromium(chromium, profile) as page:
        page.open(path)
        height = page.evaluate("document.documentElement.scrollHeight")

Chromium reads commands on its fd 3 and writes answers on its fd 4 (`--remote-debugging-pipe`),
each a JSON object ended by a NUL byte.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from scripts.files import log_tail
from scripts.providers.base import ProvisioningError
from scripts.providers.process import process_group

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
ANSWER_TIMEOUT_S = 120.0  # a loaded 2-core machine: axe-core on a big page takes a while
CLOSE_TIMEOUT_S = 10.0
WINDOW = (1366, 768)
_ON_FDS_3_AND_4 = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4);"
    " os.execv(sys.argv[3], sys.argv[3:])"
)


HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",  # as root (CI containers) Chromium refuses to start with its sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""A quiet headless Chromium: no GPU, no sandbox, nothing fetched in the background."""


class BrowserError(Exception):
    """Chromium did not start, stopped, answered with an error or not in time."""


def find_chromium() -> str | None:
    """The first Chromium on PATH, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


class Page:
    """One tab of a headless Chromium, spoken to through its DevTools pipe."""

    def __init__(self, commands: int, answers: int, process: subprocess.Popen[bytes]) -> None:
        self._commands, self._answers, self._process = commands, answers, process
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self._session: str | None = None

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command (to the tab once attached) and wait for its answer."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self._session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") != self._next_id:
                self._events.append(answer)
                continue
            if "error" in answer:
                raise BrowserError(f"{method}: {answer['error'].get('message', answer['error'])}")
            result: dict[str, Any] = answer.get("result", {})
            return result

    def attach(self, width: int, height: int) -> None:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Page.enable")

    def open(self, page: Path) -> None:
        """Load `page` and wait for its load event (its inline scripts have run by then)."""
        self._events.clear()
        self.call("Page.navigate", url=page.resolve().as_uri())
        self.wait_for_event("Page.loadEventFired")

    def wait_for_event(self, method: str) -> dict[str, Any]:
        while True:
            for index, event in enumerate(self._events):
                if event.get("method") == method:
                    del self._events[: index + 1]
                    params: dict[str, Any] = event.get("params", {})
                    return params
            self._events.append(self._read())

    def evaluate(self, expression: str) -> Any:
        """The value of `expression` in the page (a promise is awaited); a thrown error raises."""
        answer = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"the page's script failed: {text}")
        return answer.get("result", {}).get("value")

    def screenshot(self, full_page: bool = False) -> bytes:
        """A PNG of the window, or of the whole page."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            width, height = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._answers], [], [], max(left, 0))
            if not ready:
                raise BrowserError(f"Chromium did not answer within {ANSWER_TIMEOUT_S:.0f} s")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                code = self._process.poll()
                raise BrowserError(f"Chromium closed its DevTools pipe (exit code {code})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        decoded: dict[str, Any] = json.loads(message)
        return decoded


@contextmanager
def headless_chromium(
    executable: str, profile: Path, window: tuple[int, int] = WINDOW
) -> Iterator[Page]:
    """A headless Chromium with one tab of `window` pixels; closed (or killed) on exit.

    `--no-sandbox`: as root (CI containers) Chromium refuses to start with its sandbox.
    """
    profile.mkdir(parents=True, exist_ok=True)
    to_browser, from_browser = os.pipe(), os.pipe()
    argv = [
        sys.executable,  # puts the pipe's ends on fds 3 and 4, then becomes Chromium
        "-c",
        _ON_FDS_3_AND_4,
        str(to_browser[0]),
        str(from_browser[1]),
        executable,
        *HEADLESS_FLAGS,
        "--hide-scrollbars",
        "--remote-debugging-pipe",
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
        "about:blank",
    ]
    log_path = profile / "chromium.log"
    log_path.unlink(missing_ok=True)  # one log per browser
    with ExitStack() as stack:
        stack.callback(os.close, to_browser[1])
        stack.callback(os.close, from_browser[0])
        try:
            # the process runner: tied to this process, the whole group stopped on exit
            process = stack.enter_context(
                process_group(
                    argv,
                    log_path,
                    pass_fds=(to_browser[0], from_browser[1]),
                    stop_timeout=CLOSE_TIMEOUT_S,
                )
            )
        except ProvisioningError as error:
            raise BrowserError(str(error)) from error
        finally:
            os.close(to_browser[0])
            os.close(from_browser[1])
        page = Page(to_browser[1], from_browser[0], process)
        try:
            page.attach(*window)
        except BrowserError as error:
            raise BrowserError(f"{error}; Chromium said:\n{log_tail(log_path)}") from error
        yield page
