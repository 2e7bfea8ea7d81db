"""`scripts.sources.debian`: a suite's closure from Debian's archive, extracted and runnable here.

The archive tests reach deb.debian.org (or `COMPAT_DEBIAN_MIRROR`) and use small packages.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.sources import debian
from scripts.sources.debian import (
    DebianPackage,
    PrivateApt,
    download_closure,
    extract_debs,
    make_runnable,
    package_versions,
)
from scripts.sources.fetched import FetchError
from tests.harness.providers_support import fast_folder

SYSTEM_APT_FILES = (Path("/etc/apt"), Path("/var/lib/dpkg/status"), Path("/var/lib/apt/lists"))


@pytest.fixture(scope="module")
def debs_cache() -> Iterator[Path]:
    with fast_folder("compat-debs-") as folder:
        yield folder


def system_apt_state() -> dict[str, tuple[int, int]]:
    state = {}
    for top in SYSTEM_APT_FILES:
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            if path.exists():
                info = path.stat()
                state[str(path)] = (info.st_mtime_ns, info.st_size)
    return state


def interpreter_of(program: Path) -> Path:
    done = subprocess.run(  # noqa: S603 - patchelf reading a program
        [debian.patchelf_command(), "--print-interpreter", str(program)],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip())


def test_a_package_file_is_named_as_apt_names_it() -> None:
    package = DebianPackage("libcrypt1", "1:4.5.2+20251210-1", "amd64")
    assert package.filename == "libcrypt1_1%3a4.5.2+20251210-1_amd64.deb"


def test_the_private_configuration_reads_nothing_of_the_systems(tmp_path: Path) -> None:
    apt = PrivateApt("sid", tmp_path / "state", tmp_path / "debs")
    apt.prepare()
    config = apt.config_file.read_text()
    for key in ("Dir::Etc::main", "Dir::Etc::parts", "Dir::Etc::sourcelist", "Dir::State::status"):
        [line] = [line for line in config.splitlines() if line.startswith(f"{key} ")]
        assert f'"{tmp_path}' in line, line
    assert (tmp_path / "state" / "status").read_text() == ""
    assert " sid main" in (tmp_path / "state" / "etc" / "sources.list").read_text()


@pytest.mark.parametrize("suite", ["Sid", "sid/main", "../etc", ""])
def test_a_bad_suite_name_is_refused_before_apt_runs(suite: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="not a Debian suite name"):
        download_closure(suite, ["zstd"], tmp_path)


def test_a_bad_package_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="'zstd;rm' is not a Debian package name"):
        download_closure("sid", ["zstd;rm"], tmp_path)


@pytest.mark.slow
def test_the_closure_comes_from_the_suites_index_with_its_own_libc(debs_cache: Path) -> None:
    before = system_apt_state()
    debs = download_closure("sid", ["zstd"], debs_cache)
    versions = package_versions(debs)
    assert {"zstd", "libc6"} <= set(versions)
    assert all(deb.parent == debs_cache and deb.is_file() for deb in debs)
    assert system_apt_state() == before  # no sources, lists or dpkg status of the system touched


@pytest.mark.slow
def test_downloads_are_reused_across_calls(debs_cache: Path) -> None:
    first = download_closure("sid", ["zstd"], debs_cache)
    stamps = {deb: deb.stat().st_mtime_ns for deb in first}
    again = download_closure("sid", ["zstd"], debs_cache)
    assert again == first
    assert {deb: deb.stat().st_mtime_ns for deb in again} == stamps


@pytest.mark.slow
def test_a_program_built_for_a_newer_libc_runs_with_its_suites_loader(debs_cache: Path) -> None:
    debs = download_closure("sid", ["zstd"], debs_cache)
    with fast_folder("compat-debian-root-") as root:
        extract_debs(debs, root)
        program = root / "usr" / "bin" / "zstd"
        patched = make_runnable(root)
        assert program in patched
        done = subprocess.run(  # noqa: S603 - the program just extracted
            [str(program), "--version"], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "Zstandard" in done.stdout
        assert interpreter_of(program).is_relative_to(root)


def test_programs_can_be_pointed_at_where_the_root_will_be(tmp_path: Path) -> None:
    root = tmp_path / "root"
    library = root / "usr" / "lib" / "x86_64-linux-gnu"
    library.mkdir(parents=True)
    (library / "ld-linux-x86-64.so.2").write_bytes(b"loader")
    (root / "usr" / "bin").mkdir()
    program = root / "usr" / "bin" / "true"
    program.write_bytes(Path("/usr/bin/true").read_bytes())
    program.chmod(0o755)
    make_runnable(root, installed_at=Path("/"))
    assert interpreter_of(program) == Path("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")


def test_a_root_without_libc_says_so(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="the closure lacks libc6"):
        make_runnable(tmp_path)


def test_the_loader_is_found_through_an_absolute_link_inside_the_root(tmp_path: Path) -> None:
    # bullseye's libc6: /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-2.31.so
    (tmp_path / "lib" / "x86_64-linux-gnu").mkdir(parents=True)
    (tmp_path / "lib" / "x86_64-linux-gnu" / "ld-2.31.so").write_bytes(b"loader")
    (tmp_path / "lib64").mkdir()
    os.symlink("/lib/x86_64-linux-gnu/ld-2.31.so", tmp_path / "lib64" / "ld-linux-x86-64.so.2")
    assert debian.loader_of(tmp_path) == tmp_path / "lib" / "x86_64-linux-gnu" / "ld-2.31.so"
