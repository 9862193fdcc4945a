"""``convergence``: the student's CNN, trained on full MNIST, must reach the pass mark.

The worker gets the training images and labels and the test images, never the test
labels; it trains with the spec's fixed recipe (:mod:`grader.training.recipe`) and
sends back test predictions, validation predictions and the training curve. This
process scores the predictions with the labels only it holds, so no code in the
worker can report an accuracy it did not earn. Before training, the worker's test
predictions are scored too: a model that is already accurate was not trained here.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from grader import devices
from grader.compare import plain
from grader.checks import Outcome
from grader.datasets import mnist
from grader.references import kfold
from grader.sandbox import WorkerTimeout
from grader.spec import ConvergenceTest, ExerciseSpec, LoadedSpec
from grader.student_code import StudentCode

PROGRAM = "grader.training.recipe:train"


def data_dir() -> Path | None:
    """The MNIST folder named with ``--data-dir`` (``GRADER_MNIST_DIR``), else None for the cache."""
    named = os.environ.get("GRADER_MNIST_DIR")
    return Path(named) if named else None


def prepare_data(specs: list[LoadedSpec]) -> None:
    """Fetch and verify MNIST now if any of ``specs`` trains on it (raises MnistDataError).

    Whoever grades for a score (``grade``, the mistake catalogue) calls this first, so
    that no result is lost to a missing data set; the check itself never fetches.
    """
    if any(isinstance(t, ConvergenceTest) for s in specs for t in s.spec.tests):
        mnist.prepare(data_dir())


def run(test: ConvergenceTest, exercise: ExerciseSpec, code: StudentCode) -> Outcome:
    try:
        # Only what is on this machine: `grade` fetched the data before it started, and a
        # student's `check` should say how to get it rather than wait on the network.
        data = mnist.load(data_dir(), mirrors=(), wheel=None)
    except mnist.MnistDataError as exc:
        return Outcome(False, f"MNIST is not available, so the model was not trained ({exc}); run `grader data "
                       "mnist` once, then check again", status="skipped")
    code.load(exercise)  # starts the worker, so whether it sees CUDA is known
    device = devices.training_device(code.cuda)
    recipe = {**test.recipe.model_dump(), "device": device, "seed": test.seed, "max_parameters": test.max_parameters}
    args = [torch.from_numpy(data.train_images.copy()), torch.from_numpy(data.train_labels.copy()),
            torch.from_numpy(data.test_images.copy()), recipe]
    t0 = time.perf_counter()
    try:
        made = code.call(exercise, test.function, args, program=PROGRAM, seconds=test.time_budget_seconds,
                         seed=test.seed)
    except WorkerTimeout as exc:
        return Outcome(False, f"training did not finish within its time budget of {test.time_budget_seconds:g} s "
                       f"on {device} (the recipe: {test.recipe.epochs} epochs of batches of {test.recipe.batch_size}); "
                       "make the model cheaper to run, for instance fewer channels or smaller feature maps",
                       status="timeout", output=exc.output)
    wall = time.perf_counter() - t0
    result = plain(made.value)
    if not result.get("trained"):
        return Outcome(False, f"build_model() has {result['parameters']:,} parameters, over the cap of "
                       f"{test.max_parameters:,}, so it was not trained; make the layers smaller", output=made.output)
    return _score(test, result, data, wall, made.output)


def _accuracy(predictions: object, labels: torch.Tensor) -> float | None:
    """Percent of ``predictions`` equal to ``labels``, or None when they are not one class per label."""
    if not isinstance(predictions, torch.Tensor) or predictions.shape != labels.shape:
        return None
    return float((predictions.long() == labels.long()).double().mean()) * 100


def _score(test: ConvergenceTest, result: dict, data: mnist.Mnist, wall: float, output: str) -> Outcome:
    test_labels = torch.from_numpy(data.test_labels.copy())
    accuracy = _accuracy(result.get("test_predictions"), test_labels)
    initial = _accuracy(result.get("initial_predictions"), test_labels)
    if accuracy is None or initial is None:
        return Outcome(False, "the training run did not return one prediction per test image", output=output)
    val_idx = result.get("val_indices")
    train_labels = torch.from_numpy(data.train_labels.copy())
    valid = isinstance(val_idx, torch.Tensor) and val_idx.dim() == 1 and len(val_idx) > 0 and bool(
        ((val_idx >= 0) & (val_idx < len(train_labels))).all())
    val = _accuracy(result.get("val_predictions"), train_labels[val_idx.long()]) if valid else None
    reference_fold = kfold.split(len(train_labels), test.recipe.folds, shuffle=True,
                                 generator=torch.Generator().manual_seed(test.seed))[0][1]
    same_fold = valid and val_idx.tolist() == reference_fold
    curve = result.get("curve")
    metrics: dict[str, float | str] = {
        "test_accuracy": round(accuracy, 2), "initial_test_accuracy": round(initial, 2),
        "train_seconds": round(float(result["train_seconds"]), 1), "wall_seconds": round(wall, 1),
        "device": str(result.get("device", "")), "parameters": int(result["parameters"]),
        "steps": int(result.get("steps", 0)), "worker_max_rss_mb": round(float(result.get("max_rss_mb", 0)), 0),
    }
    if val is not None:
        metrics["val_accuracy"] = round(val, 2)
    figures = (f"test accuracy {accuracy:.2f}% (pass mark {test.pass_mark:g}%), validation accuracy "
               + (f"{val:.2f}% on {len(val_idx):,} held-out images" if val is not None else "unavailable")
               + f"; {metrics['steps']} steps in {metrics['train_seconds']} s on {metrics['device']}, "
               f"{metrics['parameters']:,} parameters")
    if val is not None and not same_fold:
        figures += ("; note: your kfold_split held out a different fold from the reference one, so the validation "
                    "figure is not comparable with other students'")
    if initial > test.max_initial_accuracy:
        return Outcome(False, f"before any training the model already scores {initial:.1f}% on the test images: "
                       "build_model() must return a freshly initialised model, not trained weights", output=output,
                       metrics=metrics, curve=curve)
    if accuracy < test.pass_mark:
        return Outcome(False, figures, output=output, metrics=metrics, curve=curve)
    return Outcome(True, figures, output=output, metrics=metrics, curve=curve)
