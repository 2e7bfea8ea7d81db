"""The race and burst probes against a running service, with the figures a person reads.

    python -m tests.support.live_probes http://127.0.0.1:8000 [--pid PID]

`nox -s fuzz` runs them after schemathesis against the service it started; this entry point
runs them against any service already listening (the process id gives its peak memory).
The exit status is 1 when any answer was not a documented one (a 5xx above all).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

import httpx

from tests.support.race_probes import (
    ProbeResult,
    account_delete_race,
    login_burst_with_a_read,
    peak_memory_mib,
    post_delete_race,
    register_and_log_in,
    same_email_registrations,
)

REQUEST_TIMEOUT_SECONDS = 120.0


def probe_email() -> str:
    """An address no other run uses."""
    return f"probe-{uuid.uuid4().hex[:16]}@example.com"


def _idle_read_seconds(http: httpx.Client) -> float:
    user = register_and_log_in(http, probe_email())
    started = time.monotonic()
    http.get(f"/users/{user.id}").raise_for_status()
    return time.monotonic() - started


def run_probes(base_url: str, pid: int | None) -> bool:
    """The burst first (so the peak memory is the burst's), then the races; True when every
    answer was documented. Prints one line per probe."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits) as http:
        memory_at_start = peak_memory_mib(pid) if pid is not None else None
        idle_read = _idle_read_seconds(http)
        burst = login_burst_with_a_read(http, probe_email, pid)
        print(burst.logins.summary(), flush=True)
        print(
            f"  peak memory of the service: {_mib(memory_at_start)} before the burst, "
            f"{_mib(burst.peak_memory_mib)} after",
            flush=True,
        )
        print(
            f"  GET /users/{{id}} during the burst: {burst.read_seconds:.3f} s "
            f"({burst.read_status}); idle: {idle_read:.3f} s",
            flush=True,
        )
        results: list[ProbeResult] = [burst.logins]
        for probe in (post_delete_race, account_delete_race):
            results.append(probe(http, probe_email))
            print(results[-1].summary(), flush=True)
        results.append(same_email_registrations(http, probe_email()))
        print(results[-1].summary(), flush=True)
    unexpected = [line for result in results for line in result.unexpected]
    for line in unexpected:
        print(f"UNEXPECTED: {line}", flush=True)
    total = sum(result.requests for result in results)
    errors = sum(result.server_errors for result in results)
    print(f"probes: {total} requests, {errors} 5xx, {len(unexpected)} undocumented answers")
    return not unexpected


def _mib(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f} MiB"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the service, e.g. http://127.0.0.1:8000")
    parser.add_argument("--pid", type=int, help="the service's process id (its peak memory)")
    options = parser.parse_args(argv)
    return 0 if run_probes(options.base_url, options.pid) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
