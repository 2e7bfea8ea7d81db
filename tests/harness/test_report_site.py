"""The published folder: page, table, compat.json, history, badges with their endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.__main__ import main as harness_main
from scripts.report.site import SiteError, lay_out_site
from tests.harness.history_scenario import MATRIX, render_nights, write_night


def report(argv: list[str]) -> int:
    """`python -m scripts report <argv>`, in this process."""
    return harness_main(["report", *argv])


def test_the_site_holds_everything_a_reader_and_the_next_night_need(tmp_path: Path) -> None:
    nights = render_nights(tmp_path, nights=2)
    site = tmp_path / "site"
    (site / "stale").mkdir(parents=True)  # last time's leftovers go
    lay_out_site(nights.out, site)
    names = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    backends = ("postgres", "redis", "sqlite")
    badges = [f"badges/{b}.{kind}" for b in backends for kind in ("json", "svg")]
    assert names == sorted(
        [
            ".nojekyll",
            "COMPATIBILITY.md",
            "README.md",
            "compat.html",
            "compat.json",
            "grid.svg",
            "history.json.gz",
            "index.html",
            *badges,
        ]
    )
    assert (site / "index.html").read_bytes() == (nights.out / "compat.html").read_bytes()
    assert (site / "history.json.gz").read_bytes() == nights.history.read_bytes()


def test_without_a_history_there_is_nothing_to_publish(tmp_path: Path) -> None:
    nights = render_nights(tmp_path, nights=1)
    nights.history.unlink()
    with pytest.raises(SiteError, match=r"history\.json\.gz missing"):
        lay_out_site(nights.out, tmp_path / "site")


def test_the_cli_lays_out_the_site_and_refuses_it_without_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "matrix.toml").write_text(MATRIX)
    write_night(tmp_path / "results", 1)
    common = ["--results", str(tmp_path / "results"), "--out", str(tmp_path / "reports")]
    common += ["--matrix", str(tmp_path / "matrix.toml"), "--site", str(tmp_path / "site")]
    assert report([*common, "--no-history"]) == 2
    assert "--site publishes the history" in capsys.readouterr().err
    assert report(common) == 0
    assert (tmp_path / "site" / "history.json.gz").is_file()
    assert f"site: {tmp_path / 'site'}" in capsys.readouterr().out
