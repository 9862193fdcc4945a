"""Time grading end to end, beside the `import torch` floor of this machine.

    python benchmarks/bench_grade.py [--repeat 3]

Prints, each as the best of --repeat runs and as a multiple of the floor:
* the floor: `python -c "import torch"`;
* the first worker's start-up, which waits for the fork server to import torch (or, where
  workers are spawned, for the worker's own import), then the median of the next 20;
* `grader grade solutions --exercise xavier` (the spine's goal: < 3 s on a 1 s-floor machine);
* `grader grade solutions` for every exercise, hidden tests included (goal: < 5 s).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def worker_startups(n: int) -> list[float]:
    """Start-up of n workers in a row: the first also waits for the fork server to import torch."""
    from grader.limits import DEFAULT_LIMITS
    from grader.sandbox import Worker

    times = []
    for _ in range(n):
        with Worker({}, DEFAULT_LIMITS) as w:
            w.wait_ready()
            times.append(w.startup_seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    grader = str(Path(sys.executable).with_name("grader"))
    rows = [
        ("import torch (floor)", [sys.executable, "-c", "import torch"]),
        ("grade solutions --exercise xavier", [grader, "grade", "solutions", "--exercise", "xavier"]),
        ("grade solutions (all exercises)", [grader, "grade", "solutions"]),
    ]
    results = {name: min(wall(cmd) for _ in range(args.repeat)) for name, cmd in rows}
    first, *rest = worker_startups(21)
    results["first worker (fork server start)"] = first
    results["worker start-up, median of 20"] = statistics.median(rest)
    floor = results["import torch (floor)"]
    print(f"{'measure':40} {'seconds':>8} {'x floor':>8}")
    for name in ["import torch (floor)", "first worker (fork server start)", "worker start-up, median of 20",
                 "grade solutions --exercise xavier", "grade solutions (all exercises)"]:
        print(f"{name:40} {results[name]:8.3f} {results[name] / floor:8.3f}")


if __name__ == "__main__":
    main()
