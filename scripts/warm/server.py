"""A pytest that has imported the suite once and forks a copy of itself for each run of it.

    python -m scripts.warm.server SOCKET [PYTEST_ARGS ...]

It prepares a pytest configuration from PYTEST_ARGS (the suite's paths and plugins), which
loads pytest's plugins and the suite's conftest files through pytest's assertion-rewriting
import hook exactly as a run does; imports, through that same hook, every test module under
those paths and the database drivers; and drops the configuration. Then it serves on SOCKET
(a Unix socket, mode 0600). A request is one JSON line, `{"argv", "env", "cwd", "log"}`; it is
answered with `{"pid": N}` by a fork that becomes `pytest <argv>` in that environment and
folder, its output appended to `log`, and with `{"exit": CODE}` when that fork ends (a
negative CODE: killed by that signal). A request of kind "worker" passes its standard streams
along and gets a fork that runs a pytest-xdist worker on them (`scripts.warm.launcher`).

Each fork is a process group of its own (the harness stops it and its xdist workers with one
`killpg`), dies with this server (parent-death signal), and is killed when the connection
that asked for it closes: a harness that dies takes its suites with it.
"""

from __future__ import annotations

import ctypes
import importlib
import io
import json
import os
import selectors
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

DRIVERS = (
    "psycopg2",
    "pymysql",
    "sqlalchemy.dialects.postgresql.psycopg2",
    "sqlalchemy.dialects.mysql.pymysql",
    "sqlalchemy.dialects.sqlite.pysqlite",
)
"""Imported by SQLAlchemy only when an engine is made: imported here once instead."""
PR_SET_PDEATHSIG = 1
READ_CHUNK = 65536


@dataclass(frozen=True)
class SuiteRequest:
    """What one fork runs, in `cwd` with exactly `env`:
    - kind "suite": `pytest <argv>`, its output appended to `log`;
    - kind "worker": `python <argv>` (pytest-xdist's `-u -c <bootstrap>`) on the standard
      streams `fds` the asker passed along (`scripts.warm.launcher`)."""

    kind: str
    argv: list[str]
    env: dict[str, str]
    cwd: str
    log: str = ""
    fds: tuple[int, ...] = ()

    @classmethod
    def parse(cls, line: bytes, fds: Sequence[int] = ()) -> SuiteRequest:
        data = json.loads(line)
        kind = data.get("kind", "suite")
        argv, env, cwd, log = data["argv"], data["env"], data["cwd"], data.get("log", "")
        if not (
            isinstance(argv, list)
            and all(isinstance(arg, str) for arg in argv)
            and isinstance(env, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
            and isinstance(cwd, str)
            and isinstance(log, str)
        ):
            raise ValueError("a request needs argv (strings), env (strings), cwd and log")
        if kind == "suite" and not log:
            raise ValueError("a suite request needs the log it appends to")
        if kind == "worker" and len(fds) != 3:
            raise ValueError("a worker request passes its stdin, stdout and stderr")
        if kind not in ("suite", "worker"):
            raise ValueError(f"unknown kind {kind!r}")
        return cls(kind, argv, env, cwd, log, tuple(fds))


def preload(pytest_args: Sequence[str]) -> list[str]:
    """Import what every run of the suite imports; the names of the test modules that failed
    to import (each run then reports that error itself)."""
    from _pytest.config import _prepareconfig  # the one private name: pinned by a test

    config = _prepareconfig(list(pytest_args))
    failed: list[str] = []
    try:
        for name in DRIVERS:
            with suppress(ImportError):
                importlib.import_module(name)
        patterns = [str(p) for p in config.getini("python_files")]
        for path in config.args:
            for module in suite_module_names(Path(path), patterns):
                try:
                    importlib.import_module(module)
                except Exception:  # the run that imports it reports the error
                    sys.modules.pop(module, None)
                    failed.append(module)
    finally:
        config._ensure_unconfigure()  # removes the import hook; the modules stay imported
    return failed


def suite_module_names(path: Path, patterns: Sequence[str]) -> Iterator[str]:
    """The importable names of the test modules at `path` (a file or a folder), by pytest's
    rule for packages: a module's name starts at the highest folder with an `__init__.py`."""
    files = [path] if path.is_file() else sorted(path.rglob("*.py"))
    for file in files:
        if not any(file.match(pattern) for pattern in patterns):
            continue
        parts = [file.stem]
        folder = file.resolve().parent
        while (folder / "__init__.py").is_file():
            parts.insert(0, folder.name)
            folder = folder.parent
        if len(parts) > 1 or file.parent.resolve() == Path.cwd():
            yield ".".join(parts)


def set_parent_death_signal(sig: signal.Signals) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


class _Server:
    """The accept-and-fork loop; single-threaded, so that forking is safe."""

    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.pending: dict[socket.socket, bytes] = {}
        self.passed_fds: dict[socket.socket, list[int]] = {}
        self.fork_of: dict[socket.socket, int] = {}
        self.asker_of: dict[int, socket.socket] = {}
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(self.wake_write, False)
        self.pid = os.getpid()

    def serve(self) -> SuiteRequest:
        """Serve until killed; returns only in a fork, with the request it must run."""
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.selector.register(self.wake_read, selectors.EVENT_READ)
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.listener:
                    connection, _ = self.listener.accept()
                    self.pending[connection] = b""
                    self.selector.register(connection, selectors.EVENT_READ)
                elif key.fileobj == self.wake_read:
                    with suppress(BlockingIOError):
                        os.read(self.wake_read, READ_CHUNK)
                    self._reap()
                else:
                    assert isinstance(key.fileobj, socket.socket)
                    request = self._read(key.fileobj)
                    if request is not None and self._fork(key.fileobj, request) == 0:
                        return request

    def _read(self, connection: socket.socket) -> SuiteRequest | None:
        try:
            data, fds, _, _ = socket.recv_fds(connection, READ_CHUNK, 3)
        except OSError:
            data, fds = b"", []
        if fds:
            self.passed_fds.setdefault(connection, []).extend(fds)
        if connection in self.fork_of:  # the asker hung up (or wrote more): kill its suite
            if not data:
                with suppress(ProcessLookupError):
                    os.killpg(self.fork_of[connection], signal.SIGKILL)
                self._forget(connection)
            return None
        if not data:
            self._forget(connection)
            return None
        buffered = self.pending[connection] + data
        if b"\n" not in buffered:
            self.pending[connection] = buffered
            return None
        line = buffered.split(b"\n", 1)[0]
        try:
            return SuiteRequest.parse(line, self.passed_fds.get(connection, ()))
        except (ValueError, KeyError, TypeError) as error:
            _send(connection, {"error": f"bad request: {error}"})
            self._forget(connection)
            return None

    def _fork(self, connection: socket.socket, request: SuiteRequest) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._leave_the_server(keep=request.fds)
            return 0
        with suppress(PermissionError, ProcessLookupError):
            os.setpgid(pid, pid)  # also done by the fork itself: whichever runs first wins
        self.pending.pop(connection, None)
        for fd in self.passed_fds.pop(connection, ()):
            os.close(fd)  # the fork has them
        self.fork_of[connection] = pid
        self.asker_of[pid] = connection
        _send(connection, {"pid": pid})
        return pid

    def _leave_the_server(self, keep: Sequence[int]) -> None:
        """In the fork: leave everything of the server behind but the streams in `keep`."""
        os.setpgid(0, 0)
        set_parent_death_signal(signal.SIGKILL)
        if os.getppid() != self.pid:  # the server died before the signal was set
            os._exit(1)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for connection in [*self.pending, *self.fork_of]:
            connection.close()
        for fds in self.passed_fds.values():
            for fd in set(fds) - set(keep):  # other askers' streams
                os.close(fd)
        self.selector.close()
        self.listener.close()
        os.close(self.wake_read)
        os.close(self.wake_write)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            connection = self.asker_of.pop(pid, None)
            if connection is not None:
                with suppress(OSError):
                    _send(connection, {"exit": os.waitstatus_to_exitcode(status)})
                self._forget(connection)

    def _forget(self, connection: socket.socket) -> None:
        with suppress(KeyError, ValueError):
            self.selector.unregister(connection)
        self.pending.pop(connection, None)
        for fd in self.passed_fds.pop(connection, ()):
            os.close(fd)
        pid = self.fork_of.pop(connection, None)
        if pid is not None:
            self.asker_of.pop(pid, None)
        connection.close()


def _send(connection: socket.socket, message: dict[str, object]) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


@contextmanager
def listening(path: Path) -> Iterator[socket.socket]:
    """A Unix socket listening at `path`, only for this user; removed by this process only."""
    owner = os.getpid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old_mask = os.umask(0o177)
        try:
            listener.bind(str(path))
        finally:
            os.umask(old_mask)
        listener.listen(64)
        yield listener
    finally:
        listener.close()
        if os.getpid() == owner:
            path.unlink(missing_ok=True)


def run_suite(request: SuiteRequest) -> int:
    """In the fork: become `pytest <argv>` as asked."""
    log = os.open(request.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    _take_streams(devnull, log, log)
    _take_place(request)
    sys.argv = ["pytest", *request.argv]
    import pytest

    return int(pytest.main(request.argv))


def run_worker(request: SuiteRequest) -> int:
    """In the fork: become `python -u -c <code>` (pytest-xdist's worker) on the asker's
    standard streams. Only what pytest-xdist passes is understood: -u, -B and -c."""
    stdin, stdout, stderr = request.fds
    _take_streams(stdin, stdout, stderr)
    _take_place(request)
    args = list(request.argv)
    code: str | None = None
    while args:
        arg = args.pop(0)
        if arg == "-c" and args:
            code = args.pop(0)
            break
        if arg not in ("-u", "-B"):
            print(f"the preloaded pytest runs only `-u -c CODE`, not {arg!r}", file=sys.stderr)
            return 2
    if code is None:
        print("the preloaded pytest runs only `-u -c CODE`", file=sys.stderr)
        return 2
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(write_through=True)  # what -u does
    sys.argv = ["-c", *args]
    namespace: dict[str, object] = {"__name__": "__main__", "__builtins__": __builtins__}
    exec(compile(code, "<string>", "exec"), namespace)  # noqa: S102 - pytest-xdist's bootstrap
    return 0


def _take_streams(stdin: int, stdout: int, stderr: int) -> None:
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
    for fd in {stdin, stdout, stderr} - {0, 1, 2}:
        os.close(fd)


def _take_place(request: SuiteRequest) -> None:
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)


def main(argv: Sequence[str]) -> int:
    if not argv:
        print("usage: python -m scripts.warm.server SOCKET [PYTEST_ARGS ...]", file=sys.stderr)
        return 2
    socket_path, *pytest_args = argv
    failed = preload(pytest_args)
    if failed:
        print(f"not preloaded (each run reports why): {', '.join(failed)}", flush=True)
    if threading.active_count() != 1:  # forking a process with threads is not safe
        print("preloading started threads: cannot fork safely", file=sys.stderr)
        return 1
    with listening(Path(socket_path)) as listener:
        print("ready", flush=True)
        request = _Server(listener).serve()
    try:
        return run_worker(request) if request.kind == "worker" else run_suite(request)
    except SystemExit as leaving:  # what the code run exits with, as the interpreter would
        code = leaving.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:  # the fork must end here, whatever happened
        traceback.print_exc()
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
