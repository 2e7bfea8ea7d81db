"""Benchmark: how fast each local server of matrix.toml starts and stops.

    python -m scripts.bench_providers [--runs 6] [--matrix FILE] [--every-source] [VERSION_ID ...]

`--every-source` times each source of a version that can serve here, one after the other
in the same run: e.g. a container against local programs of the same version
(`--matrix matrix-images.toml --every-source postgres-17`).

Each version is started `runs` times; the first start (which may build the data-directory
template) is reported apart, the rest as a median. The machine may be noisy: compare the
figures of one run with each other, not with another day's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from scripts.matrix import ImageSource, VersionSpec, load_matrix
from scripts.paths import MATRIX_FILE
from scripts.providers.base import ProviderError, SourceKind
from scripts.sources import choose_provider
from scripts.sources.engines import engine_for_images


def time_one_start(spec: VersionSpec, only: SourceKind | None = None) -> tuple[float, float, str]:
    """Seconds to start (until the server answers) and to stop, and the reported version."""
    provider = choose_provider(spec, only=only)
    started = time.perf_counter()
    with provider.start() as server:
        ready = time.perf_counter()
        reported = server.reported_version
    stopped = time.perf_counter()
    return ready - started, stopped - ready, f"{reported} via {server.source}"


def bench(spec: VersionSpec, runs: int, only: SourceKind | None = None) -> str:
    try:
        first_start, _, reported = time_one_start(spec, only)
        samples = [time_one_start(spec, only) for _ in range(max(1, runs - 1))]
    except ProviderError as error:
        return f"{spec.id:<18} skipped: {error}"
    start_ms = statistics.median(s[0] for s in samples) * 1000
    stop_ms = statistics.median(s[1] for s in samples) * 1000
    return (
        f"{spec.id:<18} start {start_ms:7.1f} ms  stop {stop_ms:6.1f} ms"
        f"  (first start {first_start * 1000:7.1f} ms)  {reported}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", help="version ids (default: every version)")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--matrix", type=Path, default=MATRIX_FILE, help="the matrix file")
    parser.add_argument(
        "--every-source", action="store_true", help="time every source of each version"
    )
    args = parser.parse_args(argv)
    matrix = load_matrix(args.matrix)
    specs = [matrix.version(v) for v in args.versions] if args.versions else matrix.versions
    print(f"server start-up, median of {max(1, args.runs - 1)} starts after a first one")
    runs = [
        (spec, source.kind if args.every_source else None)
        for spec in specs
        for source in (spec.sources if args.every_source else spec.sources[:1])
    ]
    images = [s.image for spec in specs for s in spec.sources if isinstance(s, ImageSource)]
    with engine_for_images(images):
        for spec, only in runs:
            print(bench(spec, args.runs, only), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
