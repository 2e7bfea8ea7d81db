"""What a benchmark measures and how it is summed up: repeated samples, their median and range,
and a target the median is checked against.

Every section of `python -m scripts bench` returns `Figure`s; the command prints them as one
table and writes them to `reports/bench.json`. A comparison is measured side by side: the
contenders take turns (`interleaved`), so that the machine's noise falls on all of them, and a
ratio is the median of the per-round ratios (`ratio`), not a ratio of medians taken at
different moments.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Comparison = Literal["at most", "at least"]


@dataclass(frozen=True)
class Target:
    """`at most 2.0 x` or `at least 5.0 x`: what the median must be."""

    comparison: Comparison
    bound: float
    unit: str

    def met_by(self, value: float) -> bool:
        return value <= self.bound if self.comparison == "at most" else value >= self.bound

    def describe(self) -> str:
        sign = "≤" if self.comparison == "at most" else "≥"
        return f"{sign} {self.bound:g} {self.unit}".rstrip()


def at_most(bound: float, unit: str) -> Target:
    return Target("at most", bound, unit)


def at_least(bound: float, unit: str) -> Target:
    return Target("at least", bound, unit)


@dataclass(frozen=True)
class Figure:
    """One measured quantity: its samples (one per repetition) in `unit`."""

    section: str
    name: str
    unit: str
    samples: tuple[float, ...]
    target: Target | None = None
    note: str = ""
    details: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError(f"{self.section}: {self.name}: a figure needs at least one sample")

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    @property
    def met(self) -> bool | None:
        """Whether the median meets the target; None when the figure has none."""
        return None if self.target is None else self.target.met_by(self.median)

    def as_json(self) -> dict[str, object]:
        return {
            "section": self.section,
            "name": self.name,
            "unit": self.unit,
            "median": self.median,
            "min": self.low,
            "max": self.high,
            "samples": list(self.samples),
            "target": self.target.describe() if self.target else None,
            "met": self.met,
            "note": self.note,
            "details": dict(self.details),
        }


def interleaved(
    contenders: Mapping[str, Callable[[], float]], repeat: int
) -> dict[str, list[float]]:
    """Call every contender once per round, `repeat` rounds, in turns (a b c, a b c, ...).

    Each contender returns the measured quantity of its one repetition (e.g. the seconds from
    "nothing" to "answers a query", its own set-up and tear-down left out).
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, measure in contenders.items():
            samples[name].append(measure())
    return samples


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> tuple[float, ...]:
    """Per-round ratios of two contenders measured in the same rounds."""
    if len(numerator) != len(denominator):
        raise ValueError("a ratio needs samples from the same rounds")
    return tuple(a / b for a, b in zip(numerator, denominator, strict=True) if b > 0)


def seconds(action: Callable[[], object]) -> float:
    """How long `action()` took, in seconds."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
