"""Find the smallest address-space limit (RLIMIT_AS) under which the solutions still grade fully.

    python benchmarks/bench_memory_limit.py

PyTorch reserves much more virtual memory than it touches, so RLIMIT_AS must sit well
above what the code really uses. This grades the instructor solutions under a series
of limits and prints, for each, the score and the worker's start-up, beside the
`import torch` floor. The default in grader/limits.py keeps a wide margin above the
smallest limit that passes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    from grader.grading import grade
    from grader.limits import DEFAULT_LIMITS
    from grader.spec import load_specs
    from grader.submission import load_submission

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    print(f"import torch floor: {time.perf_counter() - t0:.2f} s; default limit {DEFAULT_LIMITS.memory_mb} MiB")
    specs = load_specs(ROOT / "exercises")
    sub = load_submission(ROOT / "solutions")
    print(f"{'RLIMIT_AS':>10} {'score':>12} {'statuses'}")
    for mb in (256, 384, 512, 640, 768, 1024, 2048, 4096):
        try:
            report = grade(sub, specs, limits=DEFAULT_LIMITS.model_copy(update={"memory_mb": mb}))
            statuses = sorted({t.status for t in report.tests()} - {"passed", "skipped", "not applicable"})
            print(f"{mb:>7} MiB {report.score:>5g} / {report.max_score:<5g} {', '.join(statuses) or 'all passed'}")
        except Exception as exc:  # the worker may not even start under a tiny limit
            print(f"{mb:>7} MiB {'-':>12} worker failed: {str(exc).splitlines()[0][:80]}")


if __name__ == "__main__":
    main()
