"""Resources: writes one file larger than the file-size limit."""
from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    with open("big.bin", "wb") as f:
        for _ in range(64):
            f.write(b"\0" * (1 << 20))
    return tensor
