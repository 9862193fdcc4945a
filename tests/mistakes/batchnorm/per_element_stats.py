"""The (N, D) code applied to (N, C, H, W): statistics over dim 0 only, one per element, not per channel."""

import torch


def _per_channel(x: torch.Tensor) -> list[int]:
    """A view shape that broadcasts a (C,) vector along dim 1 of ``x``."""
    return [1, -1] + [1] * (x.dim() - 2)


def batchnorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, running_mean: torch.Tensor,
                      running_var: torch.Tensor, training: bool = True, momentum: float = 0.1,
                      eps: float = 1e-5) -> tuple[torch.Tensor, tuple]:
    shape = _per_channel(x)
    if training:
        # Over the batch dimension only: one statistic per element of a sample.
        mean = x.mean(dim=0)
        var = x.var(dim=0, correction=0)
        n = x.shape[0]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
            running_var.mul_(1 - momentum).add_(var * (n / (n - 1)), alpha=momentum)
    else:
        mean, var = running_mean.view(shape[1:]), running_var.view(shape[1:])
    inv_std = torch.rsqrt(var + eps)
    x_hat = (x - mean) * inv_std
    out = gamma.view(shape) * x_hat + beta.view(shape)
    cache = (x_hat.detach(), gamma.detach(), inv_std.detach(), training)
    return out, cache


def batchnorm_backward(dout: torch.Tensor, cache: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x_hat, gamma, inv_std, training = cache
    shape = _per_channel(dout)
    sum_dims = [0, *range(2, dout.dim())]
    dbeta = dout.sum(dim=sum_dims)
    dgamma = (dout * x_hat).sum(dim=sum_dims)
    dx_hat = dout * gamma.view(shape)
    if not training:
        return dx_hat * inv_std, dgamma, dbeta
    n = dout.shape[0]
    dx = (inv_std / n) * (n * dx_hat - dx_hat.sum(dim=0) - x_hat * (dx_hat * x_hat).sum(dim=0))
    return dx, dgamma, dbeta
