"""Races and bursts against a live service, shared by the concurrency group and `nox -s fuzz`.

Each probe sends a bounded number of requests from real threads released together, and returns
every answer with the answers the API documents for it: anything else (a 5xx above all) is
listed in `unexpected`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

PASSWORD = "race-probe-password"
START_TIMEOUT_SECONDS = 30.0
SETUP_ATTEMPTS = 20  # a login or registration answered 429 is retried (Retry-After) this often

T = TypeVar("T")


@dataclass
class ProbeResult:
    """The answers of one probe: (route, status) counted, and those the API does not document."""

    name: str
    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)

    def record(self, route: str, status: int, documented: set[int]) -> None:
        self.answers[(route, status)] += 1
        if status not in documented:
            self.unexpected.append(f"{route} answered {status} (documented: {sorted(documented)})")

    @property
    def requests(self) -> int:
        return sum(self.answers.values())

    @property
    def server_errors(self) -> int:
        return sum(count for (_route, status), count in self.answers.items() if status >= 500)

    def count(self, route: str, status: int) -> int:
        return self.answers[(route, status)]

    def summary(self) -> str:
        shown = ", ".join(f"{r} {s}×{n}" for (r, s), n in sorted(self.answers.items()))
        return f"{self.name}: {self.requests} requests, {self.server_errors} 5xx ({shown})"


def all_at_once(
    requests: Sequence[Callable[[], T]], on_release: Callable[[], None] | None = None
) -> list[T]:
    """Run every request in its own thread, all released together (after `on_release()`);
    their results in order."""
    start = threading.Barrier(len(requests), action=on_release)

    def released(request: Callable[[], T]) -> T:
        start.wait(timeout=START_TIMEOUT_SECONDS)
        return request()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(released, requests))


def retrying_busy(send: Callable[[], httpx.Response]) -> httpx.Response:
    """`send()` again after Retry-After while the service answers 429 (bounded)."""
    for _attempt in range(SETUP_ATTEMPTS):
        response = send()
        if response.status_code != 429:
            return response
        threading.Event().wait(float(response.headers.get("Retry-After", "1")))
    return response


@dataclass(frozen=True)
class ApiUser:
    """A registered user and an access token of theirs."""

    id: int
    headers: dict[str, str]


def register_and_log_in(http: httpx.Client, email: str) -> ApiUser:
    """Register `email` (password PASSWORD) through the API and log in."""
    body = {"name": "Racer", "email": email, "password": PASSWORD}
    registered = retrying_busy(lambda: http.post("/auth/register", json=body))
    registered.raise_for_status()
    credentials = {"email": email, "password": PASSWORD}
    logged_in = retrying_busy(lambda: http.post("/auth/login", json=credentials))
    logged_in.raise_for_status()
    token = logged_in.json()["access_token"]
    return ApiUser(registered.json()["id"], {"Authorization": f"Bearer {token}"})


def _new_post(http: httpx.Client, user: ApiUser) -> int:
    created = http.post("/posts", json={"title": "Race", "content": "x"}, headers=user.headers)
    created.raise_for_status()
    return int(created.json()["id"])


Request = tuple[str, set[int], Callable[[], httpx.Response]]


def _fire(result: ProbeResult, requests: list[Request]) -> None:
    answers = all_at_once([send for _route, _documented, send in requests])
    for (route, documented, _send), response in zip(requests, answers, strict=True):
        result.record(route, response.status_code, documented)


def post_delete_race(
    http: httpx.Client, new_email: Callable[[], str], writers: int = 19, rounds: int = 2
) -> ProbeResult:
    """`writers` PUT /posts/{id} and one DELETE of that post by its author, all at once."""
    result = ProbeResult("a post's DELETE racing its PUTs")
    user = register_and_log_in(http, new_email())
    for _round in range(rounds):
        _fire(result, _post_race_requests(http, user, writers))
    return result


def _post_race_requests(http: httpx.Client, user: ApiUser, writers: int) -> list[Request]:
    path = f"/posts/{_new_post(http, user)}"
    update: Request = (
        "PUT /posts/{id}",
        {200, 404},
        lambda: http.put(path, json={"title": "Raced"}, headers=user.headers),
    )
    delete: Request = (
        "DELETE /posts/{id}",
        {204, 404},
        lambda: http.delete(path, headers=user.headers),
    )
    requests = [update] * writers
    requests.insert(writers // 2, delete)
    return requests


def account_delete_race(
    http: httpx.Client, new_email: Callable[[], str], writers: int = 30, rounds: int = 2
) -> ProbeResult:
    """A user deletes their account while their POST /posts, PUT /users/{id} and
    PUT /posts/{id} run: each write finds the account there (2xx) or gone (401, or 404 for
    the post), never a 500. Afterwards the account reads 404."""
    result = ProbeResult("an account's DELETE racing its writes")
    for _round in range(rounds):
        user = register_and_log_in(http, new_email())
        _fire(result, _account_race_requests(http, user, writers))
        gone = http.get(f"/users/{user.id}")
        result.record("GET /users/{id} afterwards", gone.status_code, {404})
    return result


def _account_race_requests(http: httpx.Client, user: ApiUser, writers: int) -> list[Request]:
    post_path = f"/posts/{_new_post(http, user)}"
    user_path = f"/users/{user.id}"
    kinds: list[Request] = [
        (
            "POST /posts",
            {201, 401},
            lambda: http.post("/posts", json={"title": "T", "content": "c"}, headers=user.headers),
        ),
        (
            "PUT /users/{id}",
            {200, 401},
            lambda: http.put(user_path, json={"name": "Renamed"}, headers=user.headers),
        ),
        (
            "PUT /posts/{id}",
            {200, 401, 404},
            lambda: http.put(post_path, json={"title": "Edited"}, headers=user.headers),
        ),
    ]
    delete: Request = (
        "DELETE /users/{id}",
        {204, 401},
        lambda: http.delete(user_path, headers=user.headers),
    )
    requests = [kinds[index % len(kinds)] for index in range(writers)]
    requests.insert(writers // 2, delete)
    return requests


def same_email_registrations(http: httpx.Client, email: str, count: int = 20) -> ProbeResult:
    """`count` registrations of one email at once: one 201, the others 400 (or 429 when the
    hashing pool is full), never a 500 from the unique constraint."""
    result = ProbeResult("registrations of one email")
    body = {"name": "Twin", "email": email, "password": PASSWORD}
    send = lambda: http.post("/auth/register", json=body)  # noqa: E731
    _fire(result, [("POST /auth/register", {201, 400, 429}, send)] * count)
    created = result.count("POST /auth/register", 201)
    if created > 1:
        result.unexpected.append(f"{created} registrations of {email} answered 201")
    return result


def login_burst(
    http: httpx.Client,
    new_email: Callable[[], str],
    count: int = 40,
    on_release: Callable[[], None] | None = None,
) -> ProbeResult:
    """`count` logins of unknown emails at once: 401, or 429 with Retry-After past the
    hashing pool; never a 5xx. `on_release()` runs as they are let go."""
    result = ProbeResult("a burst of unknown-email logins")
    requests: list[Request] = []
    for _index in range(count):
        body = {"email": new_email(), "password": PASSWORD}
        requests.append(
            ("POST /auth/login", {401, 429}, lambda body=body: http.post("/auth/login", json=body))
        )
    answers = all_at_once([send for _route, _documented, send in requests], on_release)
    for response in answers:
        result.record("POST /auth/login", response.status_code, {401, 429})
        if response.status_code == 429 and not response.headers.get("Retry-After", "").isdigit():
            result.unexpected.append("a 429 without a Retry-After in seconds")
    return result


@dataclass(frozen=True)
class BurstFigures:
    """What a login burst did to the service: the answers, its peak memory, a read's wait."""

    logins: ProbeResult
    peak_memory_mib: float | None  # None when the process's peak cannot be read
    read_seconds: float
    read_status: int


def peak_memory_mib(pid: int) -> float | None:
    """The process's peak resident memory (VmHWM, Linux), in MiB; None elsewhere."""
    try:
        status = open(f"/proc/{pid}/status", encoding="ascii").read()  # noqa: SIM115
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def login_burst_with_a_read(
    http: httpx.Client, new_email: Callable[[], str], pid: int | None, count: int = 40
) -> BurstFigures:
    """`login_burst` while one GET /users/{id} is timed from inside the burst; the service's
    peak memory afterwards (its process id: `pid`)."""
    reader = register_and_log_in(http, new_email())
    timed: list[tuple[float, int]] = []
    burst_started = threading.Event()

    def timed_read() -> None:
        burst_started.wait(timeout=START_TIMEOUT_SECONDS)
        started = time.monotonic()
        status = http.get(f"/users/{reader.id}").status_code
        timed.append((time.monotonic() - started, status))

    thread = threading.Thread(target=timed_read, name="timed-read")
    thread.start()

    logins = login_burst(http, new_email, count, on_release=burst_started.set)
    thread.join(timeout=START_TIMEOUT_SECONDS * 4)
    (read_seconds, read_status), *_ = timed or [(float("nan"), 0)]
    memory = peak_memory_mib(pid) if pid is not None else None
    return BurstFigures(logins, memory, read_seconds, read_status)
