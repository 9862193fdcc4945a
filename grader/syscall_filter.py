"""A seccomp filter the worker installs on itself before any student code runs.

Seccomp filters are inherited and cannot be removed, so once installed they bind the
student's code for the worker's whole life. The filter refuses, with EPERM:

* new processes: ``fork``, ``vfork``, ``execve``, ``execveat``, and ``clone`` without
  ``CLONE_THREAD`` (threads stay allowed: torch needs them). ``clone3`` answers ENOSYS,
  which makes the C library fall back to ``clone``, whose flags a filter can read;
* network sockets: ``socket`` for anything but AF_UNIX;
* signals to other processes: ``kill``/``tgkill`` aimed at any process but the worker
  itself, and ``ptrace``.

That makes fork bombs, child processes left running, network connections and killing
the grader impossible even where no namespace sandbox is available, and even as root
(where RLIMIT_NPROC does not bind). Python sees ``PermissionError``, which grading
reports as "forbidden".
"""

from __future__ import annotations

import errno
import os
import socket

CLONE_THREAD = 0x00010000


def available() -> bool:
    """True when libseccomp and its Python binding can be loaded here."""
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def install() -> None:
    """Install the filter on the calling process (and every thread it starts later)."""
    import pyseccomp as sc

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    for name in ("fork", "vfork", "execve", "execveat", "ptrace"):
        f.add_rule(deny, name)
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    f.add_rule(deny, "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    me = os.getpid()
    f.add_rule(deny, "kill", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "tgkill", sc.Arg(0, sc.NE, me))
    f.load()
