"""The long fuzz run (`nox -s fuzz`): schemathesis against a real uvicorn serving
matrix.toml's `[suite] app` (the bundled service: `app.main:app`),
then the race and burst probes (tests/support/live_probes.py) against the same service.

    python -m tests.support.live_fuzz [--probes-only] [--app-dir DIR] [schemathesis options...]

--probes-only skips schemathesis; --app-dir serves the `app` package of another checkout
(e.g. a clone of main, to compare its figures with this one's).

DATABASE_URL names the server (default: SQLite) and REDIS_URL the Redis (default: a throwaway
redis-server), as for the suite: the run gets its own database and Redis db index, dropped at
the end. The service runs on a free 127.0.0.1 port, started here through the harness's process
runner and stopped afterwards; what it logged is printed at the end. The
exit status is schemathesis's, or 1 when a probe got an undocumented answer (a 5xx).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import httpx

from scripts.files import log_tail
from scripts.matrix import load_matrix
from scripts.paths import MATRIX_FILE
from scripts.providers.base import ProvisioningError
from scripts.providers.process import Readiness, serving
from scripts.pytest_plugin.caches import worker_caches_for
from scripts.pytest_plugin.databases import provisioner_for
from scripts.pytest_plugin.naming import new_run_id, worker_resource_name
from scripts.pytest_plugin.redis_server import throwaway_redis_server
from tests.support.live_probes import run_probes
from tests.support.live_server import free_port

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")

DEFAULT_DATABASE_URL = "sqlite://"
READY_TIMEOUT_SECONDS = 30.0
SERVICE_LOG_LINES = 200
# Every check, stateful links, and at least 150 examples per operation.
SCHEMATHESIS_OPTIONS = ("--checks", "all", "--max-examples", "150", "--request-timeout", "10")


class ServiceStartError(RuntimeError):
    """uvicorn exited or did not answer in time."""


class NotServingYetError(Exception):
    """The service answered, but not its schema yet."""


def serves_its_schema(base_url: str) -> None:
    """Return once `GET /openapi.json` answers 200; raise while it does not."""
    status = httpx.get(f"{base_url}/openapi.json", timeout=1).status_code
    if status != 200:
        raise NotServingYetError(f"GET /openapi.json answered {status}")


@contextmanager
def running_service(
    environment: dict[str, str], app_dir: Path | None = None, app: str | None = None
) -> Iterator[tuple[str, int]]:
    """`uvicorn <app>` on a free 127.0.0.1 port: the matrix file's `[suite] app` unless `app`
    is given (imported from `app_dir` when given),
    through the process runner (tied to this process, polled until it serves, its group
    stopped after); yields its base URL and process id. What it logged is printed at the end."""
    port = free_port()
    served = app or load_matrix(MATRIX_FILE).suite.app
    command = [sys.executable, "-m", "uvicorn", served, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    base_url = f"http://127.0.0.1:{port}"
    ready = Readiness(
        f"uvicorn on {base_url}",
        partial(serves_its_schema, base_url),
        (httpx.TransportError, NotServingYetError),
        deadline_s=READY_TIMEOUT_SECONDS,
    )
    with tempfile.TemporaryDirectory(prefix="ct_fuzz_service_") as folder, ExitStack() as stack:
        log_path = Path(folder) / "uvicorn.log"
        stack.callback(print_service_log, log_path)
        try:
            service = stack.enter_context(
                serving(command, log_path, ready, env={**os.environ, **environment})
            )
        except ProvisioningError as error:
            raise ServiceStartError(f"{error.message}\n{error.log_tail}".rstrip()) from error
        yield base_url, service.process.pid


def print_service_log(log_path: Path) -> None:
    """The service's last log lines (its warnings and tracebacks), when it wrote any."""
    tail = log_tail(log_path, SERVICE_LOG_LINES)
    if tail:
        print(f"the service's log (its last {SERVICE_LOG_LINES} lines at most):", flush=True)
        print(tail, flush=True)


def _options(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="nox -s fuzz --", add_help=False)
    parser.add_argument("--probes-only", action="store_true")
    parser.add_argument("--app-dir", type=Path)
    options, schemathesis_options = parser.parse_known_args(argv)
    if options.app_dir is not None and not (options.app_dir / "app" / "main.py").is_file():
        parser.error(f"--app-dir {options.app_dir}: no app/main.py there (a checkout's root)")
    return options, schemathesis_options


def fuzz(argv: Sequence[str]) -> int:
    """Provision a database and a Redis db, run the service, schemathesis and the probes."""
    options, extra_options = _options(argv)
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    name = worker_resource_name(new_run_id(), "fuzz")
    with ExitStack() as stack:
        database_url = stack.enter_context(provisioner_for(server_url).worker_database(name))
        redis_server = os.environ.get("REDIS_URL") or stack.enter_context(throwaway_redis_server())
        redis_url = stack.enter_context(worker_caches_for(redis_server).claimed(name, "master"))
        environment = {
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_QUEUE": name,
            "JWT_SECRET": secrets.token_urlsafe(48),
        }
        base_url, pid = stack.enter_context(running_service(environment, options.app_dir))
        if options.probes_only:
            return 0 if run_probes(base_url, pid) else 1
        command = ["schemathesis", "--config-file", str(CONFIG_FILE), "run"]
        command += [f"{base_url}/openapi.json", *SCHEMATHESIS_OPTIONS]
        print("$", " ".join([*command, *extra_options]), flush=True)
        # schemathesis and Hypothesis keep their files (.schemathesis/, .hypothesis/) in the
        # working folder: a scratch one, not the checkout.
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="ct_fuzz_"))
        run = subprocess.run([*command, *extra_options], cwd=scratch, check=False)  # noqa: S603
        probes_held = run_probes(base_url, pid)
        return run.returncode or (0 if probes_held else 1)
    return 1  # unreachable: the ExitStack re-raises


if __name__ == "__main__":
    sys.exit(fuzz(sys.argv[1:]))
