"""The bisection over releases (scripts.floor.bisection), with probes that answer from a rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from packaging.version import Version

from scripts.floor.bisection import (
    Probe,
    ProbeOutcome,
    contradictions,
    find_ceiling,
    find_floor,
    most_probes,
)

RELEASES = [Version(f"2.0.{n}") for n in range(60)]


class RuleProbe:
    """Answers from `rule`; remembers what it was asked, in order."""

    def __init__(self, rule: Callable[[Version], ProbeOutcome]) -> None:
        self.rule = rule
        self.asked: list[Version] = []

    def __call__(self, release: Version, /) -> ProbeOutcome:
        self.asked.append(release)
        return self.rule(release)


def passes_from(first: str) -> Callable[[Version], ProbeOutcome]:
    return lambda release: ProbeOutcome(release >= Version(first), "1 test failed")


def passes_up_to(last: str) -> Callable[[Version], ProbeOutcome]:
    return lambda release: ProbeOutcome(release <= Version(last), "ZRANGE: syntax error")


@pytest.mark.parametrize("first", ["2.0.1", "2.0.2", "2.0.31", "2.0.58", "2.0.59"])
def test_a_monotonic_floor_is_the_oldest_passing_release(first: str) -> None:
    probe = RuleProbe(passes_from(first))
    search = find_floor(RELEASES, probe)
    assert search.answer == Version(first)
    assert search.problem is None
    assert search.warnings == ()
    assert len(probe.asked) <= most_probes(len(RELEASES))
    assert len(set(probe.asked)) == len(probe.asked), "a release probed twice"


def test_a_floor_probes_the_newest_release_first() -> None:
    probe = RuleProbe(passes_from("2.0.31"))
    find_floor(RELEASES, probe)
    assert probe.asked[0] == RELEASES[-1]


def test_the_release_below_the_floor_was_probed_and_failed() -> None:
    search = find_floor(RELEASES, RuleProbe(passes_from("2.0.31")))
    below = {p.release: p.outcome.passed for p in search.probes}
    assert below[Version("2.0.30")] is False
    assert below[Version("2.0.31")] is True


def test_a_failing_newest_release_stops_the_floor_with_why() -> None:
    probe = RuleProbe(lambda release: ProbeOutcome(False, "ImportError: cannot import x"))
    search = find_floor(RELEASES, probe)
    assert search.answer is None
    assert probe.asked == [RELEASES[-1]]
    assert search.problem is not None
    assert "newest release searched, 2.0.59, fails" in search.problem
    assert "ImportError: cannot import x" in search.problem


def test_releases_that_do_not_install_count_as_failing() -> None:
    def rule(release: Version) -> ProbeOutcome:
        if release < Version("2.0.20"):
            return ProbeOutcome(False, "unavailable: no matching distribution")
        return passes_from("2.0.31")(release)

    search = find_floor(RELEASES, RuleProbe(rule))
    assert search.answer == Version("2.0.31")
    reasons = [p.outcome.reason for p in search.probes if p.release < Version("2.0.20")]
    assert reasons
    assert all("no matching distribution" in str(r) for r in reasons)


def test_a_floor_that_passes_again_below_a_failing_stretch_is_warned_about() -> None:
    # 2.0.0-2.0.9 pass, 2.0.10-2.0.30 fail, 2.0.31 on pass: the spot check of the oldest sees it
    def rule(release: Version) -> ProbeOutcome:
        return ProbeOutcome(not Version("2.0.10") <= release < Version("2.0.31"), "failed")

    search = find_floor(RELEASES, RuleProbe(rule))
    assert search.answer == Version("2.0.31")
    assert len(search.warnings) == 1
    assert "2.0.0 passes though the newer 2.0.30 fails" in search.warnings[0]
    assert "not monotonic" in search.warnings[0]


def test_a_floor_at_the_oldest_release_says_the_floor_may_lie_below() -> None:
    search = find_floor(RELEASES, RuleProbe(passes_from("2.0.0")))
    assert search.answer == RELEASES[0]
    assert search.warnings == ("the oldest release searched passes: the floor may lie below",)


@pytest.mark.parametrize("last", ["2.0.0", "2.0.1", "2.0.30", "2.0.57", "2.0.58"])
def test_a_monotonic_ceiling_is_the_newest_passing_release(last: str) -> None:
    probe = RuleProbe(passes_up_to(last))
    search = find_ceiling(RELEASES, probe)
    assert search.answer == Version(last)
    assert search.problem is None
    assert search.warnings == ()
    assert probe.asked[0] == RELEASES[0]
    assert len(probe.asked) <= most_probes(len(RELEASES))
    outcomes = {p.release: p.outcome.passed for p in search.probes}
    assert outcomes[RELEASES[RELEASES.index(Version(last)) + 1]] is False


def test_a_ceiling_whose_oldest_release_fails_has_no_answer() -> None:
    probe = RuleProbe(lambda release: ProbeOutcome(False, "failed: ZRANGE BYSCORE"))
    search = find_ceiling(RELEASES, probe)
    assert search.answer is None
    assert probe.asked == [RELEASES[0]]
    assert search.problem is not None
    assert "oldest release searched, 2.0.0, fails" in search.problem


def test_a_ceiling_where_every_release_passes_says_there_is_none() -> None:
    search = find_ceiling(RELEASES, RuleProbe(lambda release: ProbeOutcome(True)))
    assert search.answer is None
    assert search.problem is not None
    assert "2.0.59, passes too" in search.problem


def test_a_ceiling_that_fails_then_passes_again_is_warned_about() -> None:
    def rule(release: Version) -> ProbeOutcome:
        return ProbeOutcome(not Version("2.0.20") <= release < Version("2.0.50"), "failed")

    search = find_ceiling(RELEASES, RuleProbe(rule))
    assert search.answer == Version("2.0.19")
    assert any("2.0.59 passes though the older 2.0.20 fails" in w for w in search.warnings)


def test_no_release_gives_no_answer_and_no_probe() -> None:
    probe = RuleProbe(passes_from("2.0.0"))
    for search in (find_floor([], probe), find_ceiling([], probe)):
        assert search.answer is None
        assert search.probes == ()
        assert search.problem == "no release to search: the range holds no final release"
    assert probe.asked == []


def test_one_release_is_its_own_floor_when_it_passes() -> None:
    search = find_floor([Version("1.0")], RuleProbe(passes_from("1.0")))
    assert search.answer == Version("1.0")
    assert len(search.probes) == 1


def test_progress_hears_each_probe_start_and_finish_in_order() -> None:
    heard: list[str] = []

    class Recorder:
        def started(self, number: int, most: int, release: Version) -> None:
            heard.append(f"start {number}/{most} {release}")

        def finished(self, number: int, most: int, probe: Probe) -> None:
            heard.append(f"end {number}/{most} {probe.release} {probe.outcome.passed}")

    ticks = iter(range(100))
    probe = RuleProbe(passes_from("2.0.5"))
    search = find_floor(RELEASES[:8], probe, progress=Recorder(), clock=lambda: next(ticks))
    assert heard[:2] == ["start 1/5 2.0.7", "end 1/5 2.0.7 True"]
    assert len(heard) == 2 * len(search.probes)
    assert all(probe.took_s == 1 for probe in search.probes)


def test_contradictions_name_nothing_for_consistent_probes() -> None:
    probes = [
        Probe(Version("1.0"), ProbeOutcome(False, "x"), 1.0),
        Probe(Version("2.0"), ProbeOutcome(True), 1.0),
    ]
    assert contradictions("floor", probes) == []
    assert contradictions("ceiling", probes) != []
