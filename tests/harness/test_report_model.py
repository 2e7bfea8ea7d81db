"""compat.json: valid against its JSON Schema, and marks exactly what was planted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scripts.__main__ import main
from scripts.matrix import load_matrix
from scripts.report import schema as schema_module
from scripts.report.build import Written
from scripts.report.run_info import git_commit
from scripts.report.schema import REGENERATE, SCHEMA_FILE, schema_text
from tests.harness.report_scenario import CASE_TEST, EXPECTED_STATES, FLAKY_TEST, PlantedRun

SCHEMA = SCHEMA_FILE


def _document(written: Written) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(written.json.read_text(encoding="utf-8"))
    return data


def test_the_real_report_is_valid_against_the_schema(planted_report: Written) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = [e.message for e in validator.iter_errors(_document(planted_report))]
    assert errors == []


def test_schema_is_current() -> None:
    checked_in = SCHEMA.read_text(encoding="utf-8")
    assert checked_in == schema_text(), (
        f"{SCHEMA.name} differs from the classes it is generated from; regenerate with:"
        f" {REGENERATE}"
    )


def test_schema_check_fails_on_a_stale_file_and_the_command_mends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "compat.schema.json"
    stale.write_text('{"title": "an older schema"}\n', encoding="utf-8")
    monkeypatch.setattr(schema_module, "SCHEMA_FILE", stale)
    assert main(["schema", "--check"]) == 1
    assert "out of date: regenerate with python -m scripts schema" in capsys.readouterr().err
    assert main(["schema"]) == 0
    assert main(["schema", "--check"]) == 0
    assert stale.read_text(encoding="utf-8") == schema_text()


def test_tests_recorded_before_their_file_and_lines_are_still_valid(
    planted_report: Written,
) -> None:
    document = _document(planted_report)
    for cell in document["cells"]:
        for test in cell["tests"]:
            assert test["file"] == test["group"]  # the sample suite defines each test in its module
            assert isinstance(test["line"], int)
            del test["file"], test["line"], test["failed_line"]
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert jsonschema.Draft202012Validator(schema).is_valid(document)


def test_the_schema_refuses_a_collapsed_state(planted_report: Written) -> None:
    document = _document(planted_report)
    document["cells"][0]["state"] = "green"
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert not jsonschema.Draft202012Validator(schema).is_valid(document)


def test_cells_keep_their_distinct_states(planted_report: Written) -> None:
    cells = {c["cell"]: c["state"] for c in _document(planted_report)["cells"]}
    assert cells == EXPECTED_STATES
    assert _document(planted_report)["summary"]["states"] == {
        "passed": 1,
        "failed": 1,
        "flaky": 1,
        "error": 1,
        "unavailable": 1,
    }


def test_exactly_the_planted_tests_fail_or_are_flaky(planted_report: Written) -> None:
    marked = {
        (c["cell"], t["id"], t["outcome"])
        for c in _document(planted_report)["cells"]
        for t in c["tests"]
        if t["outcome"] not in ("passed", "skipped")
    }
    assert marked == {("mariadb-10.11", CASE_TEST, "failed"), ("postgres-15", FLAKY_TEST, "flaky")}


def test_run_metadata_names_commit_matrix_hash_and_versions(
    planted_report: Written, planted: PlantedRun
) -> None:
    run = _document(planted_report)["run"]
    assert run["matrix_sha256"] == load_matrix(planted.matrix_file).sha256
    assert run["git_commit"] == git_commit()[0]
    assert run["python"].count(".") == 2
    assert "sqlalchemy" in run["libraries"]


def test_servers_show_requested_and_reported_versions(planted_report: Written) -> None:
    cells = {c["cell"]: c for c in _document(planted_report)["cells"]}
    database = cells["mariadb-10.11"]["servers"][0]
    assert (database["requested"], database["source"]) == ("10.11", "url")
    assert database["reported"].startswith("10.11.")
    assert cells["mysql-8.0"]["servers"][0]["reported"] is None


def test_the_verdict_agrees_with_the_cells(planted_report: Written) -> None:
    verdict = {v["backend"]: v for v in _document(planted_report)["verdict"]}
    states = {b: {x["version"]: x["state"] for x in v["versions"]} for b, v in verdict.items()}
    assert states == {
        "postgres": {"15": "flaky", "16": "error"},
        "mysql": {"8.0": "unavailable"},
        "mariadb": {"10.11": "failed"},
        "sqlite": {"stdlib": "passed"},
        "redis": {"7.0": "passed"},
    }
    # unavailable, errored, failed and flaky versions are never "supported"
    assert {b: v["supported"] for b, v in verdict.items()} == {
        "postgres": "",
        "mysql": "",
        "mariadb": "",
        "sqlite": "stdlib",
        "redis": "7.0",
    }
    # the default cache counts only through its own axis cell (the default cell)
    assert verdict["redis"]["versions"][0]["cells"] == ["sqlite-stdlib"]
