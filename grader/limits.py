"""Resource limits for student code: the defaults live here, and specs may override them.

Every clock starts after the worker's own start-up (``import torch`` can take 1 s on
one machine and 15 s on another), so a student is never charged for it.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Limits(BaseModel):
    """Limits applied to one worker and to each call it serves."""

    model_config = ConfigDict(extra="forbid")

    call_seconds: float = Field(10.0, gt=0, description="wall-clock seconds for one call into student code")
    submission_seconds: float = Field(120.0, gt=0, description="wall-clock seconds for all calls of one submission")
    cpu_seconds: int = Field(20, gt=0, description="CPU seconds of student code per call (RLIMIT_CPU, re-armed per call)")
    worker_cpu_seconds: int = Field(600, gt=0, description="CPU seconds of student code in one worker (hard RLIMIT_CPU)")
    memory_mb: int = Field(4096, gt=0, description="address space of the worker (RLIMIT_AS); torch needs ~1.5 GiB")
    file_size_mb: int = Field(16, gt=0, description="largest file the worker may write (RLIMIT_FSIZE)")
    disk_mb: int = Field(64, gt=0, description="size of the worker's own folder, a tmpfs, under bubblewrap")
    open_files: int = Field(256, gt=16, description="open file descriptors (RLIMIT_NOFILE)")
    output_kb: int = Field(64, gt=0, description="stdout/stderr kept per worker; the rest is dropped")
    output_mb_per_call: float = Field(1.0, gt=0, description="printing more than this in one call loses the test")
    threads: int = Field(1, ge=0, description="torch intra-op threads in the worker; 0 for every core the grader may use")

    def resolved_threads(self) -> int:
        """``threads``, with 0 read as the number of cores this process may run on."""
        return self.threads or available_cores()

    def merged(self, override: "LimitsOverride | None") -> "Limits":
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_none=True))


class LimitsOverride(BaseModel):
    """The subset of :class:`Limits` a spec sets; unset fields keep the defaults."""

    model_config = ConfigDict(extra="forbid")

    call_seconds: float | None = Field(None, gt=0)
    submission_seconds: float | None = Field(None, gt=0)
    cpu_seconds: int | None = Field(None, gt=0)
    worker_cpu_seconds: int | None = Field(None, gt=0)
    memory_mb: int | None = Field(None, gt=0)
    file_size_mb: int | None = Field(None, gt=0)
    disk_mb: int | None = Field(None, gt=0)
    open_files: int | None = Field(None, gt=16)
    output_kb: int | None = Field(None, gt=0)
    output_mb_per_call: float | None = Field(None, gt=0)
    threads: int | None = Field(None, ge=0)


DEFAULT_LIMITS = Limits()
