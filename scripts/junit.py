"""Reading pytest's JUnit XML into per-test outcomes keyed by pytest node id."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

MESSAGE_DETAIL_CHARS = 2000
"""How much of a failure's traceback text is kept after its one-line message."""

_CLASS_SEGMENT = re.compile(r"^[A-Z]")


CaseOutcome = Literal["passed", "failed", "skipped", "error", "xfailed"]


@dataclass(frozen=True)
class JUnitCase:
    """One <testcase>, named by its pytest node id."""

    id: str
    group: str  # the test's module path
    outcome: CaseOutcome
    duration: float
    message: str | None


# How bad an outcome is when one test id appears more than once (xdist, teardown errors).
_SEVERITY: dict[CaseOutcome, int] = {
    "passed": 0,
    "xfailed": 1,
    "skipped": 2,
    "failed": 3,
    "error": 4,
}


class JUnitError(Exception):
    """The file is not a readable pytest JUnit XML report; the message says why."""


@dataclass(frozen=True)
class JUnitReport:
    tests: list[JUnitCase]
    suites: int
    """How many <testsuite> elements the file held (0 means nothing was reported at all)."""


def read_junit(path: Path, *, root: Path | None = None) -> JUnitReport:
    """Parse one pytest `--junitxml` file; raise `JUnitError` with a readable reason."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise JUnitError(f"JUnit XML {path} does not exist (pytest wrote no report)") from None
    except OSError as error:
        raise JUnitError(f"cannot read JUnit XML {path}: {error.strerror}") from None
    if not data.strip():
        raise JUnitError(f"JUnit XML {path} is empty (pytest was probably killed)")
    try:
        # the file is pytest's own output on this machine, not untrusted input
        document = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as error:
        raise JUnitError(
            f"JUnit XML {path} is not well-formed ({error}); truncated or not XML"
        ) from None
    if document.tag == "testsuites":
        suites = document.findall("testsuite")
    elif document.tag == "testsuite":
        suites = [document]
    else:
        raise JUnitError(
            f"{path} is XML but not a JUnit report: root element <{document.tag}>,"
            " expected <testsuites> or <testsuite>"
        )
    cases = (case for suite in suites for case in suite.iter("testcase"))
    return JUnitReport(
        tests=merge_duplicates(_outcome(case, root) for case in cases), suites=len(suites)
    )


def merge_duplicates(outcomes: Iterable[JUnitCase]) -> list[JUnitCase]:
    """One entry per test id, keeping the worst outcome (a teardown error beats a pass)."""
    by_id: dict[str, JUnitCase] = {}
    for outcome in outcomes:
        seen = by_id.get(outcome.id)
        if seen is None or _SEVERITY[outcome.outcome] > _SEVERITY[seen.outcome]:
            by_id[outcome.id] = outcome
    return list(by_id.values())


def _outcome(case: ElementTree.Element, root: Path | None) -> JUnitCase:
    node_id, group = node_id_of(
        classname=case.get("classname", ""),
        name=case.get("name", ""),
        file=case.get("file"),
        root=root,
    )
    kind: CaseOutcome = "passed"
    message: str | None = None
    failure, error, skipped = case.find("failure"), case.find("error"), case.find("skipped")
    if failure is not None:
        kind, message = "failed", _message(failure)
    elif error is not None:
        kind, message = "error", _message(error)
    elif skipped is not None:
        kind = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
        message = skipped.get("message") or None
    return JUnitCase(
        id=node_id, group=group, outcome=kind, duration=_seconds(case.get("time")), message=message
    )


def node_id_of(
    *, classname: str, name: str, file: str | None, root: Path | None = None
) -> tuple[str, str]:
    """Rebuild pytest's node id and the test's module path from a <testcase>'s attributes.

    `classname` is the dotted module path followed by any class names
    ("tests.integration.test_users_api.TestUserLifecycle"). The module part is found from
    the `file` attribute (junit_family=xunit1), else from a module file that exists under
    `root`, else by taking the trailing capitalised segments as classes (pytest's `Test*`).
    """
    if not classname:
        # a collection error: pytest puts the dotted module path in `name`
        module = name.replace(".", "/") + ".py" if not name.endswith(".py") else name
        return module, module
    parts = classname.split(".")
    module_parts = _module_parts(parts, file, root)
    module = file if file else "/".join(module_parts) + ".py"
    module = PurePosixPath(module).as_posix()
    classes = parts[len(module_parts) :]
    return "::".join([module, *classes, name]), module


def _module_parts(parts: list[str], file: str | None, root: Path | None) -> list[str]:
    if file:
        file_parts = PurePosixPath(file).with_suffix("").parts
        if tuple(parts[: len(file_parts)]) == file_parts:
            return parts[: len(file_parts)]
        # conftest-relative or rootdir-relative mismatch: module is the dotted prefix
        # with as many segments as the file's stem path has
        return parts[: max(1, min(len(parts), len(file_parts)))]
    if root is not None:
        for end in range(len(parts), 0, -1):
            if root.joinpath(*parts[:end]).with_suffix(".py").is_file():
                return parts[:end]
    end = len(parts)
    while end > 1 and _CLASS_SEGMENT.match(parts[end - 1]):
        end -= 1
    return parts[:end]


def _message(element: ElementTree.Element) -> str:
    headline = (element.get("message") or "").strip()
    detail = (element.text or "").strip()
    if len(detail) > MESSAGE_DETAIL_CHARS:
        detail = "…" + detail[-MESSAGE_DETAIL_CHARS:]
    if headline and detail:
        return f"{headline}\n\n{detail}"
    return headline or detail or f"{element.tag} without a message"


def _seconds(value: str | None) -> float:
    try:
        return round(float(value), 3) if value else 0.0
    except ValueError:
        return 0.0
