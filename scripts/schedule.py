"""Run many cells at once within the machine's cores, and summarise them."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from types import FrameType

from scripts.cell import interrupted_before_start, run_cell
from scripts.matrix import Cell, Matrix
from scripts.plan import RunPlan
from scripts.providers.process import kill_all_groups
from scripts.results import CellResult, ServerInfo
from scripts.vocabulary import Strategy

FAILING_STATES = frozenset({"failed", "error"})
TICK_S = 1.0
POLL_S = 0.1  # how often the main thread looks for Ctrl-C while cells run
STOP_GRACE_S = 1.5  # after Ctrl-C, how long running cells get to stop their servers


def select_cells(
    matrix: Matrix,
    *,
    cell_ids: Sequence[str] = (),
    tags: Sequence[str] = (),
    strategy: Strategy | None = None,
) -> list[Cell]:
    """The matrix's cells (by `strategy`, else the file's), narrowed to the given ids and/or
    tags (a cell matching any is kept)."""
    cells = matrix.cells(strategy)
    if not cell_ids and not tags:
        return cells
    chosen = [matrix.cell(cell_id) for cell_id in cell_ids]
    chosen += [cell for cell in cells if set(tags) & set(cell.tags)]
    if tags and not chosen:
        known = sorted({tag for cell in cells for tag in cell.tags})
        raise ValueError(
            f"no cell has the tag(s) {', '.join(tags)}; known tags: {', '.join(known)}"
        )
    return list({cell.id: cell for cell in chosen}.values())


class _Slots:
    """The layout's slots, handed out first come, first served: a cell waits until as many are
    free as it has workers, and the cells behind it wait their turn (so a cell that needs all
    the slots is never starved by one-process cells slipping past it)."""

    def __init__(self, total: int) -> None:
        self._free = total
        self._next_ticket = 0
        self._serving = 0
        self._changed = threading.Condition()

    def take(self, count: int, cancel: threading.Event) -> bool:
        """Take `count` slots in turn; False when the run was interrupted meanwhile."""
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket or self._free < count:
                if cancel.is_set():
                    return False
                self._changed.wait(POLL_S)
            self._serving += 1
            self._changed.notify_all()
            if cancel.is_set():
                return False
            self._free -= count
            return True

    def give_back(self, count: int) -> None:
        with self._changed:
            self._free += count
            self._changed.notify_all()


def run_cells(
    plan: RunPlan,
    *,
    on_result: Callable[[CellResult], None] | None = None,
    on_stage: Callable[[str, str], None] | None = None,
    on_tick: Callable[[], None] | None = None,
) -> list[CellResult]:
    """Run every cell of `plan` as its layout says; one cell's failure never stops the others.

    A cell takes as many of the layout's slots as it has xdist workers, and waits until they
    are free: cells with more workers are started first. `on_result` hears each finished
    cell, `on_stage` each cell's stages (from the cells' threads); `on_tick` is called about
    every `TICK_S` while cells run.
    """
    ordered = list(plan.cells)
    layout = plan.chosen_layout()
    results_dir = plan.results
    results: dict[str, CellResult] = {}
    cancel = threading.Event()
    slots = _Slots(layout.slots)

    def run_in_its_slots(cell: Cell) -> CellResult:
        cost = layout.cost(cell.id)
        if not slots.take(cost, cancel):
            return interrupted_before_start(cell, results_dir=results_dir)
        try:
            return run_cell(cell, plan, cancel=cancel, on_stage=on_stage)
        finally:
            slots.give_back(cost)

    pool = ThreadPoolExecutor(max_workers=layout.slots, thread_name_prefix="cell")
    by_cost = sorted(ordered, key=lambda cell: -layout.cost(cell.id))  # stable: file order kept
    with interruptions_set(cancel):
        futures = {pool.submit(run_in_its_slots, cell): cell for cell in by_cost}
        unfinished = set(futures)
        ticked = time.monotonic()
        try:
            while unfinished and not cancel.is_set():
                done, unfinished = wait(unfinished, timeout=POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    results[result.cell] = result
                    if on_result is not None:
                        on_result(result)
                if on_tick is not None and time.monotonic() - ticked >= TICK_S:
                    ticked = time.monotonic()
                    on_tick()
        except KeyboardInterrupt:  # raised by a callback, not by a signal (those set `cancel`)
            cancel.set()
        if cancel.is_set():
            stop_running_cells(pool, futures)
            for future, cell in futures.items():
                if cell.id in results:
                    continue
                if future.done() and not future.cancelled() and future.exception() is None:
                    results[cell.id] = future.result()
                else:  # never started, or stuck past the grace (what it started is killed)
                    results[cell.id] = interrupted_before_start(cell, results_dir=results_dir)
            raise RunInterruptedError([results[cell.id] for cell in ordered])
    pool.shutdown(wait=True)
    return [results[cell.id] for cell in ordered if cell.id in results]


@contextmanager
def interruptions_set(event: threading.Event) -> Iterator[None]:
    """Within the block, Ctrl-C (and SIGTERM when the program handles it) set `event` instead
    of raising wherever the main thread happens to be (inside a lock of the thread pool, say).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def note(signum: int, frame: FrameType | None) -> None:
        if event.is_set():
            already_stopping(signum, frame)
        event.set()

    for signum, handler in previous.items():
        if callable(handler) or signum == signal.SIGINT:
            signal.signal(signum, note)
    try:
        yield
    finally:
        # once interrupted, later signals (nox follows Ctrl-C with SIGTERM) only say so
        for signum, handler in previous.items():
            signal.signal(signum, already_stopping if event.is_set() else handler)


def already_stopping(signum: int, frame: FrameType | None) -> None:
    print("stopping already: cells and servers are being stopped", file=sys.stderr)


def stop_running_cells(pool: ThreadPoolExecutor, futures: Iterable[Future[CellResult]]) -> None:
    """After Ctrl-C: running cells stop their suite and servers, waiting ones never start.

    The cells get `STOP_GRACE_S` to stop by themselves; whatever they started that still runs
    then is killed from here, so the main thread never waits on a stuck cell.
    """
    pool.shutdown(wait=False, cancel_futures=True)
    wait(list(futures), timeout=STOP_GRACE_S)
    kill_all_groups()  # only what is still running: none when every cell stopped in time


class RunInterruptedError(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the run; `results` holds every cell's result, the cells that
    were running or waiting marked as interrupted (`error`)."""

    def __init__(self, results: list[CellResult]) -> None:
        super().__init__("interrupted")
        self.results = results


def progress_line(result: CellResult) -> str:
    counts = ", ".join(f"{n} {kind}" for kind, n in result.counts.items() if n)
    detail = counts or (result.reason or "")
    return f"[{result.state:>11}] {result.cell:<28} {result.timings.total_s:6.1f} s  {detail}"


def summary_table(results: Sequence[CellResult]) -> str:
    """A plain-text table of the run, one row per cell."""
    header = ("cell", "state", "database", "cache", "tests", "provision", "total")
    rows = [header]
    for result in results:
        servers = {server.role: server for server in result.servers}
        rows.append(
            (
                result.cell,
                result.state,
                _reported(servers.get("database")),
                _reported(servers.get("cache")),
                f"{result.counts.get('passed', 0)}/{len(result.tests)}" if result.tests else "-",
                f"{result.timings.provision_s:.2f}s",
                f"{result.timings.total_s:.1f}s",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    reasons = [f"  {r.cell}: {r.reason}" for r in results if r.reason and r.state != "passed"]
    if reasons:
        lines += ["", "why:", *reasons]
    return "\n".join(lines)


def _reported(server: ServerInfo | None) -> str:
    if server is None or not server.reported:
        return "-"
    short = server.reported.split()[0][:24]
    return f"{short} ({server.source})" if server.source else short


def exit_status(
    results: Sequence[CellResult],
    *,
    strict: bool,
    known_failures: Mapping[str, str] | None = None,
) -> int:
    """Non-zero when any cell failed or errored, or none ran at all; `unavailable` counts
    otherwise only with `strict`. A `failed` cell listed in `known_failures` (matrix.toml's
    `known-failures`) fails the run only with `strict`; an `error` always does."""
    failing = set(FAILING_STATES)
    if strict:
        failing.add("unavailable")
    if no_cell_ran(results) is not None:
        return 1
    known = {} if strict or known_failures is None else known_failures
    return (
        1
        if any(
            result.state in failing and not (result.state == "failed" and result.cell in known)
            for result in results
        )
        else 0
    )


def known_failure_notes(
    results: Sequence[CellResult], known_failures: Mapping[str, str]
) -> list[str]:
    """One line per known failure that ran: still failing as expected, or now passing."""
    notes: list[str] = []
    for result in results:
        reason = known_failures.get(result.cell)
        if reason is None:
            continue
        if result.state == "failed":
            notes.append(f"known failure: {result.cell} failed as expected ({reason})")
        elif result.state in ("passed", "flaky"):
            notes.append(
                f"known failure now passes: {result.cell} (remove it from matrix.known-failures)"
            )
    return notes


def no_cell_ran(results: Sequence[CellResult]) -> str | None:
    """One line saying why nothing was proven when every cell was unavailable; else None."""
    if not results or any(result.state != "unavailable" for result in results):
        return None
    first = results[0]
    why = (first.reason or "no reason given").strip().splitlines()[0]
    which = (
        "the selected cell was" if len(results) == 1 else f"all {len(results)} selected cells were"
    )
    return f"no cell ran: {which} unavailable ({first.cell}: {why})"
