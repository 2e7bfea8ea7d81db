"""The harness's side of the preloaded pytest (`scripts.warm.server`): start it once per run,
ask it for a fork per run of the suite.

    with preloaded_pytest(["tests/integration", "-p", "scripts.suite_progress"], env) as forks:
        with forks.suite(argv, log, cwd=..., env=...) as suite:   # tied like process_group
            code = wait_for_exit(suite, deadline=..., doing="running the suite")

`preloaded_pytest` yields None when the server cannot start (its log says why): the cells
then start pytest as a new interpreter, as they would without it.
"""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from scripts.files import log_tail
from scripts.paths import REPO_ROOT
from scripts.providers import runs
from scripts.providers.base import ProvisioningError
from scripts.providers.process import process_group, tied_group, wait_until_answers
from scripts.warm.launcher import SOCKET_ENV

SERVER_MODULE = "scripts.warm.server"
LAUNCHER = Path(__file__).with_name("launcher.py")
START_LIMIT_S = 120.0  # importing the suite once: seconds on a loaded machine
ANSWER_LIMIT_S = 30.0  # a fork is answered at once; this only bounds a wedged server


class ForkServerGoneError(Exception):
    """The preloaded pytest no longer answers; the caller starts pytest the ordinary way."""


class ForkedSuite:
    """One run of the suite, forked by the server: a process group leader like a `Popen`."""

    def __init__(
        self, connection: socket.socket, pid: int, argv: Sequence[str], buffered: bytes = b""
    ) -> None:
        """`buffered`: what was read past the server's first answer (its exit may be there)."""
        self._connection = connection
        self._buffer = b""
        self.pid = pid
        self.args = list(argv)
        self.returncode: int | None = None
        self._take(buffered)

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read(timeout=0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._read(timeout=remaining) and remaining is not None and remaining <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return self.returncode

    def close(self) -> None:
        """Hang up: the server kills the fork's group if it still runs."""
        self._connection.close()
        if self.returncode is None:
            self.returncode = -signal.SIGKILL

    def _read(self, timeout: float | None) -> bool:
        """Read what the server sent within `timeout`; False when nothing came."""
        ready, _, _ = select.select([self._connection], [], [], timeout)
        if not ready:
            return False
        data = self._connection.recv(4096)
        if not data:  # the server died: its forks died with it (parent-death signal)
            self.returncode = -signal.SIGKILL
            return True
        self._take(data)
        return True

    def _take(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            message = json.loads(line)
            if "exit" in message:
                self.returncode = int(message["exit"])


class PreloadedPytest:
    """A `scripts.warm.server` started for this run, reached through its socket.

    It is not waited for when started: the first suite that asks for a fork waits until it
    answers (cells start their servers meanwhile)."""

    def __init__(
        self,
        server: subprocess.Popen[bytes],
        socket_path: Path,
        log: Path,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.server = server
        self.socket_path = socket_path
        self.log = log
        self._say = say
        self._lock = threading.Lock()
        self._failure: str | None = None
        self._ready = False

    def wait_until_ready(self) -> None:
        """Return once the server accepts requests; `ForkServerGoneError` when it never will."""
        with self._lock:
            if self._ready:
                return
            if self._failure is None:
                self._failure = self._wait()
                self._ready = self._failure is None
                if self._failure is not None and self._say is not None:
                    self._say(f"note: cells start pytest afresh: {self._failure}")
            if self._failure is not None:
                raise ForkServerGoneError(self._failure)

    def _wait(self) -> str | None:
        def connects() -> None:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(str(self.socket_path))

        try:
            wait_until_answers(
                self.server,
                connects,
                (FileNotFoundError, ConnectionRefusedError),
                what="the preloaded pytest",
                log_path=self.log,
                deadline_s=START_LIMIT_S,
            )
        except ProvisioningError as error:
            tail = log_tail(self.log, lines=5)
            return f"{error.message}\n{tail}".rstrip()
        return None

    def xdist_arguments(self, workers: int) -> list[str]:
        """pytest's arguments for `workers` xdist workers forked by this server too (instead
        of `-n N`); each becomes a new interpreter should the server be gone."""
        python = f"{sys.executable} -S -I {LAUNCHER}"
        return ["--tx", f"{workers}*popen//python={python}", "--dist", "load"]

    @contextmanager
    def suite(
        self, argv: Sequence[str], log: Path, *, cwd: Path, env: Mapping[str, str]
    ) -> Iterator[ForkedSuite]:
        """`pytest <argv>` forked by the server, tied to this process like a process group
        (stopped on exit, watched, recorded); `ForkServerGoneError` if the server is gone."""
        self.wait_until_ready()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.settimeout(ANSWER_LIMIT_S)
            env = {**env, SOCKET_ENV: str(self.socket_path)}  # for its xdist workers
            request = {"argv": list(argv), "env": env, "cwd": str(cwd), "log": str(log)}
            try:
                connection.connect(str(self.socket_path))
                connection.sendall(json.dumps(request).encode() + b"\n")
                answer, rest = read_answer(connection)
            except OSError as error:
                raise ForkServerGoneError(f"the preloaded pytest is gone: {error}") from None
            pid = answer.get("pid")
            if not isinstance(pid, int):
                raise ForkServerGoneError(f"the preloaded pytest refused: {answer.get('error')}")
            suite = ForkedSuite(connection, pid, argv, rest)
            with tied_group(suite):
                yield suite
        finally:
            connection.close()


def read_answer(connection: socket.socket) -> tuple[dict[str, object], bytes]:
    """The server's first answer, and whatever arrived after it."""
    data = b""
    while b"\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            raise OSError("the connection closed before an answer")
        data += chunk
    line, rest = data.split(b"\n", 1)
    message = json.loads(line)
    if not isinstance(message, dict):
        raise OSError(f"not an answer: {message!r}")
    return message, rest


@contextmanager
def preloaded_pytest(
    pytest_args: Sequence[str],
    env: Mapping[str, str],
    *,
    say: Callable[[str], None] | None = None,
) -> Iterator[PreloadedPytest]:
    """Start the preloaded pytest for the suite `pytest_args` names (its paths and plugins);
    it is stopped, with every fork it made, on exit. `say` hears it when it cannot start
    (the cells then start pytest afresh)."""
    folder = runs.run_folder()
    socket_path = folder / f"pytest-{uuid.uuid4().hex[:8]}.sock"
    log = folder / "preloaded-pytest.log"
    command = [sys.executable, "-m", SERVER_MODULE, str(socket_path), *pytest_args]
    with process_group(command, log, cwd=REPO_ROOT, env=dict(env)) as server:
        yield PreloadedPytest(server, socket_path, log, say)
