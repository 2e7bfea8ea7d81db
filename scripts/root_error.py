"""The root error of a failure: the line a reader needs, not a pointer to a log.

A failing test's exception often is the project's own wrapper ("the Celery worker stopped
...; see 'Unrecoverable error' in the captured log"), while the line that says what went wrong
(`redis.exceptions.ResponseError: value is not an integer or out of range`) is an exception
raised by a library or the server's client. The root error is, among the failures' exception
lines, the first exception raised by a library, else the first built-in one (`AssertionError:
...`); when they hold only the project's own exceptions (a wrapper pointing at the log), the
first library exception in the log; failing all that, the first exception line.

The failures' exception lines are pytest's own (`scripts.suite_progress` records each
exception of a failure's chain, as `pkg.Type: text`); only the log, which is free text, and
messages stored by older harnesses are searched line by line (`exception_lines`). Standard
library only (`scripts.results` imports it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PROJECT_MODULES = ("app.", "tests.", "scripts.")
MAX_CHARS = 240
_TYPE = r"(?:[A-Za-z_]\w*\.)*[A-Z]\w*"
# `E   sqlalchemy.exc.OperationalError: (...)`, `redis.exceptions.ResponseError: value ...`
_EXCEPTION_LINE = re.compile(
    rf"^\s*(?:E\s+)?(?P<type>{_TYPE}(?:Error|Exception|Exit|Timeout|Failure))"
    r"(?::\s*(?P<text>\S.*))?$"
)
_STATED_TYPE = re.compile(rf"^(?P<type>{_TYPE})(?::|$)")


def exception_lines(text: str | None) -> list[tuple[str, str]]:
    """(type, whole line) of every line of free `text` that states an exception, in order."""
    found: list[tuple[str, str]] = []
    for line in (text or "").splitlines():
        match = _EXCEPTION_LINE.match(line)
        if match:
            stripped = line.strip()
            whole = stripped[1:].strip() if stripped.startswith("E ") else stripped
            found.append((match["type"], whole))
    return found


def exception_type(line: str) -> str | None:
    """The type an exception line as pytest states it names (`pkg.Type: text` -> `pkg.Type`;
    a rewritten assertion, `assert 1 == 2`, is an `AssertionError`); None for other text."""
    if line.startswith("assert "):
        return "AssertionError"
    match = _STATED_TYPE.match(line)
    return match["type"] if match else None


def _outside_project(kind: str) -> bool:
    return "." in kind and not kind.startswith(PROJECT_MODULES)


def root_error(exceptions: Iterable[str], log: str | None = None) -> str | None:
    """The root error's line (cut to MAX_CHARS), or None when none states an exception.

    `exceptions` are the failures' exception lines as pytest states them, in order (each
    failure's chain first raised first); `log` is pytest's output, searched when those lines
    hold only the project's own exceptions."""
    first_lines = (line.strip().splitlines()[0] for line in exceptions if line.strip())
    typed = [(kind, line) for line in first_lines if (kind := exception_type(line))]
    return _choose(typed, log)


def root_error_in_messages(messages: Iterable[str | None], log: str | None = None) -> str | None:
    """`root_error` for failure messages stored as text (results written by older harnesses
    kept whole tracebacks): their exception lines are found line by line."""
    return _choose([line for message in messages for line in exception_lines(message)], log)


def _choose(in_failures: list[tuple[str, str]], log: str | None) -> str | None:
    library = [line for kind, line in in_failures if _outside_project(kind)]
    builtin = [line for kind, line in in_failures if "." not in kind]
    in_log = [line for kind, line in exception_lines(log) if _outside_project(kind)]
    for lines in (library, builtin, in_log, [line for _, line in in_failures]):
        if lines:
            return _cut(lines[0])
    return None


def _cut(line: str) -> str:
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"
