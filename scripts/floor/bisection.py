"""The search: bisection over a library's releases, a pure function of a probe.

A floor assumes the suite fails on old releases and passes from some release on: the answer
is the oldest passing one. A ceiling assumes the opposite (it passes up to some release, then
fails: kombu on Redis 6.0): the answer is the newest passing one. The end the assumption needs
to pass is probed first; when it fails there is nothing to search, and the search says why.

Bisection sees only a few releases, so it cannot prove the assumption; it does probe the far
end it would otherwise skip (the oldest release, for a floor) as a spot check, and warns when
any two probes contradict the assumption (an old release passing below a failing one).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from packaging.version import Version

Kind = Literal["floor", "ceiling"]
KINDS: tuple[Kind, ...] = ("floor", "ceiling")


@dataclass(frozen=True)
class ProbeOutcome:
    """What one release did: passed or not, and why (a failure's or an install's message)."""

    passed: bool
    reason: str | None = None


class ProbeFunction(Protocol):
    def __call__(self, release: Version, /) -> ProbeOutcome: ...


@dataclass(frozen=True)
class Probe:
    """One step of a search: the release tried, its outcome, and how long it took."""

    release: Version
    outcome: ProbeOutcome
    took_s: float


@dataclass(frozen=True)
class Search:
    """What a search found: the answer, or the problem that left it without one."""

    kind: Kind
    releases: tuple[Version, ...]
    """Every release searched, oldest first."""
    answer: Version | None
    probes: tuple[Probe, ...]
    problem: str | None = None
    """Why there is no answer (the newest release fails, for a floor)."""
    warnings: tuple[str, ...] = field(default=())
    """Contradictions of the assumption, and answers at the very end of the range."""


class Progress(Protocol):
    """Told of each probe as it starts and as it finishes, with its number (from 1) and the
    most probes the search may take."""

    def started(self, number: int, most: int, release: Version) -> None: ...

    def finished(self, number: int, most: int, probe: Probe) -> None: ...


def most_probes(count: int) -> int:
    """The most probes a search over `count` releases takes: the first end, the bisection,
    and the spot check of the other end."""
    if count <= 2:
        return count
    return min(count, 2 + math.ceil(math.log2(count)))


def find_floor(
    releases: Sequence[Version],
    probe: ProbeFunction,
    *,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Search:
    """The oldest release that passes, assuming every release after it passes too."""
    return _Searcher("floor", releases, probe, progress, clock).run()


def find_ceiling(
    releases: Sequence[Version],
    probe: ProbeFunction,
    *,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Search:
    """The newest release that passes, assuming every release before it passes too."""
    return _Searcher("ceiling", releases, probe, progress, clock).run()


def contradictions(kind: Kind, probes: Sequence[Probe]) -> list[str]:
    """Pairs of probes that contradict the search's assumption, as sentences: for a floor, a
    release that passes older than one that fails; for a ceiling, the other way round."""
    passing = sorted(p.release for p in probes if p.outcome.passed)
    failing = sorted(p.release for p in probes if not p.outcome.passed)
    if not passing or not failing:
        return []
    if kind == "floor" and passing[0] < failing[-1]:
        return [
            f"{passing[0]} passes though the newer {failing[-1]} fails: pass and fail are not"
            " monotonic over the range, so the floor found is the oldest release of the newest"
            " passing stretch; narrow the range to look closer"
        ]
    if kind == "ceiling" and failing[0] < passing[-1]:
        return [
            f"{passing[-1]} passes though the older {failing[0]} fails: pass and fail are not"
            " monotonic over the range, so the ceiling found is the newest release of the"
            " oldest passing stretch; narrow the range to look closer"
        ]
    return []


class _Searcher:
    def __init__(
        self,
        kind: Kind,
        releases: Sequence[Version],
        probe: ProbeFunction,
        progress: Progress | None,
        clock: Callable[[], float],
    ) -> None:
        self.kind = kind
        self.releases = tuple(sorted(releases))
        self.probe = probe
        self.progress = progress
        self.clock = clock
        self.probes: list[Probe] = []
        self.outcomes: dict[int, ProbeOutcome] = {}
        self.most = most_probes(len(self.releases))

    def run(self) -> Search:
        if not self.releases:
            return self._done(None, "no release to search: the range holds no final release")
        last = len(self.releases) - 1
        if self.kind == "floor":
            return self._floor(last)
        return self._ceiling(last)

    def _floor(self, last: int) -> Search:
        newest = self._passes(last)
        if not newest.passed:
            return self._done(
                None,
                f"the newest release searched, {self.releases[last]}, fails: a floor needs it to"
                f" pass ({newest.reason or 'no reason given'})",
            )
        low, high = 0, last  # high passes; the answer lies in [low, high]
        while low < high:
            middle = (low + high) // 2
            if self._passes(middle).passed:
                high = middle
            else:
                low = middle + 1
        if high >= 2 and 0 not in self.outcomes:
            self._passes(0)  # the spot check: the oldest should fail too
        notes = [] if high else ["the oldest release searched passes: the floor may lie below"]
        return self._done(self.releases[high], None, notes)

    def _ceiling(self, last: int) -> Search:
        oldest = self._passes(0)
        if not oldest.passed:
            return self._done(
                None,
                f"the oldest release searched, {self.releases[0]}, fails: a ceiling needs it to"
                f" pass ({oldest.reason or 'no reason given'})",
            )
        low, high = 0, last  # low passes; the answer lies in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            if self._passes(middle).passed:
                low = middle
            else:
                high = middle - 1
        if low == last:
            return self._done(
                None,
                f"the newest release searched, {self.releases[last]}, passes too: nothing"
                " fails in this range, so there is no ceiling to find",
            )
        if low <= last - 2 and last not in self.outcomes:
            self._passes(last)  # the spot check: the newest should fail too
        return self._done(self.releases[low], None)

    def _passes(self, index: int) -> ProbeOutcome:
        release = self.releases[index]
        number = len(self.probes) + 1
        if self.progress is not None:
            self.progress.started(number, self.most, release)
        started = self.clock()
        outcome = self.probe(release)
        probe = Probe(release, outcome, self.clock() - started)
        self.probes.append(probe)
        self.outcomes[index] = outcome
        if self.progress is not None:
            self.progress.finished(number, self.most, probe)
        return outcome

    def _done(
        self, answer: Version | None, problem: str | None, notes: Sequence[str] = ()
    ) -> Search:
        warnings = [*contradictions(self.kind, self.probes), *notes]
        return Search(
            self.kind, self.releases, answer, tuple(self.probes), problem, tuple(warnings)
        )
