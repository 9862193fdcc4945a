"""Pictures of a training run, drawn with matplotlib (headless: the Agg backend).

The convergence check stores its curve in the report as numbers; the picture is
drawn from them whenever a report needs one, so every format shows the same run.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from grader.results import Report, TestResult, TrainingCurve


def training_curve_png(curve: TrainingCurve, title: str) -> bytes:
    """Training loss and learning rate against the step, with validation accuracy after each epoch."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.6), dpi=100)
    loss_ax, val_ax = fig.subplots(1, 2)
    loss_ax.plot(curve.step, curve.loss, color="tab:blue", label="training loss")
    loss_ax.set_yscale("log")
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("training loss (log scale)")
    lr_ax = loss_ax.twinx()
    lr_ax.plot(curve.step, curve.lr, color="tab:gray", linestyle="--", label="learning rate")
    lr_ax.set_ylabel("learning rate")
    loss_ax.legend(handles=[*loss_ax.get_lines(), *lr_ax.get_lines()], loc="upper right", fontsize="small")
    val_ax.plot(curve.epoch_step, [100 * a for a in curve.val_accuracy], marker="o", color="tab:green")
    val_ax.set_xlabel("step (end of each epoch)")
    val_ax.set_ylabel("validation accuracy (%)")
    val_ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def curve_file_name(report: Report, result: TestResult) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{Path(report.submission).name}-{result.exercise}-{result.name}")
    return stem.strip("_.")[:120] + ".png"


def save_training_curves(report: Report, folder: Path) -> list[Path]:
    """One PNG per test of the report that has a training curve; the paths written."""
    written = []
    for result in report.tests():
        if result.curve is None or not result.curve.step:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / curve_file_name(report, result)
        title = f"{result.exercise}: {result.metrics.get('test_accuracy', '?')}% test accuracy"
        path.write_bytes(training_curve_png(result.curve, title))
        written.append(path)
    return written
