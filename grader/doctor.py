"""``grader doctor``: what a user needs to know before grading, and whether grading can work.

It reports versions, CUDA and its TF32 flags, the isolation mechanism, and then starts a
real worker (the same way grading does) and times it. It returns a list of problems;
an empty list means grading can run.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

from grader import __version__
from grader.limits import DEFAULT_LIMITS
from grader.sandbox import Worker, WorkerFailure, isolation_summary


@dataclass
class Diagnosis:
    facts: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def diagnose(specs_dir: Path | None = None) -> Diagnosis:
    import torch

    d = Diagnosis()
    d.facts += [
        ("grader", __version__),
        ("python", platform.python_version()),
        ("torch", torch.__version__),
    ]
    if torch.cuda.is_available():
        d.facts += [
            ("CUDA", f"available, {torch.cuda.device_count()} device(s)"),
            ("device", torch.cuda.get_device_name()),
            ("TF32 matmul / cuDNN", f"{torch.backends.cuda.matmul.allow_tf32} / {torch.backends.cudnn.allow_tf32} "
                                    "(the worker turns both off before every call)"),
            ("device checks judged by", "cuda"),
        ]
    else:
        d.facts += [
            ("CUDA", "not available: CUDA agreement tests are skipped"),
            ("device checks judged by", "meta, CUDA rules (no GPU)"),
        ]
    try:
        with Worker({}, DEFAULT_LIMITS) as worker:
            hello = worker.wait_ready()
            d.facts.append(("isolation", isolation_summary(worker.mechanism, bool(hello.get("seccomp")), worker.gpu, worker.forked)))
            d.facts.append(("worker", f"started in {worker.startup_seconds:.2f} s ("
                            f"{'forked from the fork server' if worker.forked else 'python -I'}, torch {hello.get('torch')})"))
    except WorkerFailure as exc:
        d.problems.append(f"the worker could not start: {exc} {exc.output.strip()[-500:]}")
    except OSError as exc:
        d.problems.append(f"the worker could not start: {exc}")
    if specs_dir is not None:
        from grader.spec import SpecError, load_specs

        try:
            specs = load_specs(specs_dir)
            d.facts.append(("exercises", f"{len(specs)} in {specs_dir}: {', '.join(s.spec.id for s in specs)}"))
        except SpecError as exc:
            d.problems.append(str(exc))
        else:
            if any(t.kind == "convergence" for s in specs for t in s.spec.tests):
                d.facts.append(("MNIST", _mnist_status()))
    return d


def _mnist_status() -> str:
    """Whether the training data is here already (nothing is fetched: `grader data mnist` does that)."""
    from grader.checks.convergence import data_dir
    from grader.datasets import mnist

    try:
        folder, _ = mnist.prepare(data_dir(), mirrors=(), wheel=None)
    except mnist.MnistDataError:
        return "not prepared: run `grader data mnist` before grading (grade stops without it)"
    return f"ready in {folder}, every file's sha256 verified"
