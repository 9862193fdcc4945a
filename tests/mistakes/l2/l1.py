"""Sums absolute values (an L1 penalty) instead of squares."""


def l2_penalty(params, lam):
    return lam / 2 * sum(w.abs().sum() for name, w in params.items() if name.endswith("weight"))
