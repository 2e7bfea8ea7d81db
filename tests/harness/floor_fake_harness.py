"""A stand-in for `python -m scripts` in the floor command's tests: runs no cell, writes the
result.json a cell would: the pinned release passes from one release on (and up to another).

    python -m tests.harness.floor_fake_harness [--passes-from 2.0.31] [--fails-from 5.7]
        [--uninstallable 2.0.10] [--ran 2.1.0] [--no-result]
        -- <the harness's own arguments: --matrix M cell C --pin ...>
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from scripts.results import write_result
from tests.harness.result_factories import cell_result


def main(argv: list[str]) -> int:
    at = argv.index("--")
    own = argparse.ArgumentParser()
    own.add_argument("--passes-from", type=Version, default=Version("0"))
    own.add_argument("--fails-from", type=Version, default=None)
    own.add_argument("--uninstallable", type=Version, action="append", default=[])
    own.add_argument("--ran", default=None)
    own.add_argument("--no-result", action="store_true")
    behaviour = own.parse_args(argv[:at])
    harness = argparse.ArgumentParser()
    harness.add_argument("--matrix")
    harness.add_argument("command")
    harness.add_argument("cell")
    harness.add_argument("--pin", action="append", required=True)
    harness.add_argument("--results", type=Path, required=True)
    harness.add_argument("--timeout")
    harness.add_argument("--no-fetch", action="store_true")
    asked = harness.parse_args(argv[at + 1 :])
    print(f"fake harness: {asked.command} {asked.cell} --pin {' '.join(asked.pin)}")
    if behaviour.no_result:
        print("Traceback: the harness broke before the cell ran", file=sys.stderr)
        return 3
    requirement = Requirement(asked.pin[0])
    release = Version(next(iter(requirement.specifier)).version)
    if release in behaviour.uninstallable:
        result = cell_result(
            asked.cell,
            "unavailable",
            reason=f"the suite environment cannot be built: no matching distribution for"
            f" {requirement}",
        )
    elif release >= behaviour.passes_from and (
        behaviour.fails_from is None or release < behaviour.fails_from
    ):
        result = cell_result(asked.cell, "passed", {"tests/test_a.py::test_a": "passed"})
    else:
        result = cell_result(
            asked.cell,
            "failed",
            {"tests/test_a.py::test_a": "failed"},
            reason="1 test failed: tests/test_a.py::test_a",
        )
    ran = behaviour.ran or str(release)
    result.environment[requirement.name] = ran
    write_result(result, asked.results / asked.cell)
    return 1 if result.state != "passed" else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
