"""The verdict per library and per interpreter: the versions that really ran, and how they did.

The lines come from the results, and from the matrix file for which distributions each stack
value pins (`MatrixInfo.stack_distributions`; a value without pins, a resolution, is told by
the results alone, as below). A cell's `stack` names the value of each stack group it
asked for (`{"sqlalchemy": "2.0", "driver": "psycopg3"}`), its `environment` what its venv
really held (canonical distribution name -> installed version, and "python"), its
`interpreter` the Python version it asked for.

    a library line  per stack group whose asked value differs between cells, its versions told
                    by the group's distributions: those whose installed version (or absence)
                    differs between the group's values and is one version for each value
                    (`sqlalchemy` for the group sqlalchemy; `psycopg2-binary`, `psycopg` for a
                    driver group); then one per other distribution whose installed version
                    differs between cells. A library at one version in every cell is no axis
                    and gets no line: the run info names it.
    the interpreter one line as soon as a cell asked for an interpreter.

Which cells count for a line, as for the servers (`verdict.counted_axes`): a cell that varies
the library (it asked another value than the default, `sqlalchemy-2.0`, `postgres-18+psycopg3`)
counts for the version it ran; the default stack counts through the cells that differ from
those only there (their servers' own cell, `postgres-18` beside `postgres-18+psycopg3`,
`redis-6.0` beside `redis-6.0+celery-5.3`) and through the default cell. A default version
riding along in a cell that varies something else does not count: `redis-6.0` failing on its
server says nothing of SQLAlchemy. The default of a group is what the cells naming only servers
asked (per database backend, for a driver); a line of a distribution no group explains counts
every cell that ran it.

A version is as good as the worst cell that counts for it, and the cells that did not pass are
named: the line answers "which combination works", with the cells to look at when one does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet

from scripts.report.matrix_info import MatrixInfo
from scripts.report.model import InstalledVersion, StackKind, StackVerdict, VersionState
from scripts.report.verdict import (
    SYMBOLS,
    default_servers,
    names_servers_only,
    one_line,
    ranges,
    servers_of,
    worst_first,
)
from scripts.report.versions import natural_key
from scripts.results import CellResult
from scripts.vocabulary import CellIdError, cell_id_parts, python_id, version_id

NOT_DISTRIBUTIONS = frozenset({"python", "platform"})
"""The `environment` keys that are no distribution."""
LIBRARY_NAMES = {
    "sqlalchemy": "SQLAlchemy",
    "pymysql": "PyMySQL",
    "celery": "Celery",
    "fastapi": "FastAPI",
    "pydantic": "Pydantic",
}
"""How a distribution is named for humans, where that is not its canonical name."""
INTERPRETER = "python"
FAILING_NAMED = 3  # cells named per state in a line; the grid's detail and compat.json hold all


def library_name(distribution: str) -> str:
    return LIBRARY_NAMES.get(distribution, distribution)


def build_stack_verdict(cells: Sequence[CellResult], matrix: MatrixInfo) -> list[StackVerdict]:
    """The library lines, then the interpreter's; none for a run without stacks or python."""
    lines: list[StackVerdict] = []
    claimed: set[str] = set()
    default_cell = default_servers(matrix)
    for group in dict.fromkeys(group for cell in cells for group in cell.stack):
        having = [cell for cell in cells if group in cell.stack]
        if len({cell.stack[group] for cell in having}) < 2:
            continue
        pinned = matrix.stack_distributions.get(group, {})
        by_value = {value: names for value, names in pinned.items() if names}
        if by_value:  # the matrix says which distributions each value pins
            distributions = list(dict.fromkeys(n for names in by_value.values() for n in names))
        else:  # a value of no pins (a resolution): those that follow its value, by the results
            distributions = group_distributions(group, having, claimed)
        claimed.update(distributions)
        counted = counted_cells(having, _asked_of(group), default_cell)
        lines.append(_group_line(group, distributions, counted, by_value))
    for distribution in varying_distributions(cells):
        if distribution not in claimed:
            having = [cell for cell in cells if distribution in cell.environment]
            name = library_name(distribution)
            key = _one_library(distribution)
            lines.append(_line(distribution, name, "library", [distribution], having, key))
    interpreted = [cell for cell in cells if cell.interpreter is not None]
    if interpreted:
        counted = counted_cells(interpreted, lambda cell: cell.interpreter or "", default_cell)
        lines.append(_line(INTERPRETER, "Python", "interpreter", [], counted, _interpreter))
    return lines


def counted_cells(
    cells: Sequence[CellResult], asked: Callable[[CellResult], str], default_cell: frozenset[str]
) -> list[CellResult]:
    """The cells (of `cells`, those the line's group applies to) that speak for the line; see
    the module's notes. `asked` gives the value a cell asked for; `default_cell` the default
    servers. Without a cell naming only servers there is no default to compare with, and every
    cell counts."""
    baseline = [cell for cell in cells if names_servers_only(cell)]
    if not baseline:
        return list(cells)
    by_backend: dict[str | None, Counter[str]] = {}
    for cell in baseline:
        by_backend.setdefault(_database(cell), Counter())[asked(cell)] += 1
    overall = sum(by_backend.values(), Counter[str]())

    def default(cell: CellResult) -> str:
        return (by_backend.get(_database(cell)) or overall).most_common(1)[0][0]

    varying = {
        cell.cell for cell in cells if not names_servers_only(cell) and asked(cell) != default(cell)
    }
    compared = {servers_of(cell) for cell in cells if cell.cell in varying}
    return [
        cell
        for cell in cells
        if cell.cell in varying
        or (names_servers_only(cell) and servers_of(cell) in compared | {default_cell})
    ]


def _asked_of(group: str) -> Callable[[CellResult], str]:
    def asked(cell: CellResult) -> str:
        return cell.stack[group]

    return asked


def _database(cell: CellResult) -> str | None:
    axis = cell.axes.get("database")
    return axis.backend if axis else None


def group_distributions(
    group: str, cells: Sequence[CellResult], claimed: AbstractSet[str] = frozenset()
) -> list[str]:
    """The distributions that follow `group`'s asked value among `cells` (those asking a value
    of it): at one version for each value, and either at different versions for different
    values (`sqlalchemy` 2.0.44, 2.1.9) or installed exactly with some values (`psycopg` with
    the driver psycopg3 only). Cells without a recorded environment (a result that could not
    be read) tell nothing and are passed over."""
    recorded = [cell for cell in cells if cell.environment]
    names = dict.fromkeys(
        name for cell in recorded for name in cell.environment if name not in NOT_DISTRIBUTIONS
    )
    found: list[str] = []
    for name in names:
        if name in claimed:
            continue
        versions: dict[str, set[str | None]] = {}
        for cell in recorded:
            versions.setdefault(cell.stack[group], set()).add(cell.environment.get(name))
        installed = [seen - {None} for seen in versions.values()]
        one_each = all(len(seen) <= 1 for seen in installed)
        differ = len({version for seen in installed for version in seen}) > 1
        with_some = all(len(seen) == 1 for seen in versions.values()) and any(
            None in seen for seen in versions.values()
        )
        if one_each and (differ or with_some):
            found.append(name)
    return found


def varying_distributions(cells: Sequence[CellResult]) -> list[str]:
    """Distributions installed at more than one version across the cells that have them."""
    versions: dict[str, set[str]] = {}
    for cell in cells:
        for name, version in cell.environment.items():
            if name not in NOT_DISTRIBUTIONS:
                versions.setdefault(name, set()).add(version)
    return [name for name, seen in versions.items() if len(seen) > 1]


# a cell -> (the box it counts for, what it asked, what it ran)
_Key = Callable[[CellResult], tuple[str, str, list[str]]]


def _group_line(
    group: str,
    distributions: list[str],
    cells: Sequence[CellResult],
    by_value: Mapping[str, list[str]] | None = None,
) -> StackVerdict:
    """`by_value`: the distributions each value pins, from the matrix (a driver's box shows
    its own, not the other drivers the service also installs)."""
    primary = (
        distributions[0]
        if len(distributions) == 1
        else next((name for name in distributions if name == group), None)
    )

    def key(cell: CellResult) -> tuple[str, str, list[str]]:
        asked = cell.stack[group]
        names = (by_value or {}).get(asked) or distributions
        ran = [(name, cell.environment[name]) for name in names if name in cell.environment]
        installed = [f"{name} {version}" for name, version in ran]
        if not ran:
            return f"{asked} (not installed)", asked, installed
        shown = [
            version if name == primary else f"{library_name(name)} {version}"
            for name, version in ran
        ]
        return " + ".join(shown), asked, installed

    name = library_name(primary) if primary else group[:1].upper() + group[1:]
    return _line(group, name, "library", distributions, cells, key)


def _one_library(distribution: str) -> _Key:
    def key(cell: CellResult) -> tuple[str, str, list[str]]:
        version = cell.environment[distribution]
        return version, version, [f"{distribution} {version}"]

    return key


def _interpreter(cell: CellResult) -> tuple[str, str, list[str]]:
    asked = cell.interpreter or ""
    ran = cell.environment.get("python")
    return asked, asked, [ran] if ran else []


def _line(
    key: str,
    name: str,
    kind: StackKind,
    distributions: list[str],
    cells: Sequence[CellResult],
    box_of: _Key,
) -> StackVerdict:
    boxes: dict[str, list[CellResult]] = {}
    asked: dict[str, dict[str, None]] = {}
    installed: dict[str, dict[str, None]] = {}
    for cell in cells:
        box, value, ran = box_of(cell)
        boxes.setdefault(box, []).append(cell)
        asked.setdefault(box, {})[value] = None
        installed.setdefault(box, {}).update(dict.fromkeys(ran))
    versions = [
        _version(box, boxes[box], list(asked[box]), list(installed[box]))
        for box in sorted(boxes, key=natural_key)
    ]
    summary = stack_summary(versions, span=kind == "interpreter")
    return StackVerdict(key, name, kind, distributions, versions, summary)


def _version(
    box: str, cells: list[CellResult], asked: list[str], installed: list[str]
) -> InstalledVersion:
    ordered = worst_first(cells)
    worst = ordered[0]
    return InstalledVersion(
        version=box,
        state=worst.state,
        cells=[cell.cell for cell in cells],
        reason=one_line(worst.reason) if worst.state != "passed" else None,
        asked=asked,
        installed=installed,
        failing=[cell.cell for cell in ordered if cell.state != "passed"],
    )


def stack_summary(
    versions: Sequence[InstalledVersion],
    symbols: Mapping[VersionState, str] = SYMBOLS,
    *,
    span: bool = False,
) -> str:
    """`2.0.44, 2.1.9 ✅ passed`; `3.11–3.12 ✅ passed; 3.13 ❌ failed in py3.13` (`span`:
    consecutive versions as a range, for the interpreters the matrix lists; installed library
    versions are listed, for the releases between two of them were not run)."""
    order = [v.version for v in versions]
    parts: list[str] = []
    for state, symbol in symbols.items():
        group = [v for v in versions if v.state == state]
        if not group:
            continue
        shown = ranges(order, {state}, versions) if span else ", ".join(v.version for v in group)
        text = f"{shown} {symbol}"
        failing = list(dict.fromkeys(cell for v in group for cell in v.failing))
        if failing and state != "passed":
            more = len(failing) - FAILING_NAMED
            text += " in " + ", ".join(failing[:FAILING_NAMED])
            text += f" and {more} more" if more > 0 else ""
        reasons = {v.reason for v in group}
        if state in ("error", "unavailable") and len(reasons) == 1 and None not in reasons:
            text += f": {next(iter(reasons))}"
        parts.append(text)
    return "; ".join(parts) if parts else "no versions"


def cell_stack(
    cell: CellResult, lines: Sequence[StackVerdict], *, only_varied: bool = False
) -> list[str]:
    """What a cell's stack really ran, for the cells table: per stack group, the installed
    versions of its distributions (`SQLAlchemy 2.0.44`, `psycopg 3.3.9`), then the interpreter
    (`Python 3.12.1`). A group asked at the same value in every cell is no axis and not shown;
    a group whose venv was never built shows the value asked, `not installed`. `only_varied`:
    only the groups (and interpreter) the cell's id names, what it varies from the defaults."""
    by_group = {line.key: line.distributions for line in lines if line.kind == "library"}
    named = _parts_named(cell.cell)
    shown: list[str] = []
    for group, asked in cell.stack.items():
        if group not in by_group:
            continue  # the same value in every cell: no axis
        if only_varied and (asked if asked[:1].isalpha() else f"{group}-{asked}") not in named:
            continue
        names = by_group[group]
        ran = [f"{library_name(n)} {cell.environment[n]}" for n in names if n in cell.environment]
        shown += ran or [f"{group} {asked} (not installed)"]
    if cell.interpreter is not None and not (
        only_varied and python_id(cell.interpreter) not in named
    ):
        shown.append(f"Python {cell.environment.get('python') or cell.interpreter + ' (asked)'}")
    return shown


def _parts_named(cell: str) -> set[str]:
    try:
        return {version_id(*part) for part in cell_id_parts(cell)}
    except CellIdError:
        return set()
