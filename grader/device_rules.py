"""CUDA's device rules, enforced on ``meta`` tensors, so device bugs show on machines without a GPU.

Runs inside the worker, active only around the student's calls. Meta tensors have
shapes, dtypes and autograd but no data, so a whole call costs milliseconds. Plain meta
is too lenient (it accepts ``cpu_buf.add_(meta_t)``, which CUDA refuses) and too vague
(``.cpu()`` fails the same way as code that merely reads a value), so this mode adds
CUDA's rules on top:

* a call that mixes a meta tensor with a CPU tensor of dimension >= 1 is a device bug
  (a 0-dim CPU tensor mixes freely, as it does with CUDA);
* indexing with CPU index tensors, ``__setitem__``, ``copy_`` from the CPU and
  ``.to(device)`` are legal, as they are on CUDA;
* ``.cpu()``, ``.to("cpu")`` and ``.numpy()`` on a meta tensor are device bugs;
* reading a value (``.item()``, ``bool(t)``, ``.tolist()``, ``nonzero``) cannot be judged
  on data-less tensors: it raises :class:`DataDependent`, which is "not applicable",
  never a lost point.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from grader.tree import tree_map

Tensor = torch.Tensor


class DeviceBug(BaseException):
    """The student's code did something CUDA refuses. A BaseException so it is not swallowed."""


class DataDependent(BaseException):
    """The code reads tensor values, which meta tensors do not have; the check cannot judge."""


#: Calls CUDA accepts with CPU tensors among their arguments.
MIXING_ALLOWED = {Tensor.__getitem__, Tensor.__setitem__, Tensor.copy_, Tensor.to, Tensor.index_put_,
                  Tensor.index_put, torch.index_put}
#: Calls that move data to the host, which is what a GPU computation must not do midway.
TO_HOST = {Tensor.cpu: ".cpu()", Tensor.numpy: ".numpy()"}
#: Calls whose result depends on the data itself.
DATA_READS = {Tensor.item, Tensor.tolist, Tensor.__bool__, Tensor.__float__, Tensor.__int__, Tensor.__index__,
              Tensor.nonzero, torch.nonzero, torch.masked_select, Tensor.masked_select, Tensor.unique, torch.unique,
              Tensor.__array__}


def _name(func: Any) -> str:
    return getattr(func, "__name__", None) or str(func)


def _tensors(value: Any, out: list[Tensor]) -> list[Tensor]:
    if isinstance(value, Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tensors(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _tensors(v, out)
    return out


def _target_device(args: tuple, kwargs: dict) -> torch.device | None:
    """The device a ``Tensor.to`` call moves to, if it names one."""
    for value in (*args[1:], kwargs.get("device"), kwargs.get("other")):
        if isinstance(value, (str, torch.device)):
            try:
                return torch.device(value)
            except RuntimeError:
                continue
        if isinstance(value, Tensor):
            return value.device
    return None


class CudaRulesOnMeta(TorchFunctionMode):
    """Raises :class:`DeviceBug` on the first call that a CUDA device would refuse.

    The first verdict is also kept in ``found``, so student code that catches it gains nothing.
    """

    def __init__(self) -> None:
        super().__init__()
        self.found: BaseException | None = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        self_tensor = args[0] if args and isinstance(args[0], Tensor) else None
        on_meta = self_tensor is not None and self_tensor.is_meta
        try:
            self._judge(func, args, kwargs, self_tensor, on_meta)
        except (DeviceBug, DataDependent) as exc:
            self.found = self.found or exc
            raise
        return func(*args, **kwargs)

    def _judge(self, func: Any, args: tuple, kwargs: dict, self_tensor: Tensor | None, on_meta: bool) -> None:
        if func in TO_HOST and on_meta:
            raise DeviceBug(f"{TO_HOST[func]} moves a tensor to the CPU in the middle of the computation; on a GPU "
                            "that breaks (or silently slows) the code: keep working on the input's device")
        if func is Tensor.to and on_meta:
            target = _target_device(args, kwargs)
            if target is not None and target.type == "cpu":
                raise DeviceBug(".to('cpu') moves a tensor to the CPU in the middle of the computation: keep it on "
                                "the input's device")
        if func in DATA_READS:
            raise DataDependent(f"the code reads tensor values ({_name(func)}), which this check cannot do without data")
        if func not in MIXING_ALLOWED:
            tensors = _tensors(args, []) + _tensors(kwargs, [])
            meta = any(t.is_meta for t in tensors)
            cpu = [t for t in tensors if t.device.type == "cpu" and t.dim() >= 1]
            if meta and cpu:
                shape = tuple(cpu[0].shape)
                raise DeviceBug(f"`{_name(func)}` mixes a CPU tensor of shape {shape} with tensors on the input's "
                                "device; a GPU refuses this: create it with `device=x.device` (or `torch.zeros_like`)")


def to_meta(value: Any) -> Any:
    """Every tensor in a nested value moved to ``meta``, leaves that require grad staying leaves."""

    def move(t: Any) -> Any:
        if not isinstance(t, Tensor) or t.is_meta:
            return t  # already on meta: keep the very object (an optimizer's parameters are shared by identity)
        moved = t.detach().to("meta")
        return moved.requires_grad_(True) if t.requires_grad else moved

    return tree_map(value, move)
