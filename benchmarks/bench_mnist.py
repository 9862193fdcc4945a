"""Time and memory of the MNIST convergence test on the instructor's solutions.

Prints the wall time of one grading run of the convergence test (data load, worker
start-up, training, prediction and scoring all included), the training time inside the
worker, the worker's peak resident memory and the test accuracy, beside the
``import torch`` floor measured in the same run. Goals (for a machine with a 1 s
floor): 90 s on two CPU cores, 10 s on one H100, 2 GB of worker memory.

    python benchmarks/bench_mnist.py [--device cpu|cuda|auto] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.grading import grade  # noqa: E402
from grader.limits import available_cores  # noqa: E402
from grader.spec import ConvergenceTest, LoadedSpec, load_specs  # noqa: E402
from grader.submission import load_submission  # noqa: E402


def import_torch_floor() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - t0


def convergence_only(seed: int | None = None) -> LoadedSpec:
    """The MNIST spec cut down to its convergence test, with another seed if given."""
    loaded = load_specs(ROOT / "exercises", ["mnist_cnn"])[0]
    test = next(t for t in loaded.spec.tests if isinstance(t, ConvergenceTest))
    if seed is not None:
        test = test.model_copy(update={"seed": seed})
    return loaded.model_copy(update={"spec": loaded.spec.model_copy(update={"tests": [test]})})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    os.environ["GRADER_DEVICE"] = args.device
    floor = import_torch_floor()
    only = convergence_only()
    submission = load_submission(ROOT / "solutions")
    print(f"cores: {available_cores()}; import torch (floor): {floor:.2f} s")
    print("| run | device | test accuracy % | wall s | x floor | training s | worker start s | worker peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    worst = 0.0
    for run in range(args.repeat):
        t0 = time.perf_counter()
        report = grade(submission, [only])
        wall = time.perf_counter() - t0
        result = report.tests()[0]
        m = result.metrics
        if result.status != "passed":
            print(f"| {run} | | {result.status}: {result.message} | {wall:.1f} | | | | |")
            return 1
        worst = max(worst, wall)
        print(f"| {run} | {m['device']} | {m['test_accuracy']:.2f} | {wall:.1f} | {wall / floor:.1f} | "
              f"{m['train_seconds']} | {report.worker_startup_seconds:.1f} | {m['worker_max_rss_mb']:.0f} |", flush=True)
    grader_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"slowest wall {worst:.1f} s = {worst / floor:.1f} x the import-torch floor; grader process peak RSS "
          f"{grader_rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
