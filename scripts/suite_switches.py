"""Switches the harness hands the suite through its environment (`--isolation`, `--suite-repeat`).

    COMPAT_TEST_ISOLATION=savepoint   each test's session is rolled back (the default)
    COMPAT_TEST_ISOLATION=recreate    the tables are dropped and created again after each test
                                      (`drop_all`/`create_all`): what a suite without the
                                      SAVEPOINT pattern does, the benchmark's baseline
    COMPAT_SUITE_REPEAT=N             every test is collected N times (the scaling benchmark)

Only names and parsing here (no pytest, no SQLAlchemy): the command line reads it in nox's own
interpreter, the suite (tests/support) in the cell's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

Isolation = Literal["savepoint", "recreate"]
ISOLATIONS: tuple[Isolation, ...] = ("savepoint", "recreate")
ISOLATION_ENV = "COMPAT_TEST_ISOLATION"
SUITE_REPEAT_ENV = "COMPAT_SUITE_REPEAT"


class SuiteSwitchError(ValueError):
    """A switch in the environment has a value the suite does not know."""


def suite_switches(isolation: Isolation = "savepoint", repeat: int = 1) -> dict[str, str]:
    """The environment that asks the suite for `isolation` and `repeat` runs of every test."""
    if isolation not in ISOLATIONS:
        raise SuiteSwitchError(f"unknown isolation {isolation!r}; known: {', '.join(ISOLATIONS)}")
    if repeat < 1:
        raise SuiteSwitchError(f"the suite runs at least once, not {repeat} times")
    return {ISOLATION_ENV: isolation, SUITE_REPEAT_ENV: str(repeat)}


def isolation_from(environ: Mapping[str, str] = os.environ) -> Isolation:
    """The isolation `environ` asks for (`savepoint` when unset)."""
    value = environ.get(ISOLATION_ENV, "").strip() or "savepoint"
    if value not in ISOLATIONS:
        raise SuiteSwitchError(f"{ISOLATION_ENV}={value!r} is not one of {', '.join(ISOLATIONS)}")
    return value


def suite_repeat_from(environ: Mapping[str, str] = os.environ) -> int:
    """How many times `environ` asks for every test to run (1 when unset)."""
    value = environ.get(SUITE_REPEAT_ENV, "").strip() or "1"
    try:
        repeat = int(value)
    except ValueError:
        raise SuiteSwitchError(f"{SUITE_REPEAT_ENV}={value!r} is not a whole number") from None
    if repeat < 1:
        raise SuiteSwitchError(f"{SUITE_REPEAT_ENV}={repeat} is less than 1")
    return repeat
