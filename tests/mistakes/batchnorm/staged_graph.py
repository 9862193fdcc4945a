"""Correct, by another road: the staged computational graph (one local derivative per step), on a 2-D view."""

import torch


def _as_rows(x):
    """(N, C, *spatial) -> (M, C), each column one channel, and a function that undoes it."""
    if x.dim() == 2:
        return x, lambda y: y
    shape = x.shape
    moved = x.movedim(1, -1)
    rows = moved.reshape(-1, shape[1])
    return rows, lambda y: y.reshape(moved.shape).movedim(-1, 1)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    rows, back = _as_rows(x)
    m = rows.shape[0]
    if training:
        mu = rows.sum(0) / m
        xmu = rows - mu
        sq = xmu**2
        var = sq.sum(0) / m
        with torch.no_grad():
            running_mean.copy_((1 - momentum) * running_mean + momentum * mu)
            running_var.copy_((1 - momentum) * running_var + momentum * var * m / (m - 1))
    else:
        xmu = rows - running_mean
        var = running_var
    sqrtvar = torch.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar
    out = gamma * xhat + beta
    cache = {"xhat": xhat.detach(), "xmu": xmu.detach(), "ivar": ivar.detach(), "sqrtvar": sqrtvar.detach(),
             "var": var.detach(), "gamma": gamma.detach(), "eps": eps, "training": training, "back": back}
    return back(out), cache


def batchnorm_backward(dout, cache):
    d, _ = _as_rows(dout)
    back = cache["back"]
    m = d.shape[0]
    dbeta = d.sum(0)
    dgamma = (d * cache["xhat"]).sum(0)
    dxhat = d * cache["gamma"]
    dxmu1 = dxhat * cache["ivar"]
    if not cache["training"]:
        return back(dxmu1), dgamma, dbeta
    divar = (dxhat * cache["xmu"]).sum(0)
    dsqrtvar = -divar / cache["sqrtvar"] ** 2
    dvar = 0.5 * dsqrtvar / torch.sqrt(cache["var"] + cache["eps"])
    dsq = torch.ones_like(d) * dvar / m
    dxmu2 = 2 * cache["xmu"] * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(0)
    dx2 = torch.ones_like(d) * dmu / m
    return back(dx1 + dx2), dgamma, dbeta
