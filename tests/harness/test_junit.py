"""JUnit XML → tests keyed by the same node id pytest prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.junit import JUnitError, node_id_of, read_junit


@pytest.mark.parametrize(
    ("classname", "name", "file", "expected"),
    [
        (
            "tests.integration.test_users_api.TestUserLifecycle",
            "test_x",
            None,
            "tests/integration/test_users_api.py::TestUserLifecycle::test_x",
        ),
        (
            "tests.integration.test_users_api",
            "test_y[a.b-1.5]",
            None,
            "tests/integration/test_users_api.py::test_y[a.b-1.5]",
        ),
        (
            "tests.test_a.TestOuter.TestInner",
            "test_z",
            None,
            "tests/test_a.py::TestOuter::TestInner::test_z",
        ),
        ("test_a.TestK", "test_ok", "test_a.py", "test_a.py::TestK::test_ok"),
        ("", "tests.integration.test_broken", None, "tests/integration/test_broken.py"),
    ],
)
def test_node_id_is_rebuilt_from_classname_name_and_file(
    classname: str, name: str, file: str | None, expected: str
) -> None:
    node_id, group = node_id_of(classname=classname, name=name, file=file)
    assert node_id == expected
    assert group == expected.split("::")[0]


def test_a_module_found_on_disk_wins_over_the_capital_letter_rule(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "Test_Odd.py").write_text("")
    node_id, _ = node_id_of(classname="pkg.Test_Odd.TestK", name="test_a", file=None, root=tmp_path)
    assert node_id == "pkg/Test_Odd.py::TestK::test_a"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_outcomes_and_messages_are_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '<?xml version="1.0"?><testsuites><testsuite name="pytest">'
        '<testcase classname="t.test_m" name="test_ok" time="0.5"/>'
        '<testcase classname="t.test_m" name="test_bad" time="0.1">'
        '<failure message="AssertionError: a &lt; b &amp; c">trace</failure></testcase>'
        '<testcase classname="t.test_m" name="test_setup">'
        '<error message="failed on setup"/></testcase>'
        '<testcase classname="t.test_m" name="test_skip">'
        '<skipped type="pytest.skip" message="no"/></testcase>'
        '<testcase classname="t.test_m" name="test_xf">'
        '<skipped type="pytest.xfail" message="x"/></testcase>'
        "</testsuite></testsuites>",
    )
    tests = {t.id.split("::")[1]: t for t in read_junit(path).tests}
    assert {k: t.outcome for k, t in tests.items()} == {
        "test_ok": "passed",
        "test_bad": "failed",
        "test_setup": "error",
        "test_skip": "skipped",
        "test_xf": "xfailed",
    }
    assert tests["test_bad"].message == "AssertionError: a < b & c\n\ntrace"
    assert tests["test_ok"].duration == 0.5


def test_a_test_reported_twice_keeps_its_worst_outcome(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '<testsuite><testcase classname="t.test_m" name="test_a"/>'
        '<testcase classname="t.test_m" name="test_a"><error message="teardown"/></testcase>'
        "</testsuite>",
    )
    (test,) = read_junit(path).tests
    assert test.outcome == "error"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ('<?xml version="1.0"?><testsuites><testsuite><testcase classname="a', "not well-formed"),
        ("<html><body>502 Bad Gateway</body></html>", "not a JUnit report"),
        ("just text", "not well-formed"),
    ],
)
def test_unreadable_junit_raises_a_clear_error(
    tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "junit.xml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(JUnitError, match=says):
        read_junit(path)
