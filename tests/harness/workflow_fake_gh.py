"""A stand-in for the GitHub CLI in a replay (no GitHub from this machine).

It answers only the call the nightly makes, and refuses any other (exit 2), so a changed step
fails the replay instead of passing against a guess:

    gh api repos/OWNER/REPO/pages --jq .html_url   the Pages site's address: FAKE_PAGES_SITE
                as a file:// URL (curl reads it as it reads https://), or a 404 when it is
                unset (Pages is off)

Environment: FAKE_PAGES_SITE (the folder standing in for the GitHub Pages site).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

PAGES_CALL = re.compile(r"^api repos/[\w.-]+/[\w.-]+/pages --jq \.html_url$")


def main(argv: list[str]) -> int:
    if not PAGES_CALL.match(" ".join(argv)):
        print(f"fake gh: not replayed: gh {' '.join(argv)}", file=sys.stderr)
        return 2
    site = os.environ.get("FAKE_PAGES_SITE")
    if not site:
        print("gh: Not Found (HTTP 404)", file=sys.stderr)
        return 1
    print(Path(site).as_uri() + "/")
    return 0


def install(bin_dir: Path) -> Path:
    """Write a `gh` into `bin_dir` that runs this module (put `bin_dir` first on PATH)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    gh.chmod(0o755)
    return gh


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
