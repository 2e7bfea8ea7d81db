"""The benchmark's command: one table of every section's figures; a broken section is named and
costs the others nothing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from scripts.bench import __main__ as bench
from scripts.bench.figures import Figure, at_least, at_most
from scripts.command_line import parse_arguments


def parse(argv: list[str]) -> argparse.Namespace:
    """`python -m scripts bench <argv>`, parsed."""
    return parse_arguments(["bench", *argv])


def fake_section(name: str, args: argparse.Namespace) -> list[Figure]:
    if name == "isolation":
        raise RuntimeError("no server here")
    return [
        Figure(name, "fast", "x", (1.0, 2.0, 3.0), at_most(2.5, "x"), note="what it means"),
        Figure(name, "slow", "x", (1.0, 1.0, 1.0), at_least(3.0, "x")),
    ]


def test_a_failing_section_is_named_with_why_and_the_others_still_report(tmp_path: Path) -> None:
    args = parse(["--only", "provisioning", "isolation", "report", "--out", str(tmp_path)])
    outcomes = bench.run_sections(args.only, args, run=fake_section)
    assert [o.name for o in outcomes] == ["provisioning", "isolation", "report"]
    assert outcomes[1].error == "RuntimeError: no server here"
    assert [len(o.figures) for o in outcomes] == [2, 0, 2]
    table = bench.table(outcomes)
    assert "| isolation | the section failed: RuntimeError: no server here |" in table
    assert "| provisioning | fast | 2.00 | 1.00–3.00 | x | ≤ 2.5 x | met |" in table
    assert "| report | slow | 1.00 | 1.00–1.00 | x | ≥ 3 x | MISSED |" in table
    assert "- provisioning · fast: what it means" in table


def test_the_json_keeps_every_sample_and_the_error(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = parse(["--only", "isolation", "report", "--out", str(out), "--repeat", "3"])
    outcomes = bench.run_sections(args.only, args, run=fake_section)
    document = json.loads(json.dumps(bench.document(outcomes, args)))
    sections = {section["name"]: section for section in document["sections"]}
    assert sections["isolation"]["error"] == "RuntimeError: no server here"
    assert sections["report"]["figures"][0]["samples"] == [1.0, 2.0, 3.0]
    assert sections["report"]["figures"][1]["met"] is False
    assert document["repeat"] == 3


def test_fewer_than_one_repetition_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--repeat", "0"])
    assert "argument --repeat: 0 is less than 1" in capsys.readouterr().err
