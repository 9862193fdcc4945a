"""lam * ||w||^2 without the half, so the gradient is 2 * lam * w instead of SGD's lam * w."""


def l2_penalty(params, lam):
    return lam * sum((w ** 2).sum() for name, w in params.items() if name.endswith("weight"))
