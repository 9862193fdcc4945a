"""``parity``: the student's components against PyTorch's, in one fixed training run.

A small grader-owned network (:mod:`grader.training.parity`) is trained for a few steps
in float64 twice from the same weights and batches: in the worker on the student's
BatchNorm, Adam, cosine schedule and L2 penalty, here on PyTorch's. Every step's loss
must agree, then the eval-mode outputs. Where they first part says which component
to look at: the first loss depends only on the forward pass and the penalty, later
ones on the backward pass, the optimizer and the schedule, and the eval outputs on
the running statistics.
"""

from __future__ import annotations

import torch

from grader.compare import plain
from grader.checks import Outcome
from grader.spec import ExerciseSpec, ParityTest
from grader.student_code import StudentCode
from grader.training import components, parity

PROGRAM = "grader.training.parity:train_student"


def run(test: ParityTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    state = parity.initial_state(test.seed)
    images, labels, eval_images = parity.batches(test.seed, test.steps, test.batch_size)
    settings = test.settings.model_dump()
    expected = parity.train(components.reference(), state, images, labels, eval_images, settings)
    made = code.call(exercise, "", [state, images, labels, eval_images, settings], program=PROGRAM, seed=test.seed,
                     load_module=False)
    got = plain(made.value)
    losses = got.get("losses") if isinstance(got, dict) else None
    if not isinstance(losses, torch.Tensor) or losses.shape != expected["losses"].shape:
        return Outcome(False, "the training run did not return one loss per step", output=made.output)
    losses = losses.to(torch.float64)
    close = torch.isclose(losses, expected["losses"], rtol=test.rtol, atol=test.atol)
    if not close.all():
        step = int((~close).nonzero()[0]) + 1
        where = ("the forward pass or the L2 penalty (batchnorm_forward, l2_penalty)" if step == 1 else
                 "the backward pass, the optimizer or the schedule (batchnorm_backward, Adam, cosine_lr)")
        return Outcome(False, f"the loss at step {step} of {test.steps} is {losses[step - 1].item():.10g} with your "
                       f"components and {expected['losses'][step - 1].item():.10g} with PyTorch's (float64, rtol "
                       f"{test.rtol:g}); the steps before agree, so look at {where}", output=made.output,
                       metrics={"first_differing_step": step})
    logits = got.get("eval_logits")
    if not isinstance(logits, torch.Tensor) or logits.shape != expected["eval_logits"].shape or not torch.allclose(
            logits.to(torch.float64), expected["eval_logits"], rtol=test.rtol * 10, atol=test.atol * 10):
        return Outcome(False, f"all {test.steps} training losses agree, but the eval-mode outputs afterwards do not: "
                       "look at the running statistics (their update in training mode, and their use in eval mode "
                       "in batchnorm_forward)", output=made.output)
    return Outcome(True, output=made.output)
