"""An unusable scratch folder is named, with why and what to set, in the cell's reason."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts.cell import run_cell
from scripts.paths import ScratchFolderError, scratch_dir
from scripts.plan import RunPlan
from scripts.providers.base import ProvisioningError
from scripts.sources.templates import copy_template
from tests.harness.matrix_support import harness_environment_cell


@pytest.mark.parametrize(
    ("make", "why"),
    [
        pytest.param(lambda tmp: tmp / "a-file", "File exists", id="a-file"),
        pytest.param(lambda tmp: Path("/proc/compat-scratch"), "No such file", id="read-only"),
    ],
)
def test_an_unusable_scratch_folder_is_named_with_why_and_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: object, why: str
) -> None:
    folder: Path = make(tmp_path)  # type: ignore[operator]
    if folder.parent == tmp_path:
        folder.write_text("not a folder")
    monkeypatch.setenv("COMPAT_SCRATCH_DIR", str(folder))
    with pytest.raises(ScratchFolderError) as raised:
        scratch_dir()
    message = str(raised.value)
    assert f"the scratch folder {folder}" in message
    assert why in message
    assert "set COMPAT_SCRATCH_DIR to a writable folder" in message


def test_a_cell_whose_servers_cannot_get_a_scratch_folder_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "not-a-folder"
    broken.write_text("a runner whose scratch space is broken\n")
    monkeypatch.setenv("COMPAT_SCRATCH_DIR", str(broken))
    cell = harness_environment_cell("sqlite-stdlib")  # its Redis needs a scratch folder
    result = run_cell(cell, RunPlan((cell,), tmp_path / "results", timeout=60))
    assert result.state == "error"
    assert result.reason is not None
    assert "harness error" not in result.reason
    assert f"the scratch folder {broken}" in result.reason
    assert "COMPAT_SCRATCH_DIR" in result.reason


@contextmanager
def full_folder(tmp_path: Path, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of `size` mounted at a folder of `tmp_path` (root only), unmounted at the end."""
    folder = tmp_path / "small-tmpfs"
    folder.mkdir()
    mounted = subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)  # noqa: S603, S607


def test_a_full_scratch_folder_is_one_line_naming_it_and_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for number in range(20):  # cp says one line for each file that did not fit
        (data / f"file-{number}").write_bytes(b"x" * 64 * 1024)
    with full_folder(tmp_path) as scratch:
        monkeypatch.setenv("COMPAT_SCRATCH_DIR", str(scratch))
        with pytest.raises(ProvisioningError) as raised:
            copy_template(data, scratch / "a-server")
    message = raised.value.message
    assert len(message.splitlines()) == 1, message
    assert f"no space left on device in {scratch}" in message
    assert "set COMPAT_SCRATCH_DIR to a folder with room" in message
