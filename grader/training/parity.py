"""Component parity: a small fixed network trained twice from the same start.

Once on the student's BatchNorm, Adam, cosine schedule and L2 penalty (in the worker),
once on PyTorch's (in the trusted process), in float64, from the same initial weights
and on the same batches. The losses of every step and the eval-mode outputs at the end
must agree, which catches bugs that would still let a network converge (Adam without
bias correction, BatchNorm's running statistics updated wrongly, a schedule off by one).

The network has no dropout: its masks depend on how each implementation draws them,
and dropout is judged on its own by the dropout exercise and the model checks. The
initial weights come from the trusted process, so Xavier init plays no part either.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from grader.training.components import Components, student

#: Parameter and buffer shapes of the network: conv 1->4 (3x3, stride 2), BN, ReLU, linear 676->32, BN, ReLU, linear 32->10.
SHAPES = {"conv.weight": (4, 1, 3, 3), "bn1.weight": (4,), "bn1.bias": (4,), "fc1.weight": (32, 676),
          "bn2.weight": (32,), "bn2.bias": (32,), "fc2.weight": (10, 32), "fc2.bias": (10,)}
BUFFERS = {"bn1.running_mean": 4, "bn1.running_var": 4, "bn2.running_mean": 32, "bn2.running_var": 32}


def initial_state(seed: int) -> dict[str, torch.Tensor]:
    """Weights drawn once, in float64, for both runs; BatchNorm starts at weight 1, bias 0, as usual."""
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for name, shape in SHAPES.items():
        if name.startswith("bn"):
            state[name] = torch.ones(shape, dtype=torch.float64) if name.endswith("weight") else torch.zeros(shape, dtype=torch.float64)
        else:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else SHAPES["fc2.weight"][1]
            state[name] = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) / fan_in ** 0.5
    return state


def batches(seed: int, steps: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images (steps, batch, 1, 28, 28), labels (steps, batch) and an eval batch, all from ``seed``."""
    gen = torch.Generator().manual_seed(seed + 1)
    images = torch.randn(steps, batch_size, 1, 28, 28, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 10, (steps, batch_size), generator=gen)
    eval_images = torch.randn(2 * batch_size, 1, 28, 28, generator=gen, dtype=torch.float64)
    return images, labels, eval_images


def train(components: Components, state: dict[str, torch.Tensor], images: torch.Tensor, labels: torch.Tensor,
          eval_images: torch.Tensor, settings: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Train from ``state`` on the given batches; the loss of every step and the eval logits at the end."""
    params = {name: state[name].detach().clone().requires_grad_(True) for name in SHAPES}
    buffers = {name: torch.zeros(n, dtype=torch.float64) if name.endswith("mean") else torch.ones(n, dtype=torch.float64)
               for name, n in BUFFERS.items()}
    momentum, eps = float(settings["bn_momentum"]), float(settings["bn_eps"])

    def forward(x: torch.Tensor, training: bool) -> torch.Tensor:
        h = F.conv2d(x, params["conv.weight"], stride=2)
        h = components.batchnorm(h, params["bn1.weight"], params["bn1.bias"], buffers["bn1.running_mean"],
                                 buffers["bn1.running_var"], training, momentum, eps)
        h = F.relu(h).flatten(1)
        h = F.linear(h, params["fc1.weight"])
        h = components.batchnorm(h, params["bn2.weight"], params["bn2.bias"], buffers["bn2.running_mean"],
                                 buffers["bn2.running_var"], training, momentum, eps)
        return F.linear(F.relu(h), params["fc2.weight"], params["fc2.bias"])

    steps = images.shape[0]
    optimizer = components.optimizer(list(params.values()), float(settings["lr"]), tuple(settings["betas"]),
                                     float(settings["eps"]))
    losses = []
    for step in range(steps):
        components.set_lr(optimizer, components.cosine_lr(step, steps, float(settings["lr"]), 0.0,
                                                          int(settings["warmup_steps"])))
        loss = F.cross_entropy(forward(images[step], True), labels[step])
        loss = loss + components.l2_penalty(params, float(settings["l2"]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    with torch.no_grad():
        eval_logits = forward(eval_images, False)
    return {"losses": torch.stack(losses), "eval_logits": eval_logits}


def train_student(state: dict[str, torch.Tensor], images: torch.Tensor, labels: torch.Tensor,
                  eval_images: torch.Tensor, settings: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The worker's side: the same training on the student's components."""
    return train(student(), state, images, labels, eval_images, settings)
