"""An unusable scratch folder is named, with why and what to set, in the cell's reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.cell import run_cell
from scripts.matrix import load_matrix
from scripts.paths import MATRIX_FILE, ScratchFolderError, scratch_dir


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
    cell = load_matrix(MATRIX_FILE).cell("sqlite-stdlib")  # its Redis needs a scratch folder
    result = run_cell(cell, results_dir=tmp_path / "results", workers=1, timeout=60)
    assert result.state == "error"
    assert result.reason is not None
    assert "harness error" not in result.reason
    assert f"the scratch folder {broken}" in result.reason
    assert "COMPAT_SCRATCH_DIR" in result.reason
