"""Starting and talking to the worker process that runs student code.

The trusted process never imports student code. It starts ``python -I -m grader.worker``
in a fresh temporary directory holding only the student's files, with a minimal
environment, its own session (so the whole process group can be killed), rlimits on
address space, file size and open files, and a CPU limit that the worker arms after
its own start-up. Every request has a wall-clock deadline; on timeout or death the
worker is killed and the caller gets a verdict-bearing exception.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from grader import protocol
from grader.limits import Limits

#: What stands between student code and the grader, printed in every report's header.
ISOLATION = ("separate process (python -I), minimal environment, fresh temporary directory, rlimits on address "
             "space, CPU time, file size and open files; no namespace sandbox")

#: Seconds the worker may take to start (import torch and so on). Not charged to the
#: student; generous because that import takes 10-16 s on slow machines.
STARTUP_SECONDS = 180.0


class WorkerFailure(Exception):
    """The worker did not answer a request; ``verdict`` is a short word for reports."""

    verdict = "crashed"

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class WorkerTimeout(WorkerFailure):
    verdict = "timeout"


class WorkerCrashed(WorkerFailure):
    verdict = "crashed"


class OutputRefused(WorkerFailure):
    verdict = "output refused"


class _OutputDrain(threading.Thread):
    """Reads the worker's stdout/stderr pipe so it never blocks, keeping a capped prefix."""

    def __init__(self, stream: Any, cap: int) -> None:
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        while chunk := self.stream.read1(1 << 16):
            room = self.cap - len(self.kept)
            self.kept += chunk[: max(room, 0)]
            self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        out = self.kept.decode("utf-8", "replace")
        if self.dropped:
            out += f"\n[... {self.dropped} more bytes of output were dropped]"
        return out


def minimal_env(home: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's (tokens, keys, paths)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


class Worker:
    """One worker process for one submission. Use as a context manager."""

    def __init__(self, files: dict[str, bytes], limits: Limits) -> None:
        self.files, self.limits = files, limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.dir: str | None = None
        self.startup_seconds = 0.0
        self.hello: dict[str, Any] = {}

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> "Worker":
        """Spawn the worker; :meth:`wait_ready` waits for it to finish importing torch."""
        self.dir = tempfile.mkdtemp(prefix="grader-worker-")
        for name, data in self.files.items():
            Path(self.dir, name).write_bytes(data)
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        worker_limits = {"cpu_seconds": self.limits.cpu_seconds, "threads": self.limits.threads}
        self._t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "grader.worker", str(req_r), str(rep_w), json.dumps(worker_limits)],
            cwd=self.dir,
            env=minimal_env(self.dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(req_r, rep_w),
            start_new_session=True,
            preexec_fn=self._preexec,
        )
        os.close(req_r)
        os.close(rep_w)
        self.drain = _OutputDrain(self.proc.stdout, self.limits.output_kb * 1024)
        self.drain.start()
        return self

    def _preexec(self) -> None:
        """Runs in the child before exec: rlimits that hold from the first instruction."""
        mb = 1 << 20
        resource.setrlimit(resource.RLIMIT_AS, (self.limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limits.file_size_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.limits.open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def wait_ready(self) -> dict[str, Any]:
        self.hello = self._read(STARTUP_SECONDS, during="start-up")
        self.startup_seconds = time.perf_counter() - self._t0
        return self.hello

    def close(self) -> None:
        """Kill the whole process group and remove the temporary directory."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            for fd in (self.req_w, self.rep_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.drain.join(timeout=1)
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "Worker":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        """What the worker wrote to its real stdout/stderr (not the per-call capture)."""
        return self.drain.text()

    # -- requests ---------------------------------------------------------------------
    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait at most ``timeout`` seconds for its reply."""
        try:
            protocol.write_frame(self.req_w, protocol.pack(message))
        except BrokenPipeError:
            raise self._death("before the call") from None
        return self._read(timeout, during="the call")

    def _read(self, timeout: float, during: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        try:
            header = self._read_exact(protocol.HEADER.size, deadline, timeout, during)
            n_body, n_blob = protocol.HEADER.unpack(header)
            if n_body + n_blob > protocol.MAX_FRAME_BYTES:
                self.close()
                raise OutputRefused(f"the reply was {(n_body + n_blob) >> 20} MiB, over the limit; it was refused")
            body = self._read_exact(n_body, deadline, timeout, during)
            blob = self._read_exact(n_blob, deadline, timeout, during)
            reply = protocol.unpack(body, blob)
        except protocol.ProtocolError as exc:
            self.close()
            raise OutputRefused(str(exc)) from None
        if not isinstance(reply, dict):
            self.close()
            raise OutputRefused("the worker sent something that is not a reply; the channel was tampered with")
        return reply

    def _read_exact(self, n: int, deadline: float, timeout: float, during: str) -> bytes:
        chunks: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.rep_r], [], [], max(left, 0))
            if not ready:
                self.close()
                raise WorkerTimeout(f"no answer within {timeout:g} s during {during}; the worker was stopped")
            chunk = os.read(self.rep_r, min(n, 1 << 20))
            if not chunk:
                raise self._death(during)
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _death(self, during: str) -> WorkerCrashed:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.drain.join(timeout=1)
        output = self.drain.text()
        self.close()
        return WorkerCrashed(f"the worker {describe_exit(code)} during {during}", output)


def describe_exit(code: int | None) -> str:
    """Say in words how a process ended, naming the limit a signal usually means."""
    if code is None:
        return "stopped answering"
    if code >= 0:
        return f"exited with status {code}"
    sig = -code
    meaning = {
        signal.SIGXCPU: " (CPU time limit)",
        signal.SIGXFSZ: " (file size limit)",
        signal.SIGKILL: " (killed; CPU time or memory limit)",
        signal.SIGSEGV: " (segmentation fault; often the memory limit)",
    }.get(signal.Signals(sig), "") if sig in signal.valid_signals() else ""
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return f"was killed by {name}{meaning}"
