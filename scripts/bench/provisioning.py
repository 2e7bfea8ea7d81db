"""Benchmark: provisioning one server, from nothing to "accepts a query", four ways.

    python -m scripts bench --only provisioning [--repeat 3] [--servers VERSION_ID ...]

For PostgreSQL 17, MySQL 9.7, MariaDB 10.11 and Redis 8.0 (the versions `matrix-images.toml`
has images of), side by side in the same rounds (`figures.interleaved`):
  harness    the `binaries` source's start: the template data directory copied, the server
             started, until it answers (its own version read back);
  fresh      a fresh data directory initialised, then started, as the pytest plugins do once
             per session: pytest-postgresql's own executor for PostgreSQL; `mysqld
             --initialize-insecure` / `mariadb-install-db` (the backends' own template
             builders) then the harness's start for MySQL / MariaDB; Redis has nothing to
             initialise;
  container  a testcontainers container of the same version on the local engine (the
             `image` source's start), as tox-docker or plain testcontainers do;
  floor      the harness's own start command and readiness check on a data directory
             initialised once and reused in place: no copy, no initialisation.
Stopping is timed in none of them. Ratios are per round: harness/floor (the cost of the
copy, target at most 2x), container/harness (target at least 5x), fresh/harness.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from scripts import paths
from scripts.backends import ServerBackend, display_name, server_backend
from scripts.bench.container_engine import engine_with_images
from scripts.bench.figures import Figure, Target, at_least, at_most, interleaved, ratio
from scripts.files import log_tail
from scripts.matrix import ImageSource, VersionSpec, load_matrix
from scripts.providers import runs
from scripts.providers.accounts import Account, give_to, server_account
from scripts.providers.base import ProviderError, ProvisioningError, RunningServer, Unavailable
from scripts.providers.ports import free_port
from scripts.providers.process import DeadlinePassedError, process_group, wait_for_exit
from scripts.sources import choose_provider
from scripts.sources.binaries import BinariesProvider, copied_template

SECTION = "provisioning"
MATRIX_FILE = paths.REPO_ROOT / "matrix-images.toml"
SERVERS = ("postgres-17", "mysql-9.7", "mariadb-10.11", "redis-8.0")
CHILD_MODULE = "scripts.bench.pytest_postgresql_start"
CHILD_DEADLINE_S = 120.0

HARNESS, FRESH, CONTAINER, FLOOR = "harness", "fresh", "container", "floor"
WAYS = (HARNESS, FRESH, CONTAINER, FLOOR)
TIME_LABELS = {
    HARNESS: "harness: template copy + start",
    FRESH: "fresh data dir + start",
    CONTAINER: "container",
    FLOOR: "floor: start in place",
}


@dataclass(frozen=True)
class RatioSpec:
    numerator: str
    denominator: str
    label: str
    target: Target | None
    note: str


RATIOS = (
    RatioSpec(
        HARNESS,
        FLOOR,
        "harness / floor",
        at_most(2.0, "x floor"),
        "per-round ratio: what the template copy (and the rest of the harness's start) adds "
        "to the bare start of the same server on the same machine",
    ),
    RatioSpec(
        CONTAINER,
        HARNESS,
        "container / harness",
        at_least(5.0, "x"),
        "per-round ratio: a testcontainers container of the same version against the harness",
    ),
    RatioSpec(
        FRESH,
        HARNESS,
        "fresh / harness",
        None,
        "per-round ratio: initialising a data directory per session against copying a template",
    ),
)


@dataclass
class Seen:
    """What the last start of one way reported, for the figure's details."""

    reported_version: str = ""
    provenance: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def details(self, server: str) -> dict[str, object]:
        return {
            "server": server,
            "reported_version": self.reported_version,
            "provenance": self.provenance,
            **self.extra,
        }


@dataclass
class Way:
    """One way of provisioning a server: how to measure one round, and what it is."""

    measure: Callable[[], float]
    note: str
    seen: Seen = field(default_factory=Seen)


# ------------------------------------------------------------------ figures


def server_figures(
    server: str,
    title: str,
    samples: Mapping[str, Sequence[float]],
    ways: Mapping[str, Way],
    absent: Mapping[str, str],
) -> list[Figure]:
    """The times of every way measured and the ratios both of whose ways were measured.

    `absent` says, per way left out, why: it goes into the note of the harness figure."""
    figures = []
    for key in WAYS:
        if key not in samples:
            continue
        note = ways[key].note
        if key == HARNESS and absent:
            left_out = "; ".join(f"{TIME_LABELS[k]} left out: {why}" for k, why in absent.items())
            note = f"{note}. {left_out}"
        figures.append(
            Figure(
                SECTION,
                f"{title} {TIME_LABELS[key]}",
                "s",
                tuple(samples[key]),
                note=note,
                details=ways[key].seen.details(server),
            )
        )
    for spec in RATIOS:
        if spec.numerator not in samples or spec.denominator not in samples:
            continue
        per_round = ratio(samples[spec.numerator], samples[spec.denominator])
        if not per_round:
            continue
        figures.append(
            Figure(
                SECTION,
                f"{title} {spec.label}",
                "x",
                per_round,
                target=spec.target,
                note=spec.note,
                details={
                    "server": server,
                    "numerator": ways[spec.numerator].seen.details(server),
                    "denominator": ways[spec.denominator].seen.details(server),
                },
            )
        )
    return figures


# ------------------------------------------------------------------ timing one start


def time_start(start: Callable[[], AbstractContextManager[RunningServer]], seen: Seen) -> float:
    """Seconds from `start()` to the server it yields (which answers already); the stop is
    not timed. What the server reported is kept in `seen`."""
    began = time.perf_counter()
    with start() as server:
        elapsed = time.perf_counter() - began
        seen.reported_version = server.reported_version
        seen.provenance = server.provenance
    return elapsed


def fresh_data_directory(
    recipe: ServerBackend, provider: BinariesProvider, account: Account | None
) -> Callable[[Path], Path]:
    """A start's data directory initialised from nothing by the backend's own builder (what
    it builds its template with), inside the start's run folder."""

    def initialise(run_dir: Path) -> Path:
        target = run_dir / "data"
        recipe.build_template(provider.program(), target, account, run_dir / "init.log")
        return target

    return initialise


@contextmanager
def floor_data_directory(spec: VersionSpec, provider: BinariesProvider) -> Iterator[Path]:
    """A data directory made once (a copy of the harness's template, built first when
    missing) and started once (so that every timed start finds it in the same state), to be
    reused in place by every round."""
    account = server_account()
    folder = runs.run_folder() / f"bench-floor-{spec.id}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=0o700)
    try:
        give_to(account, folder)
        data_dir = copied_template(provider.template(), folder)
        with provider.start(data=lambda _run_dir: data_dir):
            pass
        yield data_dir
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_postgresql_command(
    python: str, pg_ctl: Path, port: int, folder: Path, account: Account | None
) -> list[str]:
    """The child that times pytest-postgresql's executor (`pytest_postgresql_start`)."""
    argv = [python, "-m", CHILD_MODULE, "--pg-ctl", str(pg_ctl), "--port", str(port)]
    argv += ["--folder", str(folder)]
    if account is not None:
        argv += ["--uid", str(account.uid), "--gid", str(account.gid)]
    return argv


def child_result(output: str) -> tuple[float, str]:
    """The seconds and version in the child's JSON line (the last line of its output that is
    one); `ValueError` when there is none."""
    for line in reversed(output.splitlines()):
        try:
            found = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(found, dict) and isinstance(found.get("seconds"), float | int):
            return float(found["seconds"]), str(found.get("version", ""))
    raise ValueError("no result line")


def time_pytest_postgresql(pg_ctl: Path, seen: Seen) -> float:
    """One `postgresql_proc`-style start, timed inside a child run as the servers' account."""
    account = server_account()
    folder = runs.run_folder() / f"bench-pytest-postgresql-{uuid.uuid4().hex[:10]}"
    folder.mkdir(mode=0o700)
    log_path = runs.run_folder() / f"{folder.name}.out"
    try:
        give_to(account, folder)
        argv = pytest_postgresql_command(sys.executable, pg_ctl, free_port(), folder, account)
        with process_group(argv, log_path, cwd=paths.REPO_ROOT) as child:
            try:
                code = wait_for_exit(
                    child,
                    deadline=time.monotonic() + CHILD_DEADLINE_S,
                    doing="timing pytest-postgresql's executor",
                )
            except DeadlinePassedError:
                code = None
        output = log_path.read_text(errors="replace")
        try:
            elapsed, seen.reported_version = child_result(output)
        except ValueError:
            raise ProvisioningError(
                f"pytest-postgresql's executor did not start PostgreSQL (exit {code})",
                log_tail(log_path),
            ) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        log_path.unlink(missing_ok=True)
    return elapsed


def _pytest_postgresql_version() -> str:
    try:
        return package_version("pytest-postgresql")
    except PackageNotFoundError:
        return "?"


# ------------------------------------------------------------------ the four ways of one server

HARNESS_NOTE = (
    "the binaries source's start: {data}, server started as {account}, polled until it "
    "answers with its own version"
)
TEMPLATE_COPIED = "template data directory copied"
NO_TEMPLATE = "no data directory to copy (it has no template)"
FLOOR_NOTE = (
    "the harness's start command and readiness check on a data directory initialised once "
    "and reused in place (no copy, no init): the machine's floor"
)
CONTAINER_NOTE = (
    "testcontainers {contract} on the local engine ({image}): container created and "
    "started, polled until the server answers with its own version; removal not timed"
)
MYSQL_CONTAINER_NOTE = "; the image's entrypoint initialises its data directory at every start"
PYTEST_POSTGRESQL_NOTE = (
    "pytest-postgresql {version}'s PostgreSQLExecutor as its postgresql_proc fixture runs it "
    "(pg_ctl initdb, pg_ctl start -w, port open) until a first SELECT 1 is accepted; timed "
    "inside a child process running as {account}, the child's interpreter start and imports "
    "excluded"
)
INIT_NOTES = {
    "mysql": "mysqld --initialize-insecure into a fresh data directory, then the harness's "
    "start (what pytest-mysql does once per session)",
    "mariadb": "mariadb-install-db into a fresh data directory, then the harness's start "
    "(what pytest-mysql does once per session for MariaDB)",
}
NO_INIT_NOTE = (
    "{name} has no data directory to initialise: a plain start on an empty folder, the same "
    "as its floor"
)


def _account_name(account: Account | None) -> str:
    return account.name if account is not None else "the current user"


def _timed(start: Callable[[], AbstractContextManager[RunningServer]], note: str) -> Way:
    seen = Seen()
    return Way(partial(time_start, start, seen), note, seen)


def fresh_way(spec: VersionSpec, recipe: ServerBackend, provider: BinariesProvider) -> Way | str:
    """The per-session way of the pytest plugins, or why it cannot be measured here."""
    account = server_account()
    program = provider.program()
    if spec.backend == "postgres":
        pg_ctl = program.path.parent / "pg_ctl"
        if not pg_ctl.is_file():
            return f"no pg_ctl beside {program.path} for pytest-postgresql's executor"
        version = _pytest_postgresql_version()
        if version == "?":
            return "pytest-postgresql is not installed (pip install -e .[test])"
        seen = Seen(
            provenance=f"pytest-postgresql {version} PostgreSQLExecutor, {pg_ctl}",
            extra={"pytest_postgresql": version},
        )
        note = PYTEST_POSTGRESQL_NOTE.format(version=version, account=_account_name(account))
        return Way(partial(time_pytest_postgresql, pg_ctl, seen), note, seen)
    fresh = partial(provider.start, data=fresh_data_directory(recipe, provider, account))
    note = INIT_NOTES.get(spec.backend) or NO_INIT_NOTE.format(name=recipe.display_name)
    return _timed(fresh, note)


def container_way(spec: VersionSpec, recipe: ServerBackend) -> Way | str:
    """The testcontainers way, or why it cannot be measured here."""
    try:
        image_provider = choose_provider(spec, only="image")
    except Unavailable as exc:
        return exc.reason
    images = [s.image for s in spec.sources if isinstance(s, ImageSource)]
    image = images[0] if images else "?"
    contract = recipe.image_contract("unused")
    note = CONTAINER_NOTE.format(contract=contract.class_name, image=image)
    if spec.backend == "mysql":
        note += MYSQL_CONTAINER_NOTE
    way = _timed(image_provider.start, note)
    way.seen.extra["image"] = image
    return way


def measure_server(
    spec: VersionSpec, repeat: int, containers_why_not: str | None, say: Callable[[str], None]
) -> list[Figure]:
    """The four ways of one server, interleaved round by round, as figures."""
    recipe = server_backend(spec.backend)
    provider = choose_provider(spec, only="binaries")
    if not isinstance(provider, BinariesProvider):
        raise Unavailable(f"{spec.id} has no binaries source")
    account = server_account()
    title = f"{display_name(spec.backend)} {spec.version}"
    with ExitStack() as stack:
        say(f"{SECTION}: {spec.id}: preparing the floor's data directory")
        floor_dir = stack.enter_context(floor_data_directory(spec, provider))
        ways: dict[str, Way] = {
            HARNESS: _timed(
                provider.start,
                HARNESS_NOTE.format(
                    data=TEMPLATE_COPIED if recipe.needs_template else NO_TEMPLATE,
                    account=_account_name(account),
                ),
            )
        }
        absent: dict[str, str] = {}
        candidates = {
            FRESH: fresh_way(spec, recipe, provider),
            CONTAINER: (
                containers_why_not
                if containers_why_not is not None
                else container_way(spec, recipe)
            ),
            FLOOR: _timed(partial(provider.start, data=lambda _run_dir: floor_dir), FLOOR_NOTE),
        }
        for key, way in candidates.items():
            if isinstance(way, Way):
                ways[key] = way
            else:
                absent[key] = way
        say(f"{SECTION}: {spec.id}: {repeat} round(s) of {', '.join(ways)}")
        samples = interleaved({key: way.measure for key, way in ways.items()}, repeat)
    return server_figures(spec.id, title, samples, ways, absent)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def provisioning_figures(
    repeat: int = 3,
    *,
    say: Callable[[str], None] = _to_stderr,
    servers: Sequence[str] = SERVERS,
    matrix_file: Path = MATRIX_FILE,
) -> list[Figure]:
    """Provisioning one server four ways (see the module's docstring), for each of `servers`
    (version ids of `matrix_file`): the times (s) and the per-round ratios."""
    matrix = load_matrix(matrix_file)
    specs = [matrix.version(server) for server in servers]
    images = [s.image for spec in specs for s in spec.sources if isinstance(s, ImageSource)]
    figures: list[Figure] = []
    with engine_with_images(images, say) as containers_why_not:
        if containers_why_not is not None:
            say(f"{SECTION}: no container figures: {containers_why_not}")
        for spec in specs:
            try:
                figures += measure_server(spec, repeat, containers_why_not, say)
            except ProviderError as error:
                say(f"{SECTION}: {spec.id} left out: {error}")
    return figures
