"""The root error of a failure: the line a reader needs, not a pointer to a log.

A failing test's message often ends in the project's own wrapper ("the Celery worker stopped
...; see 'Unrecoverable error' in the captured log"), while the line that says what went wrong
(`redis.exceptions.ResponseError: value is not an integer or out of range`) is an exception
raised by a library or the server's client. The root error is, in the failure messages, the
first exception raised by a library, else the first built-in one (`AssertionError: ...`); when
the messages hold only the project's own exceptions (a wrapper pointing at the log), the first
library exception in the log; failing all that, the messages' first exception line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PROJECT_MODULES = ("app.", "tests.", "scripts.")
MAX_CHARS = 240
# `E   sqlalchemy.exc.OperationalError: (...)`, `redis.exceptions.ResponseError: value ...`
_EXCEPTION_LINE = re.compile(
    r"^\s*(?:E\s+)?(?P<type>(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Timeout|Failure))"
    r"(?::\s*(?P<text>\S.*))?$"
)


def exception_lines(text: str | None) -> list[tuple[str, str]]:
    """(type, whole line) of every line of `text` that states an exception, in order."""
    found: list[tuple[str, str]] = []
    for line in (text or "").splitlines():
        match = _EXCEPTION_LINE.match(line)
        if match:
            stripped = line.strip()
            whole = stripped[1:].strip() if stripped.startswith("E ") else stripped
            found.append((match["type"], whole))
    return found


def _outside_project(kind: str) -> bool:
    return "." in kind and not kind.startswith(PROJECT_MODULES)


def root_error(messages: Iterable[str | None], log: str | None = None) -> str | None:
    """The root error's line (cut to MAX_CHARS), or None when no line states an exception."""
    in_messages = [line for message in messages for line in exception_lines(message)]
    library = [line for kind, line in in_messages if _outside_project(kind)]
    builtin = [line for kind, line in in_messages if "." not in kind]
    in_log = [line for kind, line in exception_lines(log) if _outside_project(kind)]
    for lines in (library, builtin, in_log, [line for _, line in in_messages]):
        if lines:
            return _cut(lines[0])
    return None


def _cut(line: str) -> str:
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"
