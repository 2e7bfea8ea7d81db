"""Each cell's suite environment: an interpreter of the asked Python version and a venv with
the service's requirements plus the cell's stack pins.

    interpreter = find_interpreter("3.13", DebianPackages("trixie", ("python3.13",)), fetch=True)
    venv = suite_venv(interpreter=interpreter, install=["-e", ".[test]"],
                      pins=["sqlalchemy>=2.0,<2.1"], resolution="highest", refresh=False)
    venv.python, venv.installed["sqlalchemy"], venv.reused

`scripts.environments.interpreters` finds (or fetches) interpreters,
`scripts.environments.venvs` keys, locks, stamps and reuses the venvs,
`scripts.environments.builders` runs uv (or venv + pip) to make and fill them.
Both raise `EnvironmentUnavailable`, whose message is the reason a cell is `unavailable`.
"""

from __future__ import annotations

from scripts.environments.interpreters import Interpreter, find_interpreter
from scripts.environments.unavailable import EnvironmentUnavailable
from scripts.environments.venvs import SuiteVenv, suite_venv

__all__ = ["EnvironmentUnavailable", "Interpreter", "SuiteVenv", "find_interpreter", "suite_venv"]
