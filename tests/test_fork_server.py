"""The fork server: workers forked side by side are as isolated as spawned ones, and from each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import sandbox, zygote_client
from grader.limits import Limits
from grader.sandbox import Worker, sandbox_mechanism, start_method

PROBE = b'''
import ctypes, errno, glob, os, socket

def caps():
    with open("/proc/self/status") as f:
        return {k: int(v, 16) for k, v in (line.split(":") for line in f) if k.startswith("Cap")}

def dumpable():
    return ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE

def leave(text):
    for path in ("left.txt", os.path.join(os.environ["TMPDIR"], "left.txt"), "/dev/shm/left.txt"):
        with open(path, "w") as f:
            f.write(text)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(b"\\0grader-fork-server-test")
    s.listen()
    global KEEP
    KEEP = s
    return True

def look():
    found = {}
    for path in ("left.txt", os.path.join(os.environ["TMPDIR"], "left.txt"), "/dev/shm/left.txt"):
        found[path] = os.path.exists(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(b"\\0grader-fork-server-test")
        found["socket"] = True
    except OSError:
        found["socket"] = False
    return found

def write_where(path):
    try:
        with open(path, "a") as f:
            f.write("x")
        return "written"
    except OSError as exc:
        return errno.errorcode[exc.errno]

def other_processes():
    me = os.readlink("/proc/self")
    seen = {}
    for d in glob.glob("/proc/[0-9]*"):
        if os.path.basename(d) in (me, "1"):
            continue
        for leaf in ("environ", "mem", "cwd"):
            try:
                if leaf == "cwd":
                    os.listdir(d + "/cwd")
                else:
                    open(d + "/" + leaf, "rb").read(1)
                seen[d + "/" + leaf] = "read"
            except OSError as exc:
                seen[d + "/" + leaf] = errno.errorcode[exc.errno]
    return seen

def sandbox_init_environ():
    with open("/proc/1/environ", "rb") as f:
        return f.read().decode()

def signal_parent():
    try:
        os.kill(os.getppid(), 0)
        return "sent"
    except OSError as exc:
        return errno.errorcode[exc.errno]

def ids():
    return [os.getpid(), os.getppid()]
'''

@pytest.fixture(autouse=True)
def cpu_workers(monkeypatch):
    """Forked workers are CPU workers: on a machine with a GPU, ask for the CPU."""
    monkeypatch.setenv("GRADER_DEVICE", "cpu")


needs_bubblewrap = pytest.mark.skipif(sandbox_mechanism() != "bubblewrap",
                                      reason="bubblewrap is not installed or cannot create namespaces here")


def started(files: dict[str, bytes] | None = None) -> Worker:
    w = Worker(files or {"probe.py": PROBE}, Limits()).start()
    w.wait_ready()
    assert w.forked
    assert w.request({"op": "import", "module": "probe"}, 30)["ok"]
    return w


def call(w: Worker, name: str, *args):
    reply = w.request({"op": "call", "target": f"probe:{name}", "args": list(args)}, 30)
    assert "error" not in reply, reply
    return reply["value"]


def test_the_fork_server_is_the_default_on_linux_for_cpu_workers(monkeypatch):
    monkeypatch.delenv("GRADER_WORKER_START", raising=False)
    assert start_method(gpu=False) == "fork"
    assert start_method(gpu=True) == "spawn"
    monkeypatch.setenv("GRADER_WORKER_START", "spawn")
    assert start_method(gpu=False) == "spawn"
    monkeypatch.setenv("GRADER_WORKER_START", "fork")
    with pytest.raises(RuntimeError, match="cannot serve a GPU worker"):
        start_method(gpu=True)
    monkeypatch.setenv("GRADER_WORKER_START", "zygote")
    with pytest.raises(ValueError, match="use auto, fork or spawn"):
        start_method(gpu=False)


def test_a_forked_worker_has_no_capabilities_and_cannot_be_read():
    w = started()
    try:
        assert all(v == 0 for v in call(w, "caps").values())
        assert call(w, "dumpable") == 0
        assert w.hello["seccomp"] is True
    finally:
        w.close()


@needs_bubblewrap
def test_workers_side_by_side_cannot_see_reach_or_read_each_other(monkeypatch):
    monkeypatch.setenv("GRADER_TEST_SECRET", "do-not-leak")
    zygote_client.shutdown()  # the next fork server starts with the secret in this process's environment
    first, second = started(), started()
    try:
        assert call(first, "leave", "answers") is True
        # The second worker finds nothing of the first: files, temporary files, shared memory, sockets.
        assert call(second, "look") == {"left.txt": False, "/worker/tmp/left.txt": False,
                                        "/dev/shm/left.txt": False, "socket": False}
        assert call(first, "look")["socket"] is True  # the probe itself works
        # Each is PID 2 of its own PID namespace, under its supervisor.
        assert call(first, "ids") == call(second, "ids") == [2, 1]
        # The student's files, and what the fork server could write, are read-only to a worker.
        assert call(second, "write_where", "probe.py") == "EROFS"
        assert call(second, "write_where", "/tmp/x") == "EROFS"
        assert call(second, "write_where", "/dev/x") == "EROFS"
        # Other processes are visible in /proc (the fork server's), but none can be read:
        # the fork server, the supervisors and the first worker.
        seen = call(second, "other_processes")
        assert len(seen) >= 3 * 4 and set(seen.values()) <= {"EACCES", "EPERM", "ENOENT", "ESRCH"}, seen
        # bubblewrap's own init (PID 1) is as readable as under a spawned worker; it holds only
        # the minimal environment the grader gave it.
        assert "do-not-leak" not in call(second, "sandbox_init_environ")
        assert call(second, "signal_parent") == "EPERM"
    finally:
        first.close()
        second.close()


def test_the_fork_server_is_started_again_when_it_has_died():
    started().close()
    for server in list(zygote_client._servers.values()):
        server.proc.kill()
        server.proc.wait()
    w = started()
    try:
        assert call(w, "ids")[0] > 0
    finally:
        w.close()


def test_without_bubblewrap_workers_are_still_forked_with_their_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADER_SANDBOX", "none")
    sandbox.sandbox_mechanism.cache_clear()
    try:
        w = started()
        try:
            assert w.dir and w.dir.startswith(w.root or "")
            assert call(w, "dumpable") == 0
            assert all(v == 0 for v in call(w, "caps").values())
        finally:
            w.close()
    finally:
        monkeypatch.delenv("GRADER_SANDBOX")
        sandbox.sandbox_mechanism.cache_clear()


def test_the_fork_server_prepares_without_starting_threads():
    """Only the forking thread survives a fork: a thread pool started while preparing (autograd's
    device threads in a CUDA build, a BLAS pool) would be missing, or refuse to work, in every worker."""
    import subprocess
    import sys

    from grader.sandbox import minimal_env

    probe = "import os; from grader import worker; worker.prepare(); print(len(os.listdir('/proc/self/task')))"
    env = {**minimal_env("/tmp", "/tmp"), "PYTHONPATH": str(Path(sandbox.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "1", out.stderr
