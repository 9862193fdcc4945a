"""Returns a Python float (via .item()), which autograd cannot differentiate."""


def l2_penalty(params, lam):
    total = 0.0
    for name, w in params.items():
        if name.endswith("weight"):
            total += (w * w).sum().item()
    return lam / 2 * total
