"""The fork server: imports torch once, then forks one worker per submission.

Starting a worker used to mean a fresh ``python -I`` importing torch, which costs
about 2 s a submission, most of the grading time of a unit exercise. This process
pays that once. It runs inside the same sandbox as a spawned worker (bubblewrap,
with capabilities only inside its own user namespace) and never runs student code
itself. For each worker the grader sends, over a ``SOCK_SEQPACKET`` socket, four
file descriptors (a control socket, the request and reply pipes, and the output
pipe), then the spawn request on the control socket: the files, limits and
environment, as JSON. Three processes follow::

    fork server ─ helper ─ supervisor (PID 1 of a new PID namespace) ─ worker (PID 2)

* the *helper* enters a new PID namespace for its children and exits at once (a
  process can enter a new PID namespace for its children only once). The fork server
  starts the next helper, supervisor and worker as soon as the last ones are handed
  their request, so a submission's start waits for no fork at all;
* the *supervisor* takes private mount, IPC, network and UTS namespaces and forks the
  worker at once, which waits. When the request comes, the supervisor mounts a
  size-limited tmpfs holding the student's files (read-only) and a temporary folder,
  and a fresh ``/dev/shm``, makes the rest read-only, and sends the worker its pipes
  and settings. Then it waits: it kills the worker when the grader says so or hangs
  up, and reports the worker's exit status;
* the *worker* drops every capability, becomes non-dumpable, sets its rlimits and
  its environment, and runs :func:`grader.worker.serve`, which installs seccomp.

So workers graded side by side cannot see each other's files, signal, trace or talk
to each other, or read each other's memory. ``/proc`` stays the fork server's (where
bubblewrap runs as root its mounts are locked, and the kernel refuses a new ``/proc``
under locked ones): a worker can see that other workers exist, but every process here
but bubblewrap's own init is non-dumpable, so their memory, environment and files are
closed to it. Without bubblewrap (``plain``) the same processes run without the
namespaces, as a spawned worker would.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import tempfile
import traceback
from typing import Any

from grader import linux

#: Bytes of the length prefix before the spawn request's JSON.
LENGTH = struct.Struct(">I")


def main(argv: list[str]) -> int:
    """``python -I -m grader.zygote namespaces|plain SOCKET_FD``."""
    from grader import worker

    namespaces = argv[0] == "namespaces"
    server = socket.socket(fileno=int(argv[1]))
    worker.prepare()
    try:
        server.send(b"ready")
    except OSError:
        return 0  # the grader finished before this was ready
    linux.prctl(linux.PR_SET_DUMPABLE, 0)  # inherited by every supervisor: no worker may read their memory
    # Supervisors are orphaned on purpose (their helper exits); reap them here, unseen.
    linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    spare = _spare(server, namespaces)
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(server, 16, 4)
        except OSError:
            return 0
        if not fds:
            return 0  # the grader hung up
        if len(fds) == 4:
            with contextlib.suppress(OSError):  # a spare that died closes these: the grader sees the worker end
                socket.send_fds(spare, [b"go"], fds)
        for fd in fds:
            os.close(fd)  # before the next fork: no other process may hold this worker's pipes
        if len(fds) == 4:
            spare.close()
            spare = _spare(server, namespaces)


def _spare(server: socket.socket, namespaces: bool) -> socket.socket:
    """Start the next worker's supervisor before its request comes.

    The helper's fork and the supervisor's own are then off the path of the next
    submission's start: when the grader asks, the supervisor only mounts, writes the
    files and forks the worker. Returns the socket that hands it the worker's pipes.
    """
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() == 0:
        code = 1
        try:
            server.close()
            mine.close()
            code = _helper(theirs, namespaces=namespaces)
        except BaseException:  # noqa: BLE001 - a child must never return into the fork server's loop
            traceback.print_exc()
        finally:
            os._exit(code)
    theirs.close()
    return mine


def _helper(handoff: socket.socket, *, namespaces: bool) -> int:
    """Enter a new PID namespace for the supervisor, start it, and leave."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if namespaces:
        linux.unshare(linux.CLONE_NEWPID)
    if os.fork():
        return 0
    if namespaces:
        linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWIPC | linux.CLONE_NEWNET | linux.CLONE_NEWUTS)
        linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    child, go = _worker_in_waiting(handoff)
    _, fds, _, _ = socket.recv_fds(handoff, 16, 4)  # waits for the grader's request
    handoff.close()
    if len(fds) != 4:
        return 0  # the fork server ended first; the worker in waiting sees its socket close
    ctl_fd, req_fd, rep_fd, out_fd = fds
    try:
        ctl = socket.socket(fileno=ctl_fd)
        return _supervise(ctl, read_request(ctl), child, go, (req_fd, rep_fd, out_fd), namespaces)
    except BaseException as exc:  # noqa: BLE001 - told to the grader through the worker's output
        with contextlib.suppress(OSError):
            os.write(out_fd, f"the worker's sandbox could not be set up: {exc}\n".encode())
        return 1


def _worker_in_waiting(handoff: socket.socket) -> tuple[int, socket.socket]:
    """Fork the worker now, before its request: it waits for its pipes and settings.

    Forking a process that holds torch takes about 10 ms here (its page tables), so the
    spare supervisor pays it while the grader is still busy with the last submission.
    The worker shares the supervisor's namespaces, so the mounts made for it later are
    its own. Returns its PID and the socket that sends it the go.
    """
    go, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            handoff.close()
            go.close()
            code = _await_go(theirs)
        except BaseException:  # noqa: BLE001 - a child must never return into the supervisor's code
            traceback.print_exc()
        finally:
            os._exit(code)
    theirs.close()
    return child, go


#: The largest go message: the worker's settings as JSON (its files travel apart).
GO_BYTES = 1 << 20


def _await_go(go: socket.socket) -> int:
    """In the worker in waiting: receive the settings and pipes, then become the worker."""
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    message, fds, _, _ = socket.recv_fds(go, GO_BYTES, 3)
    if len(fds) != 3:
        return 0  # the supervisor ended before any request came
    return _become_worker(json.loads(message), *fds)


def read_request(ctl: socket.socket) -> dict[str, Any]:
    """The spawn request: a 4-byte length, then JSON (files in base64). Never pickle."""
    def exact(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = ctl.recv(n - len(data))
            if not chunk:
                raise EOFError("the grader hung up before the spawn request was complete")
            data += chunk
        return data

    (size,) = LENGTH.unpack(exact(LENGTH.size))
    return json.loads(exact(size))


def encode_request(files: dict[str, bytes], **fields: Any) -> bytes:
    body = json.dumps({**fields, "files": {k: base64.b64encode(v).decode() for k, v in files.items()}}).encode()
    return LENGTH.pack(len(body)) + body


def _supervise(ctl: socket.socket, request: dict[str, Any], child: int, go: socket.socket,
               fds: tuple[int, int, int], namespaces: bool) -> int:
    """PID 1 of the worker's namespace: set up its mounts, send the worker its go, then watch it."""
    if namespaces:
        _private_mounts(request)
    settings = {k: v for k, v in request.items() if k != "files"}
    socket.send_fds(go, [json.dumps(settings).encode()], list(fds))
    go.close()
    for fd in fds:
        os.close(fd)
    return _watch(ctl, child)


#: Where each worker's own file system is mounted; bubblewrap makes the empty folder.
WORKER_ROOT = "/worker"


def _private_mounts(request: dict[str, Any]) -> None:
    """File systems of this worker alone, in its own namespaces; the student's files read-only.

    The worker's folder and its temporary folder share one size-limited tmpfs. What
    the fork server could write (its ``/tmp``, ``/dev``) becomes read-only here, so it
    is no channel between workers.
    """
    private = linux.MS_NOSUID | linux.MS_NODEV
    size = f"size={int(request['disk_mb'])}m,mode=0755"
    linux.mount("tmpfs", WORKER_ROOT, "tmpfs", private, size)
    for shared in ("/tmp", "/dev"):
        linux.mount(None, shared, None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY | private)
    if os.path.isdir("/dev/shm"):
        linux.mount("tmpfs", "/dev/shm", "tmpfs", private, size)
    workdir = request["workdir"]
    os.makedirs(workdir)
    os.makedirs(request["env"]["TMPDIR"], exist_ok=True)
    for name, data in request["files"].items():
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        linux.mount(path, path, None, linux.MS_BIND)
        linux.mount(None, path, None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY)


def _watch(ctl: socket.socket, child: int) -> int:
    """Kill the worker when the grader says ``kill`` or hangs up; report how it ended."""
    pidfd = os.pidfd_open(child)
    while True:
        ready, _, _ = select.select([ctl, pidfd], [], [])
        if pidfd in ready:
            _, status = os.waitpid(child, 0)
            with contextlib.suppress(OSError):
                ctl.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
            return 0
        try:
            said = ctl.recv(64)
        except OSError:
            said = b""
        if not said or b"kill" in said:
            os.kill(child, signal.SIGKILL)


def _become_worker(request: dict[str, Any], req_fd: int, rep_fd: int, out_fd: int) -> int:
    """Turn this fork into the student's worker: nothing of the grader left but the pipes."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    keep = sorted({0, 1, 2, req_fd, rep_fd})
    for low, high in zip(keep, keep[1:] + [resource.getrlimit(resource.RLIMIT_NOFILE)[0]]):
        os.closerange(low + 1, high)
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None
    os.chdir(request["workdir"])
    limits = request["limits"]
    mb = 1 << 20
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_size_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if linux.capabilities()["CapEff"]:  # always inside bubblewrap; as root without it
        linux.drop_capabilities()
    linux.prctl(linux.PR_SET_DUMPABLE, 0)
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    from grader import worker

    return worker.serve(req_fd, rep_fd, limits)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
