"""Bad values: fills the weight with NaN."""
from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    return tensor.fill_(float("nan"))
