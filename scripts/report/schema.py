"""`compat.schema.json`, generated from the report's and the results' dataclasses.

    schema()                  the JSON Schema of reports/compat.json, as a dict
    write_schema(path=None)   write it (to `SCHEMA_FILE`, checked in beside this module)

The fields, their types, which are required and the enums of the states and outcomes come
from the classes (`scripts.report.model`, `scripts.results`, `scripts.prepare_step`); this
module adds only what type hints cannot say: how a few classes are written (a property
written beside the fields, the history's note, a cause written as its text), descriptions,
minimums and patterns. Standard library only, like the classes it reads. A harness test
fails when the checked-in file differs from `schema()`: regenerate it with
`python -c 'from scripts.report.schema import write_schema; write_schema()'`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from scripts.json_schema import JsonSchema, SchemaBuilder, Shape
from scripts.prepare_step import MigrationsOutcome
from scripts.report.model import (
    REPORT_FORMAT,
    REPORT_SCHEMA,
    BackendVerdict,
    Cause,
    Diff,
    FirstFailure,
    FlakyTest,
    InstalledVersion,
    Night,
    Report,
    RunInfo,
    StackVerdict,
    Summary,
    Trends,
    VersionState,
    VersionVerdict,
)
from scripts.results import (
    RESULT_FORMAT,
    CellResult,
    CellState,
    ServerInfo,
    TestOutcome,
    TestOutcomeKind,
    Timings,
)
from scripts.vocabulary import Role

SCHEMA_FILE = Path(__file__).with_name("compat.schema.json")
REGENERATE = "python -m scripts schema"
SOURCE_KINDS = ["image", "binaries", "url", "library", None]

_AT_LEAST_0 = {"minimum": 0}


def _described(text: str, **more: Any) -> JsonSchema:
    return {"description": text, **more}


SHAPES: dict[type, Shape] = {
    Report: Shape(
        added={
            "schema": Literal[REPORT_SCHEMA],
            "format": Literal[REPORT_FORMAT],
            "summary": Summary,
        },
        renamed={"trends": "history"},
        left_out=frozenset({"history_note"}),  # written as the history's note
        notes={
            "verdict": _described("one entry per backend, in backend order"),
            "stack_verdict": _described(
                "a line per library whose version differed between cells, then the interpreter"
            ),
            "diff": _described("null when there was no previous report to compare with"),
            "history": _described(
                "what the history file says beyond this run; null when no history is kept"
            ),
            "floors": _described(
                "a line per floor or ceiling `python -m scripts floor` found (floors.json)"
            ),
        },
        optional=frozenset({"floors"}),
    ),
    RunInfo: Shape(
        notes={
            "generated_at": _described("ISO 8601, UTC", format="date-time"),
            "git_commit": {"pattern": "^[0-9a-f]{40}$"},
            "python": _described("Python version that rendered the report"),
            "matrix_sha256": {"pattern": "^[0-9a-f]{64}$"},
        }
    ),
    Summary: Shape(
        notes={
            "cells": _AT_LEAST_0,
            "states": {
                "required": ["passed", "failed", "flaky", "error", "unavailable"],
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "line": _described("the one-line verdict the command line prints"),
        }
    ),
    BackendVerdict: Shape(
        notes={
            "role": {"enum": ["database", "cache"]},
            "summary": _described('e.g. "13–16, 18 ✅; 17 ❌ failed"'),
            "supported": _described('passed versions as ranges, "" when none'),
        }
    ),
    VersionVerdict: Shape(
        optional=frozenset({"since"}),
        notes={
            "cells": _described("the cells that count for this version (its own axis cell)"),
            "since": _described(
                "the date since which the history shows this state; null without a history",
                pattern=r"^\d{4}-\d{2}-\d{2}$",
            ),
        },
    ),
    CellResult: Shape(
        optional=frozenset({"migrations"}),
        notes={
            "format": {"const": RESULT_FORMAT},
            "counts": {
                "required": ["passed", "failed", "skipped", "error", "flaky", "xfailed", "xpassed"],
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "migrations": _described(
                "the database-preparing step and the migrations test group together; null when"
                " neither ran (absent in results from before migrations)"
            ),
            "stack": _described(
                "stack group → the value the cell asked for; {} without stacks (absent in"
                " results from before them)"
            ),
            "interpreter": _described(
                'the Python version asked for ("3.12"); null without a python axis (absent in'
                " results from before it)"
            ),
            "environment": _described(
                'what the cell ran: "python" (full version), "platform", and each reported'
                " distribution → its installed version"
            ),
        },
    ),
    StackVerdict: Shape(
        notes={
            "key": _described('the stack group, a distribution no group explains, or "python"'),
            "summary": _described('e.g. "2.0.44, 2.1.9 ✅ passed; …" or "3.11–3.13 ✅ passed"'),
        }
    ),
    InstalledVersion: Shape(
        optional=frozenset({"since"}),
        notes={
            "version": _described("the installed version(s) that ran, or the Python asked"),
            "cells": _described("the cells that count for this version"),
            "failing": _described("its counted cells that did not pass, worst first"),
        },
    ),
    ServerInfo: Shape(
        notes={
            "requested": _described("the version matrix.toml names"),
            "reported": _described("the server's own version string"),
            "source": {"enum": SOURCE_KINDS},
        }
    ),
    TestOutcome: Shape(
        optional=frozenset({"file", "line", "failed_line"}),
        notes={
            "id": _described("pytest node id, as pytest gives it"),
            "group": _described("test module path (the node id's file part)"),
            "duration": _AT_LEAST_0,
            "message": _described(
                "the first failure's exception line, as pytest states it, or why it was skipped"
            ),
            "file": _described("the file defining the test, as pytest reports its location"),
            "line": _described("1-based line in `file` where the test's definition starts"),
            "failed_line": _described("1-based line in `file` where the first failure was"),
        },
    ),
    Timings: Shape(
        notes={name: _AT_LEAST_0 for name in ("provision_s", "tests_s", "teardown_s", "total_s")}
    ),
    MigrationsOutcome: Shape(
        notes={
            "command": _described(
                'the preparing step, e.g. "alembic upgrade head" ("" when only the test group ran)'
            ),
            "step": _described(
                "when failed: the revision being applied, or the migrations test that failed"
            ),
            "message": _described("when failed: the server's message"),
            "seconds": _described("how long the preparing step took", minimum=0),
        }
    ),
    Diff: Shape(
        added={"empty": bool},
        notes={"regressions": _described("passed (or flaky) before, failed or error now")},
    ),
    Trends: Shape(
        added={"note": str | None},
        notes={
            "path": _described("the history file (history.json.gz)"),
            "nights": _described("the runs kept, oldest first, this one last"),
            "strips": _described("cell → its state per night (null: not in that run)"),
            "note": _described("why a new history was started"),
        },
    ),
    Night: Shape(notes={"index": _described("0 = the oldest run kept", minimum=0)}),
    FirstFailure: Shape(
        notes={
            "test": _described("null for the whole cell"),
            "night": _described("the first run of the failing streak"),
            "cause": _described("what changed from the run before it"),
        }
    ),
    Cause: Shape(written_as=str),  # `Cause.text()`
    FlakyTest: Shape(
        added={"rate": float},
        notes={
            "flaky_nights": {"minimum": 1},
            "nights": {"minimum": 1},
            "rate": {"minimum": 0, "maximum": 1},
        },
    ),
}
NAMES: dict[object, str] = {
    CellState: "CellState",
    TestOutcomeKind: "Outcome",
    VersionState: "VersionState",
    Role: "Role",
}


def schema() -> JsonSchema:
    """The JSON Schema of compat.json (whose cells are the cells' result.json documents)."""
    builder = SchemaBuilder(SHAPES, NAMES)
    top = builder.object_of(Report)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/fastapi-compat-matrix/compat.schema.json",
        "title": f"Compatibility report (reports/compat.json), format {REPORT_FORMAT}",
        "description": (
            "One run of the compatibility matrix: run metadata, every cell with every test's"
            " outcome, the verdict per backend and the difference from the previous report."
            " `format` changes when a field changes meaning or is removed. Generated from the"
            f" harness's classes: regenerate with {REGENERATE}"
        ),
        **{key: value for key, value in top.items() if key != "description"},
        "$defs": dict(sorted(builder.defs.items())),
    }


def schema_text() -> str:
    """`schema()` as the checked-in file holds it."""
    return json.dumps(schema(), ensure_ascii=False, indent=2) + "\n"


def write_schema(path: Path | None = None) -> Path:
    """Write the schema to `path` (default: the checked-in `SCHEMA_FILE`); returns the path."""
    target = path or SCHEMA_FILE
    target.write_text(schema_text(), encoding="utf-8")
    return target


def check_or_write_schema(*, check: bool) -> int:
    """`python -m scripts schema [--check]`: write the schema file, or (`check`) say whether
    the checked-in one is current: 0 when it is, 1 with the command that mends it."""
    if not check:
        print(f"wrote {write_schema()}")
        return 0
    if SCHEMA_FILE.read_text(encoding="utf-8") == schema_text():
        print(f"{SCHEMA_FILE.name} is current")
        return 0
    print(f"error: {SCHEMA_FILE} is out of date: regenerate with {REGENERATE}", file=sys.stderr)
    return 1
