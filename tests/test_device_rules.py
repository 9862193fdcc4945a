"""CUDA's device rules on meta tensors: device bugs are named, CUDA-legal patterns pass."""

from __future__ import annotations

import pytest
import torch

from grader.device_rules import CudaRulesOnMeta, DataDependent, DeviceBug, to_meta


def run(fn, *tensors):
    args = to_meta(list(tensors))
    with CudaRulesOnMeta():
        return fn(*args)


# -- device bugs ------------------------------------------------------------------------

def dropout_mask_via_cpu(x):
    mask = (torch.rand(x.shape, device=x.device) > 0.5).cpu()
    return x * mask


def adam_state_on_cpu(p, g):
    m = torch.zeros(p.shape)
    m.mul_(0.9).add_(g, alpha=0.1)  # in place: plain meta would accept this silently
    return p - m


def bn_backward_accumulates_on_cpu(dout):
    dbeta = torch.zeros(dout.shape[1])
    for row in dout:
        dbeta += row
    return dbeta


def l2_into_cpu_scalar_vector(w):
    total = torch.zeros(1)
    return total + (w * w).sum()


def numpy_midway(x):
    return torch.from_numpy(x.numpy())


def to_cpu_midway(x):
    return x.to("cpu") * 2


@pytest.mark.parametrize("fn,shapes", [
    (dropout_mask_via_cpu, [(4, 3)]),
    (adam_state_on_cpu, [(4, 3), (4, 3)]),
    (bn_backward_accumulates_on_cpu, [(5, 3)]),
    (l2_into_cpu_scalar_vector, [(4, 3)]),
    (numpy_midway, [(3,)]),
    (to_cpu_midway, [(3,)]),
])
def test_device_bugs_are_named(fn, shapes):
    with pytest.raises(DeviceBug) as err:
        run(fn, *[torch.randn(s) for s in shapes])
    assert "CPU" in str(err.value)


def test_the_message_names_the_call_and_the_fix():
    with pytest.raises(DeviceBug, match=r"`add_` mixes a CPU tensor of shape \(4, 3\).*device=x.device"):
        run(adam_state_on_cpu, torch.randn(4, 3), torch.randn(4, 3))


def test_a_caught_bug_is_still_found():
    def sneaky(x):
        try:
            return x + torch.ones(3)
        except BaseException:
            return x

    rules = CudaRulesOnMeta()
    x = to_meta(torch.randn(3))
    with rules:
        sneaky(x)
    assert isinstance(rules.found, DeviceBug)


# -- patterns CUDA accepts --------------------------------------------------------------

LEGAL = [
    lambda x: x[torch.tensor([0, 2])],                      # CPU index tensor
    lambda x: x * torch.tensor(2.0),                        # 0-dim CPU tensor
    lambda x: x.clone().copy_(torch.ones(x.shape)),         # copy_ from the CPU
    lambda x: torch.ones(x.shape).to(x.device) + x,         # .to(device)
    lambda x: x.new_zeros(x.shape) + torch.zeros_like(x),   # factories on the input's device
    lambda x: x * (torch.rand(x.shape, device=x.device) < 0.5) / 0.5,
    lambda x: torch.where(x > 0, x, torch.zeros((), dtype=x.dtype)),
    lambda x: (x - x.mean(0, keepdim=True)) / (x.var(0, unbiased=False, keepdim=True) + 1e-5).sqrt(),
]


@pytest.mark.parametrize("fn", LEGAL)
def test_cuda_legal_patterns_pass(fn):
    out = run(fn, torch.randn(4, 3))
    assert out.is_meta


def test_setitem_with_a_cpu_value_is_legal():
    def fill(x):
        y = x.clone()
        y[0] = torch.ones(3)
        return y

    assert run(fill, torch.randn(4, 3)).is_meta


def test_autograd_works_on_meta():
    def grad_of(x):
        return torch.autograd.grad((x * x).sum(), x)[0]

    x = torch.randn(3).requires_grad_(True)
    assert run(grad_of, x).is_meta


@pytest.mark.parametrize("fn", [lambda x: x.sum().item(), lambda x: bool(x.sum() > 0), lambda x: x.tolist(),
                                lambda x: x.nonzero()])
def test_reading_values_is_data_dependent_not_a_bug(fn):
    with pytest.raises(DataDependent):
        run(fn, torch.randn(3))


def test_rules_are_off_outside_the_mode():
    x = to_meta(torch.randn(3))
    torch.zeros(3).add_(x)  # plain meta accepts it; only the mode refuses


def test_device_checks_are_judged_on_meta_when_the_worker_may_not_use_the_gpu(monkeypatch):
    from grader.checks import device

    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: True)  # a machine with a GPU
    monkeypatch.delenv("GRADER_DEVICE_JUDGE", raising=False)
    monkeypatch.setenv("GRADER_DEVICE", "auto")
    assert device.current_judge() == device.CUDA_JUDGE
    monkeypatch.setenv("GRADER_DEVICE", "cpu")  # --device cpu: the worker never sees the GPU
    assert device.current_judge() == device.META_JUDGE
