"""Resources: sleeps forever (no CPU used, so only the wall clock can stop it)."""
import time

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    time.sleep(10**6)
