"""A test that fails once per cell, then passes: the runner's rerun makes it flaky."""

from __future__ import annotations

from tests.harness.sample_suite.planted import first_run_in_this_cell


def test_fails_on_the_first_run_only() -> None:
    assert not first_run_in_this_cell("test_fails_on_the_first_run_only"), "first run fails"
