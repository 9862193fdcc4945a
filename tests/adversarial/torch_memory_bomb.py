"""Resources: asks torch for a 400 GB tensor."""
import torch

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    return torch.empty(10**11, dtype=torch.float32).fill_(0.0)
