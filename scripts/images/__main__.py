"""Build the images a matrix file names under the project's prefix (`nox -s images`).

    python -m scripts.images [--matrix matrix-images.toml] [TAG ...]

What is built, and how, is `scripts.sources.image_builds`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts import paths
from scripts.sources.image_builds import build_images

DEFAULT_MATRIX = paths.REPO_ROOT / "matrix-images.toml"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.images", description=__doc__)
    parser.add_argument("tags", nargs="*", help="images to build (default: the matrix file's)")
    parser.add_argument("--matrix", type=Path, default=DEFAULT_MATRIX)
    args = parser.parse_args(argv)
    return build_images(args.tags, args.matrix)


if __name__ == "__main__":
    sys.exit(main())
