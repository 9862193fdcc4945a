"""Correct, by another road: Python's sum over w.pow(2).sum()."""


def l2_penalty(params, lam):
    return 0.5 * lam * sum(w.pow(2).sum() for name, w in params.items() if name.endswith("weight"))
