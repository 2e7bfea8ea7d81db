"""Helpers for the providers' and fetcher's tests: specs, fast folders, leftover checks."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts.backends import backend as lookup_backend
from scripts.matrix import BinariesSource, Source, VersionSpec


def spec(backend: str, version: str, *sources: Source) -> VersionSpec:
    role = lookup_backend(backend).role
    return VersionSpec(role=role, backend=backend, version=version, sources=sources)


def binaries_spec(backend: str, version: str, **source: object) -> VersionSpec:
    return spec(backend, version, BinariesSource(**source))  # type: ignore[arg-type]


@contextmanager
def fast_folder(prefix: str) -> Iterator[Path]:
    """A folder on tmpfs (when there is one) that the servers' accounts can enter."""
    tmpfs = "/dev/shm"  # noqa: S108 - mkdtemp below makes a private folder in it
    base = tmpfs if os.access(tmpfs, os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def processes_using(folder: Path) -> list[str]:
    """Live processes working in `folder` or naming it on their command line.

    Servers may rewrite their command line (redis-server shows `host:port`), but each of
    ours works in its run folder (`--dir`, `-D`, `--datadir`).
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if str(folder) in cmdline or cwd.startswith(str(folder)):
            found.append(f"{entry.name}: {cmdline} (in {cwd})")
    return found


def write_script(path: Path, body: str) -> Path:
    """An executable shell script at `path`."""
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


as_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
NOBODY = pwd.getpwnam("nobody")


def as_nobody(*argv: str) -> str:
    """What `argv` prints (both streams) when another local user, without the password, runs it."""
    done = subprocess.run(  # noqa: S603
        [
            *("setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}"),
            *("--clear-groups", "--", *argv),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
        check=False,
    )
    return done.stdout + done.stderr
