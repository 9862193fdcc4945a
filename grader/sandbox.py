"""Starting and talking to the worker process that runs student code.

The trusted process never imports student code. It starts ``python -I -m grader.worker``
in a fresh temporary directory holding only the student's files, with a minimal
environment, its own session (so the whole process group can be killed), rlimits on
address space, file size and open files, and a CPU limit that the worker arms after
its own start-up. Every request has a wall-clock deadline; on timeout or death the
worker is killed and the caller gets a verdict-bearing exception.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import resource
import secrets
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

from grader import devices, protocol, zygote, zygote_client
from grader.limits import Limits

BASE_ISOLATION = ("separate process (python -I), minimal environment, fresh temporary directory, rlimits on "
                  "address space, CPU time, file size and open files")


@functools.lru_cache(maxsize=None)
def sandbox_mechanism() -> str:
    """``bubblewrap`` where it works here, else ``none``; ``GRADER_SANDBOX`` can insist on either.

    A probe runs bwrap once with the namespaces the worker gets, so a kernel that
    forbids user namespaces falls back instead of failing every submission.
    """
    wanted = os.environ.get("GRADER_SANDBOX", "auto")
    if wanted not in ("auto", "bubblewrap", "none"):
        raise ValueError(f"GRADER_SANDBOX={wanted!r}: use auto, bubblewrap or none")
    if wanted == "none" or not sys.platform.startswith("linux"):
        return "none"
    bwrap = shutil.which("bwrap")
    works = bwrap is not None and subprocess.run(
        [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/", "/", "true"],
        capture_output=True, timeout=30).returncode == 0
    if wanted == "bubblewrap" and not works:
        raise RuntimeError("GRADER_SANDBOX=bubblewrap but bwrap is missing or cannot create namespaces here; "
                           "install Debian's bubblewrap package")
    return "bubblewrap" if works else "none"


def isolation_summary(mechanism: str, seccomp: bool, gpu: bool = False, forked: bool = False) -> str:
    """The isolation in force, in words, for every report's header."""
    parts = [BASE_ISOLATION]
    if gpu:
        parts.append("GPU devices visible to the worker, with a data-segment limit in place of the address-space "
                     "limit (CUDA reserves far more address space than it uses)")
    if mechanism == "bubblewrap":
        parts.append("bubblewrap: own user, network, PID, IPC and mount namespaces, no network, only the submission, "
                     "the Python environment and the grader's code visible, unprivileged uid 65534, no capabilities")
    else:
        parts.append("NO namespace sandbox (bubblewrap unavailable): the worker can see the file system and network")
    if forked:
        parts.append("forked from a fork server that imported torch once, then given its own "
                     + ("PID, mount, IPC and network namespaces and its own tmpfs, " if mechanism == "bubblewrap"
                        else "") + "not dumpable, so workers side by side cannot see or reach each other")
    parts.append("seccomp: no new processes, no network sockets, no signals to other processes" if seccomp
                 else "NO seccomp filter (libseccomp unavailable)")
    return "; ".join(parts)


def _bubblewrap_common(gpu_nodes: list[str]) -> list[str]:
    """bwrap arguments shared by a spawned worker and the fork server: a read-only view of
    the system, the Python environment and the grader's code, and nothing else."""
    import grader

    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
           "--unshare-user", "--uid", "65534", "--gid", "65534",
           "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    for node in gpu_nodes:
        cmd += ["--dev-bind", node, node]
    if os.path.exists("/etc/ld.so.cache"):
        cmd += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    visible = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)),
               str(Path(grader.__file__).resolve().parent)}
    for path in sorted(p for p in visible if not any(p != q and p.startswith(q + os.sep) for q in visible)):
        cmd += ["--ro-bind", path, path]
    return cmd


def _bubblewrap_prefix(workdir: str, files: list[str], disk_mb: int, gpu_nodes: list[str]) -> list[str]:
    """bwrap arguments for a spawned worker, which gets no capabilities at all.

    Everything is read-only except the worker's folder, which is a tmpfs of ``disk_mb``
    (so filling the disk fills only that) holding read-only binds of the student's files.
    """
    cmd = [*_bubblewrap_common(gpu_nodes), "--cap-drop", "ALL", "--size", str(disk_mb << 20), "--tmpfs", workdir]
    for name in files:
        cmd += ["--ro-bind", os.path.join(workdir, name), os.path.join(workdir, name)]
    return cmd + ["--remount-ro", "/", "--chdir", workdir, "--"]


def _fork_server(namespaces: bool) -> tuple[tuple[Any, ...], list[str], dict[str, str]]:
    """The fork server's key, command line (less its socket's descriptor) and environment.

    Inside bubblewrap it keeps its capabilities, which hold only in its own user
    namespace, to mount each worker's file systems; every worker drops them.
    """
    prefix = [*_bubblewrap_common([]), "--cap-add", "ALL", "--dir", zygote.WORKER_ROOT, "--remount-ro", "/",
              "--chdir", "/", "--"] if namespaces else []
    command = [*prefix, sys.executable, "-I", "-m", "grader.zygote", "namespaces" if namespaces else "plain"]
    home = "/tmp" if namespaces else tempfile.gettempdir()
    return (namespaces, sys.executable, sys.prefix), command, minimal_env(home, home)


def prestart() -> zygote_client.ForkServer | None:
    """Start the fork server now, where workers will be forked, so that its one ``import
    torch`` overlaps with the grader's own start-up instead of delaying the first student."""
    if start_method(bool(devices.gpu_nodes())) != "fork":
        return None
    return zygote_client.server(*_fork_server(sandbox_mechanism() == "bubblewrap"))


def start_method(gpu: bool) -> str:
    """``fork`` (from the fork server) or ``spawn`` (a fresh interpreter); ``GRADER_WORKER_START`` can insist.

    Forking is the default on Linux for CPU workers: it saves the worker's ``import
    torch`` for every submission. GPU workers are spawned, so CUDA never meets a fork.
    """
    wanted = os.environ.get("GRADER_WORKER_START", "auto")
    if wanted not in ("auto", "fork", "spawn"):
        raise ValueError(f"GRADER_WORKER_START={wanted!r}: use auto, fork or spawn")
    if wanted == "auto":
        return "fork" if sys.platform.startswith("linux") and not gpu else "spawn"
    if wanted == "fork" and gpu:
        raise RuntimeError("GRADER_WORKER_START=fork cannot serve a GPU worker; use --device cpu or spawn")
    return wanted


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

    @property
    def total(self) -> int:
        """Every byte read so far, kept or dropped."""
        return len(self.kept) + self.dropped

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


#: Variables a GPU worker keeps: where the driver's libraries are, and which GPUs it may use.
GPU_ENV = ("LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")


def minimal_env(home: str, tmp: str, gpu: bool = False) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's (tokens, keys, paths).

    Temporary files (torch writes a cache there at start-up) go to ``tmp``, not into the
    student's folder, which holds only the student's files when their code starts.
    """
    kept = {k: os.environ[k] for k in GPU_ENV if gpu and k in os.environ}
    return {**kept,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


@functools.lru_cache(maxsize=None)
def _pipe_max_size() -> int:
    try:
        with open("/proc/sys/fs/pipe-max-size") as f:
            return int(f.read())
    except OSError:
        return 0


def _wide_pipe() -> tuple[int, int]:
    """A pipe as wide as the system allows (1 MiB by default, not 64 KiB), so a frame of
    tensors crosses in one or two writes instead of a dozen waits for the reader."""
    r, w = os.pipe()
    if _pipe_max_size():
        with contextlib.suppress(OSError):
            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, _pipe_max_size())
    return r, w


class _Spawned:
    """A worker started as a fresh interpreter, ``python -I -m grader.worker``, in its own session."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        self.proc.wait()


class Worker:
    """One worker process for one submission. Use as a context manager."""

    def __init__(self, files: dict[str, bytes], limits: Limits) -> None:
        self.files, self.limits = files, limits
        self.process: _Spawned | zygote_client.ForkedWorker | None = None
        self.dir: str | None = None
        self.root: str | None = None
        self.startup_seconds = 0.0
        self.hello: dict[str, Any] = {}
        self._sent = 0
        self.gpu = False
        self.forked = False
        self.transfer_seconds = 0.0
        self._since = 0.0  # when the wait for the next reply began: the transfer clock

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> "Worker":
        """Fork the worker from the fork server, or spawn it; :meth:`wait_ready` waits for its hello."""
        self.mechanism = sandbox_mechanism()
        nodes = devices.gpu_nodes()
        self.gpu = bool(nodes)
        self.forked = start_method(self.gpu) == "fork"
        scratch = "/tmp"
        if self.forked and self.mechanism == "bubblewrap":
            # The worker's own tmpfs: its files never touch this machine's disk.
            self.dir, scratch = f"{zygote.WORKER_ROOT}/submission", f"{zygote.WORKER_ROOT}/tmp"
        else:
            self.root = tempfile.mkdtemp(prefix="grader-worker-")
            scratch = os.path.join(self.root, "tmp")
            self.dir = os.path.join(self.root, "submission")
            os.mkdir(self.dir)
            os.mkdir(scratch)
            for name, data in self.files.items():
                Path(self.dir, name).write_bytes(data)
        req_r, self.req_w = _wide_pipe()
        self.rep_r, rep_w = _wide_pipe()
        out_r, out_w = os.pipe()
        worker_limits = {"cpu_seconds": self.limits.cpu_seconds, "worker_cpu_seconds": self.limits.worker_cpu_seconds,
                         "threads": self.limits.resolved_threads()}
        env = minimal_env(self.dir, scratch, self.gpu)
        try:
            if self.forked:
                namespaces = self.mechanism == "bubblewrap"
                request = zygote.encode_request(
                    self.files if namespaces else {}, workdir=self.dir, env=env, disk_mb=self.limits.disk_mb,
                    limits={**worker_limits, "memory_mb": self.limits.memory_mb,
                            "file_size_mb": self.limits.file_size_mb, "open_files": self.limits.open_files})
                self.process = zygote_client.spawn(*_fork_server(namespaces), [req_r, rep_w, out_w], request)
            else:
                prefix = (_bubblewrap_prefix(self.dir, sorted(self.files), self.limits.disk_mb, nodes)
                          if self.mechanism == "bubblewrap" else [])
                self.process = _Spawned(subprocess.Popen(
                    [*prefix, sys.executable, "-I", "-m", "grader.worker", str(req_r), str(rep_w),
                     json.dumps(worker_limits)],
                    cwd=self.dir, env=env, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                    pass_fds=(req_r, rep_w), start_new_session=True, preexec_fn=self._preexec))
        finally:
            for fd in (req_r, rep_w, out_w):
                os.close(fd)
        self.drain = _OutputDrain(os.fdopen(out_r, "rb"), self.limits.output_kb * 1024)
        self.drain.start()
        return self

    def _preexec(self) -> None:
        """Runs in the child before exec: rlimits that hold from the first instruction."""
        mb = 1 << 20
        # CUDA maps tens of GiB of address space it never touches, so a GPU worker is held
        # by the size of its writable private memory instead.
        memory = resource.RLIMIT_DATA if self.gpu else resource.RLIMIT_AS
        resource.setrlimit(memory, (self.limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limits.file_size_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.limits.open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def wait_ready(self) -> dict[str, Any]:
        """Wait for the worker's hello. ``startup_seconds`` is the time grading was held up
        waiting for it: grading works on while the worker starts (a forked worker is often
        ready before the first call needs it)."""
        t0 = time.perf_counter()
        self.hello = self._read(STARTUP_SECONDS, during="start-up")
        self.startup_seconds = time.perf_counter() - t0
        return self.hello

    def close(self) -> None:
        """Kill the worker (a spawned one with its whole process group) and remove its folder."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(30)
            self.process.close()
            for fd in (self.req_w, self.rep_r):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self.drain.join(timeout=1)
            self.process = None
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
        self.root = self.dir = None

    def __enter__(self) -> "Worker":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.running()

    def output(self) -> str:
        """What the worker wrote to its real stdout/stderr (not the per-call capture)."""
        return self.drain.text()

    # -- requests ---------------------------------------------------------------------
    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait at most ``timeout`` seconds for its reply."""
        return self.receive(self.send(message), timeout)

    def request_many(self, message: dict[str, Any], count: int, timeout: float, total: float) -> list[dict[str, Any]]:
        """Send a ``call_many`` and collect its ``count`` replies (see :meth:`receive_many`)."""
        return self.receive_many(self.send(message), count, timeout, total)

    def send(self, message: dict[str, Any]) -> str:
        """Send a request; returns the fresh id its replies must echo.

        The id detects a frame forged by student code (written to the reply pipe) or a
        reply left over from an earlier request, and the worker is then replaced.
        """
        self._sent += 1
        self._since = time.perf_counter()
        request_id = f"{self._sent}-{secrets.token_hex(8)}"
        try:
            protocol.write_frame(self.req_w, protocol.pack({**message, "id": request_id}, fill_constants=True))
        except BrokenPipeError:
            raise self._death("before the call") from None
        return request_id

    def receive(self, request_id: str, timeout: float) -> dict[str, Any]:
        """The next reply to ``request_id``, within ``timeout`` seconds. A request that
        carries a ``load`` gets two: the import's, then the call's (unless the import failed)."""
        reply = self._reply(self._read(timeout, during="the call"), request_id)
        self._since = self._count_transfer(self._since, [reply])
        return reply

    def receive_many(self, request_id: str, count: int, timeout: float, total: float) -> list[dict[str, Any]]:
        """Collect a ``call_many``'s ``count`` replies, in order; an error is the last.

        The worker sends whatever calls finished at least every ``protocol.COALESCE_SECONDS``, so
        a frame must come within ``timeout`` (one call's clock) of the one before, and
        all within ``total``.
        """
        end = time.monotonic() + total
        replies: list[dict[str, Any]] = []
        while len(replies) < count and not (replies and "error" in replies[-1]):
            wait = min(timeout + protocol.COALESCE_SECONDS, max(end - time.monotonic(), 0.0))
            frame = self._reply(self._read(wait, during="the call"), request_id)
            batch = frame.get("replies")
            if not isinstance(batch, list) or not batch or not all(
                    isinstance(r, dict) and r.pop("index", None) == len(replies) + i for i, r in enumerate(batch)):
                raise self._tampered()
            self._since = self._count_transfer(self._since, batch)
            replies += batch
        return replies

    def _reply(self, reply: dict[str, Any], request_id: str) -> dict[str, Any]:
        if reply.get("id") != request_id:
            raise self._tampered()
        return reply

    def _tampered(self) -> OutputRefused:
        self.close()
        return OutputRefused("a reply did not match its request: something wrote into the grader's channel; "
                             "the worker was replaced")

    def _count_transfer(self, since: float, replies: list[dict[str, Any]]) -> float:
        """Add encoding, pipes and decoding: the wait for these replies less the worker's own
        account of its work. Returns now, the start of the next wait."""
        busy = [r.pop("busy", 0.0) for r in replies]
        now = time.perf_counter()
        if all(isinstance(b, (int, float)) for b in busy):
            self.transfer_seconds += max(0.0, now - since - sum(float(b) for b in busy))
        return now

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
        assert self.process is not None
        code = self.process.wait(5)
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
