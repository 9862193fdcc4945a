"""A class of submissions of the seven unit exercises, graded as a batch.

Prints the wall time of ``grade_folder`` over N generated submissions (most correct,
the rest with one file swapped for a mistake from the catalogue), the time per
submission, and the grader's overhead: worker start-up plus the time requests and
replies spend being encoded, piped and decoded, as a share of all grading time. Goals
(for a machine with a 1 s ``import torch`` floor, printed beside): 100 submissions in
2 minutes on 2 cores, overhead at most 20%. The fork server (which imports torch once,
then forks every worker) is started before the clock, as ``grader grade`` starts it
before reading the class; its start-up is printed apart, and a last line charges it to
the batch as well.

    python benchmarks/bench_batch.py [--submissions 100] [--jobs 2] [--cli]

``--cli`` times the real ``grader grade CLASS`` command instead, reading the reports
back from its gradebook: the first submissions then wait for the fork server.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_mnist import ROOT, import_torch_floor  # noqa: E402 - the benchmarks' shared helpers

from grader import sandbox  # noqa: E402
from grader.batch import grade_folder  # noqa: E402
from grader.catalogue import load_catalogue  # noqa: E402
from grader.gradebook import Gradebook  # noqa: E402
from grader.spec import load_specs  # noqa: E402


def generate(folder: Path, n: int, specs: list) -> None:
    """n submission folders: 70% the solutions, 30% with one module replaced by a catalogued mistake."""
    rng = random.Random(0)
    modules = {s.spec.id: s.spec.module for s in specs}
    mistakes = [(exercise, v.file) for exercise, variants in load_catalogue(ROOT / "tests" / "mistakes").items()
                if exercise in modules for v in variants if v.loses and not v.patch and not v.module]
    for i in range(n):
        student = folder / f"student{i:03d}"
        shutil.copytree(ROOT / "solutions", student, ignore=shutil.ignore_patterns("__pycache__", "mnist_cnn.py"))
        if rng.random() < 0.3:
            exercise, file = rng.choice(mistakes)
            shutil.copy(ROOT / "tests" / "mistakes" / exercise / file, student / f"{modules[exercise]}.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cli", action="store_true",
                        help="time the whole `grader grade CLASS` command instead, fork server start included")
    args = parser.parse_args()
    floor = import_torch_floor()
    specs = [s for s in load_specs(ROOT / "exercises") if not any(t.kind == "convergence" for t in s.spec.tests)]
    server = None if args.cli else sandbox.prestart()  # as `grader grade` does before reading the class
    if server is not None:
        server.ready.wait()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        generate(folder, args.submissions, specs)
        t0 = time.perf_counter()
        if args.cli:
            exercises = [a for s in specs for a in ("--exercise", s.spec.id)]
            subprocess.run([str(Path(sys.executable).with_name("grader")), "grade", str(folder), "--jobs",
                            str(args.jobs), "--gradebook", str(Path(tmp) / "gradebook.sqlite"), *exercises],
                           check=True, capture_output=True)
        else:
            with Gradebook(Path(tmp) / "gradebook.sqlite") as book:
                grade_folder(folder, specs, book, jobs=args.jobs)
        wall = time.perf_counter() - t0
        with Gradebook(Path(tmp) / "gradebook.sqlite") as book:
            reports = list(book.latest_reports().values())
    busy = sum(r.execution_time for r in reports)
    startup = sum(r.worker_startup_seconds for r in reports)
    transfer = sum(r.transfer_seconds for r in reports)
    full = sum(r.score == r.max_score for r in reports)
    print(f"import torch (floor): {floor:.2f} s; {len(reports)} submissions of {len(specs)} exercises, "
          f"{args.jobs} at a time ({full} at full marks){'; the whole grader grade command' if args.cli else ''}")
    print("| measure | value | goal at a 1 s floor |")
    print("| --- | --- | --- |")
    print(f"| wall, all submissions | {wall:.1f} s ({wall / floor:.0f} x floor) | 120 s for 100 |")
    print(f"| wall per submission | {wall / len(reports):.2f} s | 1.2 s |")
    print(f"| grading time per submission (one job) | {busy / len(reports):.2f} s | |")
    print(f"| worker start-up, share of grading time | {100 * startup / busy:.1f}% | |")
    print(f"| transfer (encode, pipe, decode), share | {100 * transfer / busy:.1f}% | |")
    print(f"| grader overhead (start-up + transfer) | {100 * (startup + transfer) / busy:.1f}% | 20% |")
    if server is not None and server.startup_seconds is not None:
        # Charged to every job that would wait for it, had it started with the batch.
        once = server.startup_seconds * args.jobs
        print(f"| fork server start-up, once per grader process | {server.startup_seconds:.2f} s | |")
        print(f"| overhead with that start charged to the batch | "
              f"{100 * (startup + transfer + once) / (busy + once):.1f}% | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
