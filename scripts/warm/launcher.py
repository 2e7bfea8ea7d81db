"""Stands in for `python` where pytest-xdist starts a worker: the preloaded pytest forks one.

pytest-xdist runs `<python> -u -c "import sys;exec(eval(sys.stdin.readline()))"` for each
worker, talking to it over the worker's stdin and stdout. With `--tx N*popen//python=<python>
-S -I <this file>`, that command becomes this program, which hands its stdin, stdout and
stderr to the preloaded pytest (`scripts.warm.server`, at the socket `PRELOADED_PYTEST_SOCKET`
names), lets the fork it makes run the worker on them, and exits as that fork exits (killed by
the same signal when it was killed). When no preloaded pytest answers, it becomes the plain
interpreter instead. Standard library only: it runs with `-S -I`, in milliseconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

SOCKET_ENV = "PRELOADED_PYTEST_SOCKET"


def _become_plain_python(args: list[str]) -> None:
    os.execv(sys.executable, [sys.executable, *args])  # noqa: S606 - the interpreter itself


def _read_lines(connection: socket.socket) -> list[dict[str, object]]:
    data = b""
    messages: list[dict[str, object]] = []
    while True:
        chunk = connection.recv(4096)
        if not chunk:
            return messages
        data += chunk
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            messages.append(json.loads(line))
            if "exit" in messages[-1] or "error" in messages[-1]:
                return messages


def main() -> int:
    args = sys.argv[1:]
    path = os.environ.get(SOCKET_ENV)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if not path:
            raise OSError(f"{SOCKET_ENV} is not set")
        connection.connect(path)
        request = {"kind": "worker", "argv": args, "env": dict(os.environ), "cwd": os.getcwd()}
        socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    except OSError:
        connection.close()
        _become_plain_python(args)
    # the fork holds the pipes now: let go of ours, so that its end is seen when it ends
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    messages = _read_lines(connection)
    ended = [m for m in messages if "exit" in m]
    if not ended:
        refused = [m["error"] for m in messages if "error" in m]
        print(f"the preloaded pytest: {refused or 'hung up'}", file=sys.stderr)
        return 1
    code = ended[0]["exit"]
    assert isinstance(code, int)
    if code < 0:  # killed: end the same way, as pytest-xdist would see a plain worker end
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main())
