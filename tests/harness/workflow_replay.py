"""Replaying a GitHub Actions job on this machine, from the workflow file itself.

`run:` steps run as the runner runs them (`bash -e`, the workflow's, job's and step's `env`
with their expressions evaluated, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, `$RUNNER_TEMP`),
in the repository as the working directory. `uses:` steps are emulated where this machine can
do their job for real: the artifact actions copy folders into and out of an `ArtifactStore`
(named and laid out as upload-artifact@v4 / download-artifact@v4 do), the Pages actions hand
a site to a local folder standing in for GitHub Pages (upload-pages-artifact@v3 stores the
`github-pages` artifact as its tar, deploy-pages@v4 unpacks it into `pages_site`), and the
set-up actions (checkout, setup-python, cache) are skipped because the repository and its
Python are already here. Any other action makes the replay fail, so a new step cannot be
silently left out.

A job that calls a reusable workflow of this repository (`uses: ./.github/workflows/<file>`)
is followed into it with `follow_call`: the called file's jobs are then replayed, with the
inputs GitHub would give them (the caller's `with:` evaluated, the declared defaults filling
the rest, each checked against its declared type).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scripts.pytest_plugin.naming import RUN_ID_ENV
from scripts.sources.unpack import unpack_tar
from tests.harness.workflow_expressions import EXPRESSION, Evaluator, as_text

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
LOCAL_CALL_PREFIX = "./.github/workflows/"
SETUP_ACTIONS = ("actions/checkout", "actions/setup-python", "actions/cache")
UPLOAD_ACTION = "actions/upload-artifact"
DOWNLOAD_ACTION = "actions/download-artifact"
UPLOAD_PAGES_ACTION = "actions/upload-pages-artifact"
DEPLOY_PAGES_ACTION = "actions/deploy-pages"
PAGES_ARTIFACT = "github-pages"
# set by the pytest run that replays the workflow; a fresh runner has none of them
OUTER_RUN_VARIABLES = frozenset(
    {RUN_ID_ENV, "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SQLITE_MODULE"}
)


class ReplayError(Exception):
    """The workflow asks for something the replay cannot do on this machine."""


def load_workflow(name: str) -> dict[str, Any]:
    """The parsed `.github/workflows/<name>`; PyYAML reads the `on:` key as True, fixed here."""
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS_DIR / name).read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


@dataclass(frozen=True)
class WorkflowCall:
    """A caller's job that runs a reusable workflow: the called file, parsed, and its inputs."""

    name: str
    workflow: dict[str, Any]
    inputs: dict[str, Any]


def follow_call(
    caller: Mapping[str, Any], job_id: str, contexts: Mapping[str, Any]
) -> WorkflowCall:
    """The workflow the job `job_id` of `caller` calls, with the inputs it would get there.

    `contexts` are the caller's (`inputs`, `github`) against which its `with:` is evaluated.
    An input the called file does not declare, a required one left out, or a value of the
    wrong type stops the replay as it stops GitHub before the run starts.
    """
    job = caller["jobs"][job_id]
    uses = str(job.get("uses", ""))
    if not uses.startswith(LOCAL_CALL_PREFIX):
        raise ReplayError(f"job {job_id!r} calls {uses!r}: only this repository's are followed")
    name = uses.removeprefix(LOCAL_CALL_PREFIX)
    called = load_workflow(name)
    trigger = called["on"].get("workflow_call") if isinstance(called["on"], dict) else None
    if trigger is None:
        raise ReplayError(f"{name} has no `on: workflow_call`: it cannot be called")
    declared: dict[str, Any] = trigger.get("inputs") or {}
    given: dict[str, Any] = dict(job.get("with") or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ReplayError(f"job {job_id!r} gives {name} inputs it does not declare: {unknown}")
    evaluator = Evaluator(contexts)
    inputs: dict[str, Any] = {}
    for input_name, spec in declared.items():
        if input_name in given:
            value = _with_value(given[input_name], evaluator)
        elif "default" in spec:
            value = spec["default"]
        elif spec.get("required"):
            raise ReplayError(f"job {job_id!r} leaves out {name}'s required input {input_name!r}")
        else:
            value = None
        inputs[input_name] = _typed(value, spec.get("type"), f"{name} input {input_name!r}")
    return WorkflowCall(name, called, inputs)


def _with_value(value: Any, evaluator: Evaluator) -> Any:
    """A `with:` value: a lone `${{ ... }}` keeps its type, any other text is substituted."""
    if isinstance(value, str):
        whole = EXPRESSION.fullmatch(value.strip())
        return evaluator.evaluate(whole.group(1)) if whole else evaluator.substitute(value)
    return value


def _typed(value: Any, kind: Any, what: str) -> Any:
    """`value` as GitHub hands an input of type `kind` (string, boolean, number) to the callee."""
    if value is None:
        return {"string": "", "boolean": False, "number": 0}.get(str(kind))
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ReplayError(f"{what} is of type {kind}, given {value!r}")


def find_step(job: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The step of `job` whose `id:` or `name:` is `key`."""
    for step in job["steps"]:
        if key in (step.get("id"), step.get("name")):
            return dict(step)
    known = [step.get("id") or step.get("name") or step.get("uses") for step in job["steps"]]
    raise ReplayError(f"no step with id or name {key!r}; the job's steps: {known}")


class ArtifactStore:
    """Artifacts of replayed runs: `<root>/<run-id>/<artifact-name>/...`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run_folder(self, run_id: int) -> Path:
        return self.root / str(run_id)

    def names(self, run_id: int) -> list[str]:
        folder = self.run_folder(run_id)
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def upload(self, run_id: int, name: str, paths: Sequence[Path]) -> Path:
        """Store `paths` as upload-artifact does: relative to their least common ancestor."""
        existing = [path for path in paths if path.exists()]
        if not existing:
            raise ReplayError(f"artifact {name!r}: none of {[str(p) for p in paths]} exists")
        if len(existing) == 1 and existing[0].is_dir():
            root = existing[0]
        else:
            root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in existing]))
        target = self.run_folder(run_id) / name
        if target.exists():
            raise ReplayError(f"artifact {name!r} uploaded twice in run {run_id}")
        for path in existing:
            destination = target / path.relative_to(root)
            if path.is_dir():
                shutil.copytree(path, destination, dirs_exist_ok=True)
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
        return target

    def download(
        self, run_id: int, *, name: str | None, pattern: str | None, path: Path, merge: bool
    ) -> list[str]:
        """Lay artifacts out as download-artifact@v4 does; the names downloaded."""
        if name is not None:
            chosen = [name] if name in self.names(run_id) else []
            if not chosen:
                raise ReplayError(f"no artifact {name!r} in run {run_id}: {self.names(run_id)}")
        else:
            chosen = [n for n in self.names(run_id) if fnmatch.fnmatchcase(n, pattern or "*")]
        for artifact in chosen:
            single = name is not None
            target = path if single or merge else path / artifact
            shutil.copytree(self.run_folder(run_id) / artifact, target, dirs_exist_ok=True)
        return chosen


@dataclass
class StepOutcome:
    key: str
    outcome: str  # success | failure | skipped | emulated
    exit_code: int | None = None
    log: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobOutcome:
    job: str
    steps: list[StepOutcome]
    outputs: dict[str, str]
    summary: str
    failed: bool

    def step(self, key: str) -> StepOutcome:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(f"no step {key!r}; ran: {[s.key for s in self.steps]}")

    def describe(self) -> str:
        """Every step's outcome with the tail of its log, for assertion messages."""
        parts = []
        for step in self.steps:
            tail = "\n".join(step.log.splitlines()[-30:])
            parts.append(f"--- {step.key}: {step.outcome} (exit {step.exit_code})\n{tail}")
        return "\n".join(parts)


@dataclass
class JobReplay:
    """One job of one workflow, replayed in `workspace` as run `run_id` of the store."""

    workflow: Mapping[str, Any]
    job_id: str
    workspace: Path
    temp: Path
    store: ArtifactStore
    run_id: int
    inputs: Mapping[str, Any] = field(default_factory=dict)
    matrix: Mapping[str, Any] = field(default_factory=dict)
    needs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    env_overrides: Mapping[str, str] = field(default_factory=dict)
    skip: Sequence[str] = ()
    extra_path: Sequence[Path] = ()
    timeout: float = 600
    pages_site: Path | None = None  # where deploy-pages publishes; None: Pages is off

    @property
    def job(self) -> dict[str, Any]:
        job: dict[str, Any] = self.workflow["jobs"][self.job_id]
        return job

    def contexts(self, env: Mapping[str, str], steps: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "github": {
                "token": "replay-no-token",
                "repository": "replay/replay",
                "ref": "refs/heads/main",
                "ref_name": "main",
                "run_id": str(self.run_id),
                "server_url": "https://github.com",
                "sha": "5e1f" * 10,
                "event_name": "workflow_dispatch",
            },
            "inputs": dict(self.inputs),
            "matrix": dict(self.matrix),
            "needs": {job: dict(value) for job, value in self.needs.items()},
            "env": dict(env),
            "steps": dict(steps),
            "runner": {"os": "Linux", "temp": str(self.temp)},
        }

    def matrix_entries(self) -> list[dict[str, Any]]:
        """The job's `strategy.matrix` include list, evaluated against `needs`."""
        expression = self.job["strategy"]["matrix"]
        value = Evaluator(self.contexts({}, {})).evaluate(_inner(expression))
        entries: list[dict[str, Any]] = value["include"]
        return entries

    def run(self) -> JobOutcome:
        self.temp.mkdir(parents=True, exist_ok=True)
        env: dict[str, str] = {}
        for layer in (self.workflow.get("env", {}), self.job.get("env", {})):
            for name, value in layer.items():
                evaluator = Evaluator(self.contexts(env, {}))
                env[name] = self.env_overrides.get(name, evaluator.substitute(str(value)))
        env.update(self.env_overrides)
        steps_context: dict[str, Any] = {}
        outcomes: list[StepOutcome] = []
        summary: list[str] = []
        failed = False
        for index, step in enumerate(self.job["steps"]):
            key = step.get("id") or step.get("name") or f"step-{index}"
            evaluator = Evaluator(self.contexts(env, steps_context), job_failed=failed)
            if key in self.skip or not evaluator.condition(_condition(step.get("if"))):
                outcomes.append(StepOutcome(key, "skipped"))
                continue
            if "uses" in step:
                outcome = self._use(step, key, evaluator)
            else:
                outcome = self._run(step, key, env, evaluator, index, summary)
            outcomes.append(outcome)
            if step.get("id"):
                steps_context[step["id"]] = {
                    "outputs": outcome.outputs,
                    "outcome": outcome.outcome,
                }
            if outcome.outcome == "failure" and not step.get("continue-on-error"):
                failed = True
        final = Evaluator(self.contexts(env, steps_context), job_failed=failed)
        outputs = {
            name: final.substitute(str(value))
            for name, value in self.job.get("outputs", {}).items()
        }
        return JobOutcome(self.job_id, outcomes, outputs, "".join(summary), failed)

    def _run(
        self,
        step: Mapping[str, Any],
        key: str,
        env: Mapping[str, str],
        evaluator: Evaluator,
        index: int,
        summary: list[str],
    ) -> StepOutcome:
        step_env = dict(env)
        for name, value in step.get("env", {}).items():
            step_env[name] = evaluator.substitute(str(value))
        script = self.temp / f"step-{index}.sh"
        script.write_text(evaluator.substitute(step["run"]))
        output_file = self.temp / f"step-{index}.output"
        summary_file = self.temp / f"step-{index}.summary"
        output_file.write_text("")
        summary_file.write_text("")
        process_env = {
            **runner_environment(),
            "PATH": os.pathsep.join(
                [*map(str, self.extra_path), str(Path(sys.executable).parent), os.environ["PATH"]]
            ),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "GITHUB_REF_NAME": "main",
            "GITHUB_RUN_ID": str(self.run_id),
            "RUNNER_TEMP": str(self.temp),
            **step_env,
        }
        shell = step.get("shell", self.job.get("defaults", {}).get("run", {}).get("shell"))
        command = ["bash", "-e", str(script)]
        if shell == "bash":
            command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
        elif shell is not None:
            raise ReplayError(f"step {key!r}: shell {shell!r} is not replayed")
        completed = subprocess.run(  # noqa: S603 - the workflow's own script
            command,
            cwd=self.workspace,
            env=process_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        summary.append(summary_file.read_text())
        return StepOutcome(
            key,
            "success" if completed.returncode == 0 else "failure",
            completed.returncode,
            completed.stdout,
            read_outputs(output_file.read_text()),
        )

    def _use(self, step: Mapping[str, Any], key: str, evaluator: Evaluator) -> StepOutcome:
        action = str(step["uses"]).split("@")[0]
        if action in SETUP_ACTIONS:
            return StepOutcome(key, "emulated", log=f"{action}: already set up on this machine")
        inputs = {
            name: evaluator.substitute(as_text(v)) for name, v in step.get("with", {}).items()
        }
        if action == UPLOAD_ACTION:
            paths = [self._path(line) for line in inputs["path"].splitlines() if line.strip()]
            try:
                target = self.store.upload(self.run_id, inputs["name"], paths)
            except ReplayError as error:
                if inputs.get("if-no-files-found", "warn") == "error":
                    return StepOutcome(key, "failure", 1, log=str(error))
                return StepOutcome(key, "emulated", log=str(error))
            return StepOutcome(key, "success", 0, log=f"uploaded {target}")
        if action == DOWNLOAD_ACTION:
            names = self.store.download(
                self.run_id,
                name=inputs.get("name"),
                pattern=inputs.get("pattern"),
                path=self._path(inputs.get("path", ".")),
                merge=inputs.get("merge-multiple", "false") == "true",
            )
            return StepOutcome(key, "success", 0, log=f"downloaded {names}")
        if action == UPLOAD_PAGES_ACTION:
            return self._upload_pages(key, self._path(inputs.get("path", "_site/")))
        if action == DEPLOY_PAGES_ACTION:
            return self._deploy_pages(key)
        raise ReplayError(f"step {key!r} uses {action}, which the replay cannot emulate")

    def _upload_pages(self, key: str, site: Path) -> StepOutcome:
        """As upload-pages-artifact does: the folder as `artifact.tar` in `github-pages`."""
        if not site.is_dir():
            return StepOutcome(key, "failure", 1, log=f"no folder {site} to upload")
        bundle = self.temp / "artifact.tar"
        with tarfile.open(bundle, "w") as tar:
            for path in sorted(site.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(site)), recursive=False)
        target = self.store.upload(self.run_id, PAGES_ARTIFACT, [bundle])
        return StepOutcome(key, "success", 0, log=f"uploaded {target}")

    def _deploy_pages(self, key: str) -> StepOutcome:
        """As deploy-pages does: this run's `github-pages` artifact becomes the whole site."""
        if self.pages_site is None:
            return StepOutcome(key, "failure", 1, log="Pages is not enabled for this repository")
        bundle = self.store.run_folder(self.run_id) / PAGES_ARTIFACT / "artifact.tar"
        if not bundle.is_file():
            return StepOutcome(key, "failure", 1, log=f"no {PAGES_ARTIFACT} artifact in the run")
        if self.pages_site.exists():
            shutil.rmtree(self.pages_site)
        self.pages_site.mkdir(parents=True)
        unpack_tar(bundle, self.pages_site, what=f"the {PAGES_ARTIFACT} artifact")
        url = self.pages_site.as_uri() + "/"
        return StepOutcome(key, "success", 0, log=f"deployed to {url}", outputs={"page_url": url})

    def _path(self, text: str) -> Path:
        path = Path(text.strip()).expanduser()
        return path if path.is_absolute() else self.workspace / path


def runner_environment() -> dict[str, str]:
    """This process's environment less what the test run around the replay set for itself."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in OUTER_RUN_VARIABLES and not name.startswith("PYTEST_")
    }


def read_outputs(text: str) -> dict[str, str]:
    """Parse a `$GITHUB_OUTPUT` file: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block: list[str] = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            outputs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def _inner(expression: str) -> str:
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        return text[3:-2].strip()
    return text


def _condition(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
