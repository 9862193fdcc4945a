"""Bad values: fills the weight with +inf and -inf."""
from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    tensor.fill_(float("inf"))
    tensor.view(-1)[::2] = float("-inf")
    return tensor
