"""Per-test outcomes come from pytest itself: a small real suite, run through the harness's
plugin with and without pytest-xdist, gives the result model pytest's own node ids, files,
lines, outcomes and exception lines (parametrised ids with `::`, `[`, spaces, `-` and
non-ASCII, a class, a nested folder, a test inherited from another file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.paths import REPO_ROOT
from scripts.progress_log import PROGRESS_FILE_ENV, read_progress
from scripts.results import Axis, CellResult, Timings, build_result

BASE = """
class SharedChecks:
    def test_inherited(self):
        assert self.value == 2
"""
SHAPES = """
import pytest

from pkg.deep.base_checks import SharedChecks


@pytest.fixture
def breaks_on_teardown():
    yield
    raise RuntimeError("teardown broke")


@pytest.fixture
def breaks_on_setup():
    raise LookupError("setup broke")


class TestShapes:
    @pytest.mark.parametrize(
        "text", ["a::b", "c[d]", "two words", "é-ü"], ids=["a::b", "c[d]", "two words", "é-ü"]
    )
    def test_ids(self, text):
        assert text != "c[d]"


class TestInherits(SharedChecks):
    value = 3


def test_chained():
    try:
        {}["key"]
    except KeyError as error:
        raise ValueError("wrapped") from error


def test_teardown_error(breaks_on_teardown):
    pass


def test_setup_error(breaks_on_setup):
    pass


@pytest.mark.xfail(reason="known")
def test_xfailed():
    assert 0


@pytest.mark.xfail(reason="maybe")
def test_xpassed():
    pass


@pytest.mark.xfail(reason="strict", strict=True)
def test_strict_xpass():
    pass


def test_skipped():
    pytest.skip("not here")
"""
MODULE = "pkg/deep/test_shapes.py"
BASE_MODULE = "pkg/deep/base_checks.py"
DECORATED = "@pytest.mark.parametrize("
EXPECTED = {
    # node id: (outcome, file, where its definition starts (its first decorator), where it failed)
    f"{MODULE}::TestShapes::test_ids[a::b]": ("passed", MODULE, DECORATED, None),
    f"{MODULE}::TestShapes::test_ids[c[d]]": ("failed", MODULE, DECORATED, "assert text"),
    f"{MODULE}::TestShapes::test_ids[two words]": ("passed", MODULE, DECORATED, None),
    # pytest escapes non-ASCII in ids: this is the node id it gives
    f"{MODULE}::TestShapes::test_ids[\\xe9-\\xfc]": ("passed", MODULE, DECORATED, None),
    f"{MODULE}::TestInherits::test_inherited": (
        "failed", BASE_MODULE, "def test_inherited", "assert self.value",
    ),
    f"{MODULE}::test_chained": ("failed", MODULE, "def test_chained", 'raise ValueError'),
    f"{MODULE}::test_teardown_error": (
        "error", MODULE, "def test_teardown_error", 'raise RuntimeError'
    ),
    f"{MODULE}::test_setup_error": ("error", MODULE, "def test_setup_error", "raise LookupError"),
    f"{MODULE}::test_xfailed": ("xfailed", MODULE, 'reason="known"', "assert 0"),
    f"{MODULE}::test_xpassed": ("xpassed", MODULE, 'reason="maybe"', None),
    f"{MODULE}::test_strict_xpass": ("failed", MODULE, 'reason="strict"', None),
    f"{MODULE}::test_skipped": ("skipped", MODULE, "def test_skipped", None),
}  # fmt: skip


def _line_of(folder: Path, file: str, text: str) -> int:
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def _run_suite(
    folder: Path, workers: list[str], modules: dict[str, str] | None = None, exit_code: int = 1
) -> CellResult:
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    deep = folder / "pkg" / "deep"
    deep.mkdir(parents=True)
    for package in (folder / "pkg", deep):
        (package / "__init__.py").write_text("", encoding="utf-8")
    for name, text in (modules or {"base_checks.py": BASE, "test_shapes.py": SHAPES}).items():
        (deep / name).write_text(text, encoding="utf-8")
    progress = folder / "progress.jsonl"
    env = {
        **os.environ,
        PROGRESS_FILE_ENV: str(progress),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(folder)]),
    }
    command = [sys.executable, "-m", "pytest", "-p", "scripts.suite_progress", "-p",
               "no:cacheprovider", "-q", "pkg", *workers]  # fmt: skip
    done = subprocess.run(  # noqa: S603 - our own interpreter
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == exit_code, done.stdout + done.stderr
    return build_result(
        cell="sqlite-stdlib",
        axes={"database": Axis("sqlite", "stdlib")},
        servers=[],
        first=read_progress(progress),
        rerun=None,
        timings=Timings(0.0, 0.0, 0.0, 0.0),
        started_at="",
        finished_at="",
        pytest_exit_code=done.returncode,
        output_tail=done.stdout,
    )


@pytest.fixture(scope="module", params=[["-n", "0"], ["-n", "2"]], ids=["one process", "xdist"])
def suite_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, CellResult]:
    folder = tmp_path_factory.mktemp("suite")
    return folder, _run_suite(folder, request.param)


def test_node_ids_files_lines_and_outcomes_are_pytests_own(
    suite_run: tuple[Path, CellResult],
) -> None:
    folder, result = suite_run
    tests = {test.id: test for test in result.tests}
    assert {test_id: test.outcome for test_id, test in tests.items()} == {
        test_id: outcome for test_id, (outcome, *_) in EXPECTED.items()
    }
    for test_id, (_, file, definition, failing) in EXPECTED.items():
        test = tests[test_id]
        assert (test.group, test.file) == (MODULE, file), test_id
        assert test.line == _line_of(folder, file, definition), test_id
        failed_at = None if failing is None else _line_of(folder, file, failing)
        assert test.failed_line == failed_at, test_id


def test_messages_are_the_exception_lines_pytest_states(
    suite_run: tuple[Path, CellResult],
) -> None:
    folder, result = suite_run
    messages = {test.id.rsplit("::", 1)[-1]: test.message for test in result.tests}
    assert messages["test_chained"] == "ValueError: wrapped"
    assert messages["test_teardown_error"] == "RuntimeError: teardown broke"
    assert messages["test_setup_error"] == "LookupError: setup broke"
    assert messages["test_skipped"] == "not here"
    assert messages["test_strict_xpass"] == "[XPASS(strict)] strict"
    assert messages["test_ids[c[d]]"] == "AssertionError: assert 'c[d]' != 'c[d]'"
    assert messages["test_xpassed"] is None
    # the whole chain is kept in the log, the first raised first: the root error is its cause
    chain = read_progress(folder / "progress.jsonl").finished[f"{MODULE}::test_chained"]
    assert chain.exceptions == ("KeyError: 'key'", "ValueError: wrapped")
    assert result.state == "failed"
    assert (result.counts["failed"], result.counts["error"]) == (4, 2)


def test_a_killed_run_keeps_every_line_written_before_the_kill(
    suite_run: tuple[Path, CellResult], tmp_path: Path
) -> None:
    lines = (suite_run[0] / "progress.jsonl").read_text(encoding="utf-8").splitlines()
    finished = [json.loads(line)["id"] for line in lines if '"finish"' in line]
    log = tmp_path / "progress.jsonl"
    log.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20], encoding="utf-8")
    assert list(read_progress(log).finished) == finished[:-1]


def test_a_module_that_cannot_be_collected_is_an_error_named_by_its_node_id(
    tmp_path: Path,
) -> None:
    modules = {"test_broken.py": "import a_module_that_is_not_there\n"}
    result = _run_suite(tmp_path, ["-n", "0"], modules, exit_code=2)
    (test,) = result.tests
    broken = "pkg/deep/test_broken.py"
    assert (test.id, test.group, test.file, test.outcome) == (broken, broken, broken, "error")
    assert test.message == "ModuleNotFoundError: No module named 'a_module_that_is_not_there'"
    assert result.state == "error"
