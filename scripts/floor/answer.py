"""What a search found, kept in `<results>/floors.json` where the report reads it.

The file holds one answer per library, kind and cell: a new search replaces the earlier one
of the same three. Each answer keeps its probes (release, passed, why not, seconds), so the
answer can be checked by hand: the release below a floor fails, and the reason says why.

Standard library only (and `scripts.files`): the report imports this module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from scripts.files import atomic_write

FLOORS_FILE = "floors.json"
FLOORS_SCHEMA = "fastapi-compat-matrix/floors"
FLOORS_FORMAT = 1
DISPLAY_NAMES = {"sqlalchemy": "SQLAlchemy", "celery": "Celery", "pymysql": "PyMySQL"}
"""How the report names a library whose canonical name is not how its project writes it."""


@dataclass(frozen=True)
class ProbeRecord:
    release: str
    passed: bool
    reason: str | None
    took_s: float


@dataclass(frozen=True)
class FloorAnswer:
    """One search's answer (None when there was none, with the problem that says why)."""

    library: str
    """The canonical distribution name (`sqlalchemy`)."""
    kind: str
    """`floor` or `ceiling`."""
    cell: str
    range: str
    """The releases searched, as a PEP 440 specifier."""
    answer: str | None
    problem: str | None
    releases: int
    """How many releases the range held."""
    probes: list[ProbeRecord]
    warnings: list[str] = field(default_factory=list)
    at: str = ""
    """When the search finished (ISO 8601, UTC)."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.library, self.kind, self.cell)

    def line(self) -> str:
        """`SQLAlchemy ≥ 2.0.31 required (floor on sqlite-stdlib, 6 probes, 2026-12-01)`;
        `kombu ≤ 5.6.2 on redis-6.0 (ceiling, 5 probes, ...)`; or why there is no answer."""
        name = DISPLAY_NAMES.get(self.library, self.library)
        probes = f"{len(self.probes)} probe{'s' if len(self.probes) != 1 else ''}"
        when = f", {self.at[:10]}" if self.at else ""
        if self.answer is None:
            return f"{name}: no {self.kind} found on {self.cell} ({probes}{when}): {self.problem}"
        if self.kind == "floor":
            text = f"{name} ≥ {self.answer} required (floor on {self.cell}, {probes}{when})"
        else:
            text = f"{name} ≤ {self.answer} on {self.cell} (ceiling, {probes}{when})"
        return text + ("; " + "; ".join(self.warnings) if self.warnings else "")


def record_answer(folder: Path, answer: FloorAnswer) -> Path:
    """Add `answer` to `<folder>/floors.json`, replacing the earlier one of its library, kind
    and cell; the file's path."""
    path = folder / FLOORS_FILE
    kept = [earlier for earlier in read_answers(path) if earlier.key != answer.key]
    document = {
        "schema": FLOORS_SCHEMA,
        "format": FLOORS_FORMAT,
        "answers": [asdict(a) for a in sorted([*kept, answer], key=lambda a: a.key)],
    }
    return atomic_write(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def read_answers(path: Path) -> list[FloorAnswer]:
    """The answers in a floors.json; [] when there is none or it cannot be read (an unreadable
    file is replaced by the next search, not mended)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    if not isinstance(document, dict) or document.get("format") != FLOORS_FORMAT:
        return []
    answers: list[FloorAnswer] = []
    for entry in document.get("answers", []):
        try:
            answers.append(_answer_from_json(entry))
        except (TypeError, KeyError, AttributeError):
            continue
    return answers


def answers_in(folders: Sequence[Path]) -> list[FloorAnswer]:
    """Every answer in `<folder>/floors.json` of each folder, in file order, each key once
    (the last folder's wins)."""
    by_key: dict[tuple[str, str, str], FloorAnswer] = {}
    for folder in folders:
        for answer in read_answers(folder / FLOORS_FILE):
            by_key[answer.key] = answer
    return list(by_key.values())


def _answer_from_json(entry: object) -> FloorAnswer:
    data = cast(dict[str, Any], entry)
    probes = [ProbeRecord(**probe) for probe in data["probes"]]
    return FloorAnswer(**{**data, "probes": probes})
