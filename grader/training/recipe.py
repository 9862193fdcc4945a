"""The convergence recipe: the student's CNN trained on MNIST by the student's own components.

Runs inside the worker. The worker holds the training images and labels and the test
images, never the test labels: it returns its test predictions and the trusted
process scores them (:mod:`grader.checks.convergence`).

The recipe is fixed by the spec, so every student's model is trained the same way:
the student's ``kfold_split`` holds out one fold for validation; the student's Adam
steps the parameters; the student's ``cosine_lr`` (with warmup) sets every step's
learning rate; the student's ``l2_penalty`` is added to the loss. The whole data set
sits in memory as one tensor and batches are index slices, with no DataLoader.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import torch
import torch.nn.functional as F

from grader.training.components import student, student_module

#: Mean and standard deviation of MNIST's training pixels (in [0, 1]), the usual normalisation.
MEAN, STD = 0.1307, 0.3081


def normalise(images: torch.Tensor, device: str) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) on ``device``, centred and scaled."""
    return images.to(device).float().div_(255).sub_(MEAN).div_(STD).unsqueeze(1)


def predict(model: torch.nn.Module, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """Class predictions (uint8, on the CPU) of the model in eval mode."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(images[i:i + batch]).argmax(1) for i in range(0, len(images), batch)]).to("cpu", torch.uint8)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor,
          recipe: dict[str, Any]) -> dict[str, Any]:
    """Build, train and evaluate the student's model; see the module's docstring."""
    device = recipe["device"]
    seed = int(recipe["seed"])
    components = student()
    model = student_module("model").build_model()
    parameters = count_parameters(model)
    if parameters > int(recipe["max_parameters"]):
        return {"parameters": parameters, "trained": False}
    model = model.to(device)
    x, y = normalise(train_images, device), train_labels.to(device).long()
    x_test = normalise(test_images, device)
    initial_predictions = predict(model, x_test)

    gen = torch.Generator().manual_seed(seed)
    train_fold, val_fold = student_module("kfold").kfold_split(len(x), int(recipe["folds"]), shuffle=True,
                                                               generator=gen)[0]
    train_idx = torch.as_tensor(list(train_fold), dtype=torch.long)
    val_idx = torch.as_tensor(list(val_fold), dtype=torch.long)

    batch = int(recipe["batch_size"])
    steps_per_epoch = len(train_idx) // batch
    total = steps_per_epoch * int(recipe["epochs"])
    warmup = int(total * float(recipe["warmup_fraction"]))
    lr = float(recipe["lr"])
    optimizer = components.optimizer(list(model.parameters()), lr, tuple(recipe["betas"]), float(recipe["eps"]))
    named = dict(model.named_parameters())
    lam = float(recipe["l2"])

    curve: dict[str, list[float]] = {"step": [], "loss": [], "lr": [], "epoch_step": [], "val_accuracy": []}
    every, seen = int(recipe["log_every"]), 0
    running = torch.zeros((), device=device)  # summed on the device: reading a loss every step would stall a GPU
    started = time.perf_counter()
    step = 0
    for _ in range(int(recipe["epochs"])):
        order = train_idx[torch.randperm(len(train_idx), generator=gen)]
        model.train()
        for i in range(steps_per_epoch):
            rate = components.cosine_lr(step, total, lr, 0.0, warmup)
            components.set_lr(optimizer, rate)
            b = order[i * batch:(i + 1) * batch].to(device)
            loss = F.cross_entropy(model(x[b]), y[b]) + components.l2_penalty(named, lam)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            running, seen = running + loss.detach(), seen + 1
            if seen == every or i == steps_per_epoch - 1:
                curve["step"].append(step)
                curve["loss"].append(float(running) / seen)
                curve["lr"].append(rate)
                running, seen = torch.zeros((), device=device), 0
        val_pred = predict(model, x[val_idx.to(device)])
        curve["epoch_step"].append(step)
        curve["val_accuracy"].append(float((val_pred.long() == train_labels[val_idx].long()).float().mean()))
        if not torch.isfinite(loss):
            break
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    return {
        "parameters": parameters, "trained": True, "device": str(next(model.parameters()).device),
        "initial_predictions": initial_predictions, "test_predictions": predict(model, x_test),
        "val_indices": val_idx, "val_predictions": val_pred, "curve": curve, "train_seconds": seconds,
        "steps": step, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
