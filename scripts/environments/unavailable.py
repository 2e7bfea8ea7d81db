"""The one error of `scripts.environments`: a cell's suite environment cannot be had."""

from __future__ import annotations


class EnvironmentUnavailable(Exception):  # noqa: N818 - the cell state it means
    """No interpreter of the asked version, or a venv that cannot be built; `str()` is the
    reason (where the search looked and how to provide one, or the resolver's own message)."""
