"""Which device student models train on: ``grade --device cpu|cuda|auto`` (``GRADER_DEVICE``).

``auto`` (the default) trains on CUDA where the worker sees a GPU and on the CPU
elsewhere. The choice also decides whether the worker's sandbox lets the GPU in at
all: with ``cpu`` it never does.
"""

from __future__ import annotations

import glob
import os

CHOICES = ("auto", "cpu", "cuda")


def requested() -> str:
    wanted = os.environ.get("GRADER_DEVICE", "auto")
    if wanted not in CHOICES:
        raise ValueError(f"GRADER_DEVICE={wanted!r}: use one of {', '.join(CHOICES)}")
    return wanted


def gpu_nodes() -> list[str]:
    """The NVIDIA device files the worker needs to reach a GPU, when GPUs are wanted and present."""
    if requested() == "cpu":
        return []
    cards = glob.glob("/dev/nvidia[0-9]*")
    return sorted(cards + glob.glob("/dev/nvidiactl") + glob.glob("/dev/nvidia-uvm*")) if cards else []


def training_device(worker_has_cuda: bool) -> str:
    """The device a training program runs on, given whether the worker sees CUDA."""
    wanted = requested()
    if wanted == "cuda" and not worker_has_cuda:
        raise RuntimeError("--device cuda, but the worker sees no CUDA device; use --device auto or cpu")
    return "cuda" if wanted == "cuda" or (wanted == "auto" and worker_has_cuda) else "cpu"
