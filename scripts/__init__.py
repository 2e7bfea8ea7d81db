"""The compatibility-matrix harness: matrix file, server providers, cell runner, report.

Importing it (every `python -m scripts...`, and the noxfile before anything else) stops an
interpreter older than the harness supports with one line, never a traceback: this file must
stay readable by any Python 3 (hence its quoted annotations).
"""

import sys

OLDEST_PYTHON = (3, 11)  # 3.11.2, Debian 12's own, is the oldest the tests run on


def unsupported_python_message(
    version: "tuple[int, ...]",
    executable: str = sys.executable,
) -> "str | None":
    """What to say when `version` (of `executable`) is too old; None when it is supported."""
    if tuple(version[:2]) >= OLDEST_PYTHON:
        return None
    shown = ".".join(str(part) for part in version[:3])
    return (
        f"error: the harness needs Python {OLDEST_PYTHON[0]}.{OLDEST_PYTHON[1]} or newer, "
        f"this is {shown} ({executable}): run it, or nox, with a newer one (README: Requirements)"
    )


_TOO_OLD = unsupported_python_message(sys.version_info[:3])
if _TOO_OLD is not None:
    raise SystemExit(_TOO_OLD)
