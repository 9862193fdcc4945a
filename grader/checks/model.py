"""``model``: judge the model ``build_model()`` returns, before any training.

The worker builds a fresh model and reports its parameter shapes, its initial weight
statistics and its eval-mode outputs (:mod:`grader.training.model_report`). Each test
names one of four checks, so a student loses exactly the points of the property their
model lacks:

* ``parameter_cap``: no more parameters than the spec allows;
* ``xavier_init``: every conv and linear weight has Xavier's spread, sqrt(2 / (fan_in + fan_out))
  times a gain of 1 or sqrt(2) (ReLU's), so PyTorch's default init does not pass;
* ``eval_deterministic``: two eval-mode passes over one batch agree (dropout is off in eval);
* ``eval_batch_independent``: in eval mode an image's output does not depend on the other
  images of its batch (BatchNorm uses its running statistics, not the batch's).
"""

from __future__ import annotations

import math

import torch

from grader.compare import plain
from grader.checks import Outcome, fail
from grader.spec import ExerciseSpec, ModelTest
from grader.student_code import StudentCode

PROGRAM = "grader.training.model_report:report"
GAINS = {"1": 1.0, "sqrt(2)": math.sqrt(2.0)}


def run(test: ModelTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    images = torch.randint(0, 256, (test.batch_size, 28, 28), generator=torch.Generator().manual_seed(test.seed),
                           dtype=torch.uint8)
    made = code.call(exercise, test.function, [images], program=PROGRAM, seed=test.seed)
    report = plain(made.value)
    judge = {"parameter_cap": _parameter_cap, "xavier_init": _xavier, "eval_deterministic": _deterministic,
             "eval_batch_independent": _batch_independent}[test.check]
    verdict = judge(test, report)
    if isinstance(verdict, Outcome):
        verdict.output = made.output
        return verdict
    return fail(verdict, made.output)


def parameter_count(shapes: dict[str, list[int]]) -> int:
    return sum(math.prod(shape) for shape in shapes.values())


def _parameter_cap(test: ModelTest, report: dict) -> list[str]:
    n = parameter_count(report["parameters"])
    assert test.max_parameters is not None
    if n > test.max_parameters:
        biggest = sorted(report["parameters"].items(), key=lambda kv: -math.prod(kv[1]))[:3]
        shown = ", ".join(f"{name} {tuple(shape)}" for name, shape in biggest)
        return [f"build_model() has {n:,} parameters, over the cap of {test.max_parameters:,} (largest: {shown}); "
                "make the layers smaller"]
    return []


def _xavier(test: ModelTest, report: dict) -> list[str]:
    problems = []
    if not report["layers"]:
        return ["the model has no Conv2d or Linear layer to check"]
    for layer in report["layers"]:
        n = math.prod(layer["shape"])
        base = math.sqrt(2.0 / (layer["fan_in"] + layer["fan_out"]))
        # The sample std of n draws has a relative error near 1/sqrt(2n): allow 5 of those on small layers.
        tol = max(test.tolerance, 5 / math.sqrt(2 * n))
        if not any(abs(layer["std"] / (gain * base) - 1) <= tol for gain in GAINS.values()):
            default = 1 / math.sqrt(3 * layer["fan_in"])
            hint = (" (that is PyTorch's default init: call your xavier_uniform_ or xavier_normal_ on this weight)"
                    if abs(layer["std"] / default - 1) <= tol else "")
            problems.append(f"{layer['name']} ({layer['kind']} {tuple(layer['shape'])}): weight std {layer['std']:.4g}, "
                            f"but Xavier init gives {base:.4g} (gain 1) or {base * GAINS['sqrt(2)']:.4g} (gain "
                            f"sqrt(2)){hint}")
    return problems


def _finite(report: dict) -> list[str]:
    if not torch.isfinite(report["eval_first"]).all():
        return ["the model's eval-mode output holds NaN or inf on ordinary images"]
    return []


def _deterministic(test: ModelTest, report: dict) -> list[str]:
    first, second = report["eval_first"], report["eval_second"]
    if first.shape != second.shape or not torch.allclose(first, second, rtol=1e-5, atol=1e-6):
        diff = (first - second).abs().max().item() if first.shape == second.shape else float("nan")
        return [f"in eval mode two forward passes over the same {test.batch_size} images differ (by up to {diff:.3g}): "
                "something random is still on in eval mode; dropout must be the identity when the model is in eval "
                "mode (pass self.training to your dropout)"]
    return _finite(report)


def _batch_independent(test: ModelTest, report: dict) -> list[str] | Outcome:
    if _deterministic(test, report):
        # Random eval outputs are the other test's loss; this one cannot tell batch effects from noise.
        return Outcome(True, "eval mode is random, so batch independence cannot be judged; no points lost here "
                       "(see the eval determinism test)", status="not applicable")
    half, first = report["eval_half"], report["eval_first"][: len(report["eval_half"])]
    if not torch.allclose(half, first, rtol=1e-4, atol=1e-4):
        diff = (half - first).abs().max().item()
        return [f"in eval mode the outputs for {len(half)} images change (by up to {diff:.3g}) when the other "
                f"{test.batch_size - len(half)} images of the batch are left out: in eval mode BatchNorm must "
                "normalise with its running statistics, not the batch's (pass self.training to batchnorm_forward)"]
    return []
