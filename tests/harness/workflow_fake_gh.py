"""A stand-in for the GitHub CLI over a replay's `ArtifactStore` (no GitHub from this machine).

It answers only the two calls the nightly's "previous report" step makes, and refuses any
other call (exit 2), so a changed step fails the replay instead of passing against a guess:

    gh run list --workflow FILE --branch B --event schedule --status completed --limit N
                --json databaseId --jq '.[].databaseId'   the finished runs' ids, newest first
    gh run download RUN --name NAME --dir DIR   copy that run's artifact NAME into DIR

Environment: FAKE_GH_STORE (the store's root), FAKE_GH_CURRENT_RUN (the run in progress,
never listed: GitHub lists it as in_progress, not completed), FAKE_GH_WORKFLOWS (the folder
`--workflow` must name a file in).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

LIST_JQ = ".[].databaseId"


def main(argv: list[str]) -> int:
    store = Path(os.environ["FAKE_GH_STORE"])
    if argv[:2] == ["run", "list"]:
        return _list(argv[2:], store)
    if argv[:2] == ["run", "download"]:
        return _download(argv[2:], store)
    print(f"fake gh: not replayed: gh {' '.join(argv)}", file=sys.stderr)
    return 2


def _list(argv: list[str], store: Path) -> int:
    parser = argparse.ArgumentParser(prog="gh run list", exit_on_error=False)
    parser.add_argument("--workflow", required=True)
    parser.add_argument("--branch", required=True)
    parser.add_argument("--event", required=True, choices=["schedule"])
    parser.add_argument("--status", required=True, choices=["completed"])
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--json", required=True, choices=["databaseId"])
    parser.add_argument("--jq", required=True, choices=[LIST_JQ])
    args = parser.parse_args(argv)
    workflows = Path(os.environ["FAKE_GH_WORKFLOWS"])
    if not (workflows / args.workflow).is_file():
        print(f"fake gh: could not find workflow {args.workflow!r}", file=sys.stderr)
        return 1
    current = os.environ.get("FAKE_GH_CURRENT_RUN")
    runs = (
        sorted(
            (int(p.name) for p in store.iterdir() if p.name.isdigit() and p.name != current),
            reverse=True,
        )
        if store.is_dir()
        else []
    )
    for run in runs[: args.limit]:
        print(run)
    return 0


def _download(argv: list[str], store: Path) -> int:
    parser = argparse.ArgumentParser(prog="gh run download", exit_on_error=False)
    parser.add_argument("run")
    parser.add_argument("--name", required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args(argv)
    artifact = store / args.run / args.name
    if not artifact.is_dir():
        print(f"fake gh: no artifact {args.name!r} in run {args.run}", file=sys.stderr)
        return 1
    shutil.copytree(artifact, Path(args.dir), dirs_exist_ok=True)
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
