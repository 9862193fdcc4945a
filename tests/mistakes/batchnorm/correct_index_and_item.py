"""Correct: picks channels with a CPU index tensor and checks the input with .item().

Both are legal on a GPU: CUDA tensors accept CPU index tensors, and .item() reads one
value back. On machines without a GPU the device check cannot judge .item() (meta
tensors have no values) and must say "not applicable" without taking points.
"""

import torch


def _channel_dims(x: torch.Tensor) -> list[int]:
    """Every dimension but the channel one (dim 1): the statistics are taken over these."""
    return [0, *range(2, x.dim())]


def _per_channel(x: torch.Tensor) -> list[int]:
    """A view shape that broadcasts a (C,) vector along dim 1 of ``x``."""
    return [1, -1] + [1] * (x.dim() - 2)


def batchnorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, running_mean: torch.Tensor,
                      running_var: torch.Tensor, training: bool = True, momentum: float = 0.1,
                      eps: float = 1e-5) -> tuple[torch.Tensor, tuple]:
    dims, shape = _channel_dims(x), _per_channel(x)
    if torch.isnan(x).any().item():
        raise ValueError("the input contains NaN")
    channels = torch.arange(x.shape[1])
    if training:
        mean = x.mean(dim=dims)[channels]
        var = x.var(dim=dims, correction=0)
        n = x.numel() // x.shape[1]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
            running_var.mul_(1 - momentum).add_(var * (n / (n - 1)), alpha=momentum)
    else:
        mean, var = running_mean, running_var
    inv_std = torch.rsqrt(var + eps)
    x_hat = (x - mean.view(shape)) * inv_std.view(shape)
    out = gamma.view(shape) * x_hat + beta.view(shape)
    cache = (x_hat.detach(), gamma.detach(), inv_std.detach(), training)
    return out, cache


def batchnorm_backward(dout: torch.Tensor, cache: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x_hat, gamma, inv_std, training = cache
    dims, shape = _channel_dims(dout), _per_channel(dout)
    dbeta = dout.sum(dim=dims)
    dgamma = (dout * x_hat).sum(dim=dims)
    dx_hat = dout * gamma.view(shape)
    if not training:
        # The running statistics are constants, so only the scaling reaches x.
        return dx_hat * inv_std.view(shape), dgamma, dbeta
    n = dout.numel() // dout.shape[1]
    dx = (inv_std.view(shape) / n) * (
        n * dx_hat - dx_hat.sum(dim=dims, keepdim=True) - x_hat * (dx_hat * x_hat).sum(dim=dims, keepdim=True)
    )
    return dx, dgamma, dbeta
