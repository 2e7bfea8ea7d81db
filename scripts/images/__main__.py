"""The old spelling `python -m scripts.images`: it says what to write instead.

Images are built by `python -m scripts images` (`nox -s images`); what is built, and how, is
`scripts.sources.image_builds`.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from scripts.command_line import old_spelling

    old_spelling("images", sys.argv[1:])
