"""The switches the report's tests use to plant failures in the sample suite."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

STATE_DIR_ENV = "COMPAT_SAMPLE_STATE_DIR"
BREAK_ENV = "COMPAT_SAMPLE_BREAK"


def fail_if_broken_on_purpose(test_name: str) -> None:
    """Fail `test_name` when the report's tests asked for it through `COMPAT_SAMPLE_BREAK`."""
    broken = {name.strip() for name in os.environ.get(BREAK_ENV, "").split(",")}
    if test_name in broken:
        pytest.fail(f"{test_name} broken on purpose ({BREAK_ENV}) <&> planted")


def first_run_in_this_cell(test_name: str) -> bool:
    """True the first time per state folder and cell (DATABASE_URL + REDIS_URL); False after."""
    folder = os.environ.get(STATE_DIR_ENV)
    if not folder:
        return False
    cell = f"{os.environ.get('DATABASE_URL')}|{os.environ.get('REDIS_URL')}"
    marker = Path(folder) / f"{test_name}-{hashlib.sha256(cell.encode()).hexdigest()[:16]}"
    if marker.exists():
        return False
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return True
