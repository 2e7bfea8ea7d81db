"""What a run leaves in its scratch folder, beyond the run folder's own marker."""

from __future__ import annotations

from pathlib import Path

from scripts.providers.runs import MARKER, PROCESSES, RUN_PREFIX


def leftovers(scratch: Path) -> list[Path]:
    """Everything in `scratch` but the live run folders' skeleton (marker, empty record folder)."""
    found: list[Path] = []
    for entry in sorted(scratch.iterdir()):
        if not entry.name.startswith(RUN_PREFIX):
            found.append(entry)
            continue
        for inner in sorted(entry.iterdir()):
            if inner.name == MARKER or (inner.name == PROCESSES and not any(inner.iterdir())):
                continue
            found.append(inner)
    return found
