"""Run metadata: when, which commit, which Python and libraries, which matrix file."""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from scripts.paths import REPO_ROOT
from scripts.report.matrix_info import MatrixInfo
from scripts.report.model import RunInfo
from scripts.results import environment

GIT_TIMEOUT_S = 5.0


def git_commit(repo: Path = REPO_ROOT) -> tuple[str | None, bool | None]:
    """HEAD's commit and whether the work tree has changes; (None, None) outside a git tree."""
    try:
        head = subprocess.run(  # noqa: S603 - fixed command
            ["git", "-C", str(repo), "rev-parse", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603 - fixed command
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, bool(dirty)


def run_info(matrix: MatrixInfo, results_dirs: Sequence[Path], warnings: list[str]) -> RunInfo:
    commit, dirty = git_commit()
    libraries = {k: v for k, v in environment().items() if k not in ("python", "platform")}
    problems = [f"matrix file: {matrix.problem}"] if matrix.problem else []
    return RunInfo(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        git_commit=commit,
        git_dirty=dirty,
        python=platform.python_version(),
        platform=f"{sys.platform} {platform.machine()}",
        libraries=libraries,
        matrix_path=matrix.path,
        matrix_sha256=matrix.sha256,
        results_dirs=[str(d) for d in results_dirs],
        warnings=[*problems, *warnings],
    )
