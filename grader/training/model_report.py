"""What the model checks need to know about the student's ``build_model()``.

Runs inside the worker: builds a fresh model and reports its parameters, the
statistics of its initial weights, and its eval-mode outputs on one batch, run twice
and on half the batch. The trusted process judges them (:mod:`grader.checks.model`).
"""

from __future__ import annotations

from typing import Any

import torch

from grader.training.components import student_module
from grader.training.recipe import normalise


def report(images: torch.Tensor) -> dict[str, Any]:
    model = student_module("model").build_model()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"build_model() must return a torch.nn.Module, got {type(model).__name__}")
    layers = []
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            w = module.weight.detach()
            fan_in = w.shape[1] * w[0, 0].numel()
            fan_out = w.shape[0] * w[0, 0].numel()
            layers.append({"name": name or type(module).__name__, "kind": type(module).__name__,
                           "shape": list(w.shape), "fan_in": fan_in, "fan_out": fan_out,
                           "std": float(w.float().std()), "max_abs": float(w.abs().max())})
    x = normalise(images, "cpu")
    model.eval()
    with torch.no_grad():
        first, second = model(x), model(x)
        half = model(x[: len(x) // 2])
    return {
        "parameters": {name: list(p.shape) for name, p in model.named_parameters()},
        "layers": layers,
        "eval_first": first.detach().float(), "eval_second": second.detach().float(), "eval_half": half.detach().float(),
    }
