"""The releases an index lists (scripts.floor.releases): final, unyanked, in range, in order;
read from a real HTTP server on 127.0.0.1 speaking PEP 691's JSON (or not)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from scripts.floor.releases import (
    IndexReadError,
    file_version,
    final_releases,
    list_releases,
    range_text,
)
from tests.harness.floor_index import serve_index

PAGE = {
    "meta": {"api-version": "1.1"},
    "name": "kombu",
    "files": [
        {"filename": "kombu-5.5.4-py3-none-any.whl", "yanked": False},
        {"filename": "kombu-5.5.4.tar.gz", "yanked": False},
        {"filename": "kombu-5.6.0b1.tar.gz", "yanked": False},  # a pre-release
        {"filename": "kombu-5.6.0rc2-py3-none-any.whl", "yanked": False},
        {"filename": "kombu-5.6.0-py3-none-any.whl", "yanked": "broke Celery"},  # yanked
        {"filename": "kombu-5.6.1-py3-none-any.whl", "yanked": True},  # one file yanked,
        {"filename": "kombu-5.6.1.tar.gz", "yanked": False},  # the other one not
        {"filename": "kombu-5.6.2.post1.tar.gz"},
        {"filename": "kombu-5.7.0.dev3.tar.gz"},
        {"filename": "kombu-5.7.0-py3-none-any.whl"},
        {"filename": "kombu-5.10.0-py3-none-any.whl"},  # sorts after 5.7 as a version
        {"filename": "kombu-5.7.0.exe"},  # no wheel, no sdist: passed over
        {"filename": "kombu-4.6.11.tar.gz"},
    ],
}


def test_final_unyanked_releases_in_range_come_oldest_first() -> None:
    found = final_releases(PAGE, SpecifierSet(">=5.5"))
    assert [str(v) for v in found] == ["5.5.4", "5.6.1", "5.6.2.post1", "5.7.0", "5.10.0"]


def test_the_range_bounds_the_releases() -> None:
    found = final_releases(PAGE, SpecifierSet(">=5.6,<5.8"))
    assert [str(v) for v in found] == ["5.6.1", "5.6.2.post1", "5.7.0"]


def test_a_file_name_gives_its_version_or_none() -> None:
    assert file_version("SQLAlchemy-2.0.31-cp311-cp311-manylinux_2_17_x86_64.whl") == Version(
        "2.0.31"
    )
    assert file_version("sqlalchemy-2.1.0.tar.gz") == Version("2.1.0")
    assert file_version("sqlalchemy-2.1.0.zip") == Version("2.1.0")
    assert file_version("notes.txt") is None


def test_a_range_reads_with_its_lower_bound_first() -> None:
    assert range_text(SpecifierSet("<2.2,>=2.0.0")) == ">=2.0.0,<2.2"
    assert range_text(SpecifierSet("")) == "any release"


@pytest.fixture(scope="module")
def index() -> Iterator[str]:
    with serve_index({"kombu": PAGE}) as url:
        yield url


def test_releases_are_read_from_the_index_json_page(index: str) -> None:
    found = list_releases("Kombu", SpecifierSet(">=5.6,<5.8"), f"{index}/simple/")
    assert [str(v) for v in found] == ["5.6.1", "5.6.2.post1", "5.7.0"]


def test_the_index_url_variable_names_the_index(
    index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", f"{index}/simple")
    assert [str(v) for v in list_releases("kombu", SpecifierSet("<5"))] == ["4.6.11"]


def test_an_unknown_project_is_named_with_the_url(index: str) -> None:
    with pytest.raises(IndexReadError, match=r"/simple/nothing-here/: no such project"):
        list_releases("nothing_here", SpecifierSet(), f"{index}/simple/")


def test_an_index_without_json_pages_is_refused_saying_so(index: str) -> None:
    with pytest.raises(IndexReadError, match=r"answered text/html.*PEP 691"):
        list_releases("kombu", SpecifierSet(), f"{index}/html/")


def test_an_unreachable_index_says_to_set_the_index_url(index: str) -> None:
    closed = index.rsplit(":", 1)[0] + ":9"  # the discard port: nothing listens there
    with pytest.raises(IndexReadError, match=r"cannot be reached.*PIP_INDEX_URL"):
        list_releases("kombu", SpecifierSet(), f"{closed}/simple/")


def test_an_index_that_is_no_http_url_is_refused() -> None:
    with pytest.raises(IndexReadError, match="an index is an http"):
        list_releases("kombu", SpecifierSet(), "file:///etc/")
