"""Resources: prints megabytes, through Python and straight to the file descriptor."""
import os

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401
from xavier_base import xavier_uniform_ as honest


def xavier_uniform_(tensor, gain=1.0, generator=None):
    print("spam " * 2_000_000)
    os.write(1, b"raw " * 2_000_000)
    return honest(tensor, gain, generator)
