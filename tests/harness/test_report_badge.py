"""Badges: the supported range, coloured by the worst state and drawn with its shape; never green
for an unrun version. And grid.svg, the version grid as an image."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree

from scripts.report.badge import badge_text_and_colour, render_badge
from scripts.report.build import Written
from scripts.report.model import BackendVerdict, VersionState, VersionVerdict


def _verdict(states: dict[str, VersionState], supported: str) -> BackendVerdict:
    versions = [VersionVerdict(v, s, [f"postgres-{v}"], None) for v, s in states.items()]
    return BackendVerdict("postgres", "PostgreSQL", "database", versions, "summary", supported)


def _texts(svg: str) -> list[str | None]:
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
    return [node.text for node in root.iter() if node.tag.endswith("text")]


def test_all_passed_is_green_with_the_range() -> None:
    assert badge_text_and_colour(_verdict({"13": "passed", "14": "passed"}, "13–14")) == (
        "13–14",
        "green",
    )


def test_a_failure_is_red_and_unrun_versions_are_never_green() -> None:
    assert badge_text_and_colour(_verdict({"13": "passed", "14": "failed"}, "13"))[1] == "red"
    assert badge_text_and_colour(_verdict({"13": "passed", "14": "unavailable"}, "13"))[1] == (
        "yellow"
    )
    assert badge_text_and_colour(_verdict({"13": "unavailable"}, "")) == ("not run", "grey")
    assert badge_text_and_colour(_verdict({"13": "error"}, ""))[1] == "red"


def test_badges_are_well_formed_svg(planted_report: Written) -> None:
    for path in planted_report.badges:
        root = ElementTree.fromstring(path.read_text(encoding="utf-8"))  # noqa: S314
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {p.stem: _texts(p.read_text(encoding="utf-8")) for p in planted_report.badges}
    assert texts["sqlite"] == ["SQLite", "stdlib"]
    assert texts["mysql"] == ["MySQL", "not run"]
    assert texts["mariadb"] == ["MariaDB", "none supported"]
    svg = render_badge(_verdict({"1<2": "passed"}, "1<2"))
    assert "1&lt;2" in svg


def test_each_badge_has_a_shields_endpoint_json_saying_the_same(planted_report: Written) -> None:
    assert [p.stem for p in planted_report.endpoints] == [p.stem for p in planted_report.badges]
    endpoints = {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in planted_report.endpoints
    }
    assert endpoints["sqlite"] == {
        "schemaVersion": 1,
        "label": "SQLite",
        "message": "stdlib",
        "color": "brightgreen",
        "cacheSeconds": 3600,
    }
    assert (endpoints["mysql"]["message"], endpoints["mysql"]["color"]) == ("not run", "lightgrey")
    assert (endpoints["mariadb"]["message"], endpoints["mariadb"]["color"]) == (
        "none supported",
        "red",
    )
    for backend, document in endpoints.items():
        svg = (planted_report.badges[0].parent / f"{backend}.svg").read_text(encoding="utf-8")
        assert _texts(svg) == [document["label"], document["message"]]


EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")


def test_each_badge_draws_its_states_shape_and_needs_no_emoji_font(
    planted_report: Written,
) -> None:
    shapes: dict[str, str] = {}
    for path in planted_report.badges:
        svg = path.read_text(encoding="utf-8")
        assert not EMOJI.search(svg), f"{path.name} holds an emoji"
        root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
        (shape,) = [node for node in root.iter() if node.get("data-state")]
        shapes[path.stem] = shape.get("data-state") or ""
        assert len(list(shape)) >= 1, "the shape is drawn"
    # colour and shape say the same: red + cross, green + check, grey + slashed circle
    assert shapes == {
        "sqlite": "passed",
        "postgres": "failed",  # 16 errors: red
        "mysql": "unavailable",
        "mariadb": "failed",
        "redis": "passed",
    }


def test_the_grid_image_draws_every_state_with_shape_and_word(planted_report: Written) -> None:
    svg = planted_report.grid.read_text(encoding="utf-8")
    assert not EMOJI.search(svg)
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
    assert not [node for node in root.iter() if node.tag.endswith("script")]
    boxes = [node for node in root.iter() if node.tag.endswith("}g") and node.get("data-state")]
    words = {
        box.get("data-state"): [t.text for t in box.iter() if t.tag.endswith("}text")][-1]
        for box in boxes
    }
    assert words == {
        "passed": "passed",
        "flaky": "flaky",
        "failed": "failed",
        "error": "error",
        "unavailable": "not run",
    }
    titles = [next(t.text for t in box.iter() if t.tag.endswith("}title")) for box in boxes]
    failed = next(t for t in titles if t and t.startswith("10.11"))
    assert "Cell: mariadb-10.11" in failed
    assert "Cause: 1 test failed" in failed
