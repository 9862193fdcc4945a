"""Backward rebuilds the forward from the cached inputs and asks autograd for the gradients."""

import torch


def _channel_dims(x):
    return [0, *range(2, x.dim())]


def _per_channel(x):
    return [1, -1] + [1] * (x.dim() - 2)


def _normalise(x, gamma, beta, mean, var, eps):
    shape = _per_channel(x)
    return gamma.view(shape) * (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps) + beta.view(shape)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    dims = _channel_dims(x)
    if training:
        mean, var = x.mean(dim=dims), x.var(dim=dims, correction=0)
        n = x.numel() // x.shape[1]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
            running_var.mul_(1 - momentum).add_(var * (n / (n - 1)), alpha=momentum)
    else:
        mean, var = running_mean, running_var
    out = _normalise(x, gamma, beta, mean, var, eps)
    cache = (x.detach(), gamma.detach(), beta.detach(), running_mean.clone(), running_var.clone(), training, eps)
    return out, cache


def batchnorm_backward(dout, cache):
    x, gamma, beta, running_mean, running_var, training, eps = cache
    x, gamma, beta = (t.clone().requires_grad_(True) for t in (x, gamma, beta))
    dims = _channel_dims(x)
    if training:
        mean, var = x.mean(dim=dims), x.var(dim=dims, correction=0)
    else:
        mean, var = running_mean, running_var
    out = _normalise(x, gamma, beta, mean, var, eps)
    return torch.autograd.grad(out, [x, gamma, beta], dout)
