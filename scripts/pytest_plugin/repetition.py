"""Every test collected N times (COMPAT_SUITE_REPEAT=N, the harness's `--suite-repeat N`).

The scaling benchmark runs a suite N times as long without writing N times the tests: each
test is parametrised over `suite_round` (ids `round1` ... `roundN`). Unset or 1: unchanged.
"""

from __future__ import annotations

import pytest

from scripts.suite_switches import suite_repeat_from

ROUND_PARAMETER = "suite_round"


def repeat_each_test(metafunc: pytest.Metafunc, times: int | None = None) -> None:
    """Parametrise the test over `times` rounds (default: as the environment says)."""
    rounds = suite_repeat_from() if times is None else times
    if rounds <= 1:
        return
    metafunc.fixturenames.append(ROUND_PARAMETER)
    metafunc.parametrize(ROUND_PARAMETER, range(1, rounds + 1), ids=lambda round_: f"round{round_}")
