"""The components a training program is assembled from: the student's, or PyTorch's own.

A program takes a :class:`Components` and never asks whose they are, so one loop can run
on the student's BatchNorm, Adam, schedule and penalty in the worker and on PyTorch's in
the trusted process, and any difference between the two runs is the student's.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

#: The submission's modules that hold each component (the stubs' file names).
MODULES = {"batchnorm": "batchnorm", "adam": "adam", "cosine": "cosine_schedule", "l2": "l2_penalty",
           "kfold": "kfold", "dropout": "dropout", "xavier": "xavier_init", "model": "mnist_cnn"}


@dataclass(frozen=True)
class Components:
    #: (x, weight, bias, running_mean, running_var, training, momentum, eps) -> out, differentiable by autograd
    batchnorm: Callable[..., torch.Tensor]
    #: (params, lr, betas, eps) -> an optimizer with step() and zero_grad()
    optimizer: Callable[..., Any]
    #: (optimizer, lr) -> None: sets the learning rate of the next step
    set_lr: Callable[[Any, float], None]
    cosine_lr: Callable[..., float]
    l2_penalty: Callable[[dict[str, torch.Tensor], float], torch.Tensor]


def student_module(key: str) -> Any:
    """One of the submission's modules, imported in the worker from the student's folder."""
    return importlib.import_module(MODULES[key])


def student() -> Components:
    """The student's components, in the worker. Their BatchNorm backward runs as written, through autograd."""
    bn, adam = student_module("batchnorm"), student_module("adam")

    class StudentBatchNorm(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, running_mean: torch.Tensor,
                    running_var: torch.Tensor, training: bool, momentum: float, eps: float) -> torch.Tensor:
            out, ctx.cache = bn.batchnorm_forward(x, weight, bias, running_mean, running_var, training, momentum, eps)
            return out

        @staticmethod
        def backward(ctx: Any, dout: torch.Tensor) -> tuple[Any, ...]:
            dx, dweight, dbias = bn.batchnorm_backward(dout.contiguous(), ctx.cache)
            return dx, dweight, dbias, None, None, None, None, None

    def set_lr(optimizer: Any, lr: float) -> None:
        optimizer.lr = lr

    return Components(batchnorm=StudentBatchNorm.apply,
                      optimizer=lambda params, lr, betas, eps: adam.Adam(params, lr=lr, betas=betas, eps=eps),
                      set_lr=set_lr, cosine_lr=student_module("cosine").cosine_lr,
                      l2_penalty=student_module("l2").l2_penalty)


def reference() -> Components:
    """PyTorch's own components, in the trusted process."""
    from grader.references import cosine, l2

    def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = lr

    def batchnorm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, running_mean: torch.Tensor,
                  running_var: torch.Tensor, training: bool, momentum: float, eps: float) -> torch.Tensor:
        return F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)

    return Components(batchnorm=batchnorm,
                      optimizer=lambda params, lr, betas, eps: torch.optim.Adam(params, lr=lr, betas=betas, eps=eps,
                                                                                foreach=False),
                      set_lr=set_lr, cosine_lr=cosine.cosine_lr, l2_penalty=l2.penalty)
