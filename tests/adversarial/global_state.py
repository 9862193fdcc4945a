"""Tampering: changes torch's global state (default dtype, TF32, determinism, RNG), then answers wrongly."""
import torch

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    torch.set_default_dtype(torch.float64)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    if generator is not None:
        generator.manual_seed(0)
    torch.set_grad_enabled(False)
    return tensor.fill_(0.5)
