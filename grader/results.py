"""What grading produces: one result per test, grouped per exercise, in one report.

Reports in every format (text, JSON, Gradescope) are rendered from these models, so
they can never disagree about a score.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

#: ``passed`` and ``failed`` are verdicts on correct-running code; the others say why
#: the code could not be judged on its merits, and all of them score 0.
Status = Literal[
    "passed", "failed", "not implemented", "error", "timeout", "crashed", "memory limit",
    "forbidden", "output refused", "skipped", "not applicable",
]


class TrainingCurve(BaseModel):
    """Mean training loss (and learning rate) every few steps; validation accuracy after each epoch."""

    step: list[int]
    loss: list[float]
    lr: list[float]
    epoch_step: list[int]
    val_accuracy: list[float]


class TestResult(BaseModel):
    exercise: str
    name: str
    kind: str
    status: Status
    score: float
    max_score: float
    visibility: Literal["visible", "hidden"]
    message: str = Field("", description="what happened, in one or a few sentences")
    feedback: str = Field("", description="the spec's hint on the likely cause, shown when the test fails")
    output: str = Field("", description="what the student's code printed during this test")
    seconds: float = 0.0
    metrics: dict[str, float | str] = Field({}, description="figures of this test, e.g. test accuracy and time")
    curve: TrainingCurve | None = Field(None, description="the training curve of a convergence test")

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class ExerciseResult(BaseModel):
    id: str
    title: str
    spec_sha256: str
    tests: list[TestResult]
    variant: dict[str, float] = Field({}, description="the per-student parameter values the tests ran with")

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)


class Report(BaseModel):
    """Everything about one grading run of one submission, including its provenance."""

    submission: str
    submission_sha256: str
    mode: Literal["check", "grade"]
    grader_version: str
    torch_version: str
    python_version: str
    device: str
    device_judge: str = Field(description="what judged the device checks: 'cuda' or 'meta, CUDA rules (no GPU)'")
    isolation: str
    started_at: str
    execution_time: float
    worker_startup_seconds: float
    transfer_seconds: float = Field(0.0, description="time spent encoding, piping and decoding requests and replies")
    exercises: list[ExerciseResult]
    output: str = Field("", description="output of the worker outside any call (e.g. at import)")

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    def tests(self) -> list[TestResult]:
        return [t for e in self.exercises for t in e.tests]
