"""How far above the pass mark the instructor's solutions land, over several seeds.

A correct student must never fail the MNIST convergence test by bad luck, so the
lowest test accuracy over the seeds must clear the pass mark by a margin (0.2 points).
Each seed is a full grading run of the convergence test through the normal path
(worker, sandbox, trusted scoring); the seed changes the initial weights, the
held-out fold, the batch order and the dropout masks.

    python benchmarks/mnist_margin.py --seeds 10
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_mnist import ROOT, convergence_only, import_torch_floor  # noqa: E402 - the benchmarks' shared helpers

from grader.grading import grade  # noqa: E402
from grader.submission import load_submission  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--margin", type=float, default=0.2, help="points above the pass mark the lowest must reach")
    args = parser.parse_args()
    floor = import_torch_floor()
    test = convergence_only().spec.tests[0]
    submission = load_submission(ROOT / "solutions")
    print(f"import torch (floor): {floor:.2f} s; pass mark {test.pass_mark}%, recipe {test.recipe.model_dump()}")
    print("| seed | test accuracy % | validation accuracy % | training s | wall s |")
    print("| --- | --- | --- | --- | --- |")
    accuracies = []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        report = grade(submission, [convergence_only(seed)])
        wall = time.perf_counter() - t0
        result = report.tests()[0]
        m = result.metrics
        if "test_accuracy" not in m:
            print(f"| {seed} | {result.status}: {result.message} | | | |")
            accuracies.append(0.0)
            continue
        accuracies.append(float(m["test_accuracy"]))
        print(f"| {seed} | {m['test_accuracy']:.2f} | {m.get('val_accuracy', float('nan')):.2f} | "
              f"{m['train_seconds']} | {wall:.1f} |", flush=True)
    lowest = min(accuracies)
    ok = lowest >= test.pass_mark + args.margin
    print(f"lowest {lowest:.2f}%, mean {sum(accuracies) / len(accuracies):.2f}%, margin {lowest - test.pass_mark:+.2f} "
          f"points over the pass mark (needed {args.margin:+.2f}): {'OK' if ok else 'TOO SMALL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
