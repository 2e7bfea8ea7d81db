"""The folder that gets published (GitHub Pages or the `compat` branch), laid out from reports/.

site/
    index.html, compat.html     the page (index.html so that the site's address opens it)
    COMPATIBILITY.md, README.md the table (README.md so that the branch shows it)
    grid.svg                    the version grid as an image (the table shows it)
    compat.json                 tomorrow's previous report
    history.json.gz             tomorrow's history
    badges/<backend>.svg        the badges, and beside each
    badges/<backend>.json       its shields.io endpoint (a README's live badge)
    .nojekyll                   served as is
"""

from __future__ import annotations

import shutil
from pathlib import Path

PAGE = "compat.html"
TABLE = "COMPATIBILITY.md"
REPORT_JSON = "compat.json"
HISTORY = "history.json.gz"
GRID = "grid.svg"
BADGES = "badges"
REQUIRED = (PAGE, TABLE, REPORT_JSON, HISTORY, GRID)


class SiteError(Exception):
    """The reports folder lacks what a published site needs; the message says what."""


def lay_out_site(reports: Path, site: Path, history: Path | None = None) -> list[Path]:
    """Copy what is published from `reports` (and `history`, when kept elsewhere) into `site`,
    replacing what was there; the files written."""
    sources = {name: reports / name for name in REQUIRED}
    if history is not None:
        sources[HISTORY] = history
    missing = [str(path) for path in sources.values() if not path.is_file()]
    if missing:
        raise SiteError(
            f"nothing published: {', '.join(missing)} missing (render the report with its"
            " history first)"
        )
    if site.exists():
        shutil.rmtree(site)
    (site / BADGES).mkdir(parents=True)
    written = [shutil.copyfile(source, site / name) for name, source in sources.items()]
    written.append(shutil.copyfile(reports / PAGE, site / "index.html"))
    written.append(shutil.copyfile(reports / TABLE, site / "README.md"))
    badges = sorted((reports / BADGES).glob("*.svg")) + sorted((reports / BADGES).glob("*.json"))
    written += [shutil.copyfile(badge, site / BADGES / badge.name) for badge in badges]
    nojekyll = site / ".nojekyll"
    nojekyll.touch()
    return [*written, nojekyll]
