"""The grader's side of the fork server (:mod:`grader.zygote`): start it once, fork workers from it.

One fork server serves the whole grader process, every thread of a batch included.
It starts on the first worker and is started again if it has died; it ends when the
grader does (bubblewrap's ``--die-with-parent``, and its socket closing).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import socket
import subprocess
import threading
import time
from typing import Any


class ForkedWorker:
    """A worker forked by the fork server, known through its supervisor's control socket.

    The supervisor is the worker's parent, so it alone can wait for it: it kills the
    worker on ``kill`` (or when this socket closes) and sends back one line with the
    exit status.
    """

    def __init__(self, ctl: socket.socket) -> None:
        self.ctl = ctl
        self.ended = False
        self.code: int | None = None

    def running(self) -> bool:
        return not self._collect(0.0)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.ctl.send(b"kill")

    def wait(self, timeout: float) -> int | None:
        """The exit status, waiting at most ``timeout`` s; None if it is not known by then."""
        self._collect(timeout)
        return self.code

    def close(self) -> None:
        self.ctl.close()

    def _collect(self, timeout: float) -> bool:
        """Read the supervisor's status line if it has come; True once the worker has ended."""
        if self.ended:
            return True
        if self.ctl.fileno() < 0 or not select.select([self.ctl], [], [], timeout)[0]:
            return False
        data = b""
        with contextlib.suppress(OSError):
            while not data.endswith(b"\n") and (chunk := self.ctl.recv(256)):
                data += chunk
        self.ended = True
        with contextlib.suppress(ValueError, TypeError, KeyError):
            self.code = int(json.loads(data)["exit"])
        return True


class ForkServer:
    """A running fork server: a process, its socket, and a thread that started and waits for it.

    The thread starts the process and outlives it, because bubblewrap's
    ``--die-with-parent`` follows the thread that started it: a batch's worker thread
    that ends must not take the fork server with it.
    """

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        #: Seconds from launch until the server had imported torch (None until then).
        self.startup_seconds: float | None = None
        self.ready = threading.Event()
        started = threading.Event()

        def keep() -> None:
            t0 = time.perf_counter()
            try:
                self.proc = subprocess.Popen([*command, str(theirs.fileno())], env=env, pass_fds=(theirs.fileno(),),
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            finally:
                theirs.close()
                started.set()
            with contextlib.suppress(OSError):
                if self.sock.recv(16) == b"ready":
                    self.startup_seconds = time.perf_counter() - t0
            self.ready.set()
            self.proc.wait()

        threading.Thread(target=keep, name="grader-fork-server", daemon=True).start()
        started.wait()
        if self.proc is None:
            raise RuntimeError("the fork server could not be started")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self, fds: list[int], request: bytes) -> ForkedWorker:
        """Hand the worker's pipes to the fork server, then send what the worker needs."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self.lock:
                socket.send_fds(self.sock, [b"spawn"], [theirs.fileno(), *fds])
        finally:
            theirs.close()
        try:
            mine.sendall(request)
        except OSError:
            pass  # the helper died first; the worker's reply pipe says so
        return ForkedWorker(mine)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting for "ready", and ends the server
        self.sock.close()
        if self.proc is not None and not self.ready.is_set():
            self.proc.kill()  # still importing torch: no need to wait for that
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)


_lock = threading.Lock()
_servers: dict[tuple[Any, ...], ForkServer] = {}


def server(key: tuple[Any, ...], command: list[str], env: dict[str, str]) -> ForkServer:
    """The running fork server for ``key``, started (or started again) as needed.

    ``key`` names everything the server was started with (sandbox, interpreter), so
    a change of either starts a new one; so does a fork of this process, which must
    not share its parent's server.
    """
    key = (*key, os.getpid())
    with _lock:
        found = _servers.get(key)
        if found is None or not found.alive:
            found = _servers[key] = ForkServer(command, env)
        return found


def spawn(key: tuple[Any, ...], command: list[str], env: dict[str, str], fds: list[int],
          request: bytes) -> ForkedWorker:
    """Fork one worker from the fork server for ``key``; a server that has died is replaced once."""
    first = server(key, command, env)
    try:
        return first.spawn(fds, request)
    except OSError:
        first.close()
        return server(key, command, env).spawn(fds, request)


def shutdown() -> None:
    """Stop every fork server (tests, and the end of the grader's process)."""
    with _lock:
        for running in _servers.values():
            running.close()
        _servers.clear()


atexit.register(shutdown)
