"""Everything that needs a GPU. Run it all with `pytest -m cuda`; it ends with a CUDA summary.

Without CUDA each test skips and says why. With CUDA:
* the solutions agree between CPU and CUDA on every exercise (TF32 off), and device
  checks are judged by CUDA itself;
* every catalogue variant gets the same device verdict from the CUDA judge as from
  the meta judge that CPU-only machines use.
"""

from __future__ import annotations

import time

import pytest

from grader.catalogue import run_catalogue
from grader.limits import available_cores
from tests.conftest import ROOT, SOLUTIONS, grade_dir, needs_cuda

pytestmark = [pytest.mark.cuda, needs_cuda]


def test_solutions_agree_between_cpu_and_cuda(all_specs, cuda_summary):
    t0 = time.perf_counter()
    report = grade_dir(SOLUTIONS, all_specs)
    seconds = time.perf_counter() - t0
    agreement = [t for t in report.tests() if t.kind == "cuda_agreement"]
    assert agreement and all(t.status == "passed" for t in agreement), [(t.name, t.status, t.message) for t in agreement]
    device = [t for t in report.tests() if t.kind == "device"]
    assert all(t.status == "passed" and "[judged by cuda]" in t.message for t in device)
    assert report.score == report.max_score
    cuda_summary.append(f"solutions on CUDA: {len(agreement)} agreement checks passed in {seconds:.1f} s")
    cuda_summary += [f"  {t.exercise}: {t.message}" for t in agreement]


def test_catalogue_device_verdicts_agree_between_judges(all_specs, cuda_summary, monkeypatch):
    verdicts = {}
    for judge in ("meta", "cuda"):
        monkeypatch.setenv("GRADER_DEVICE_JUDGE", judge)
        t0 = time.perf_counter()
        results = run_catalogue(ROOT / "tests" / "mistakes", all_specs, only=[s.spec.id for s in all_specs],
                                solutions=SOLUTIONS, jobs=min(8, available_cores()))
        cuda_summary.append(f"catalogue judged by {judge}: {len(results)} variants in {time.perf_counter() - t0:.1f} s")
        verdicts[judge] = {(r.exercise, r.variant.file, name): status for r in results
                           for name, status in r.statuses.items()
                           if name in {t.name for s in all_specs for t in s.spec.tests if t.kind == "device"}}
    disagree = {k: (v, verdicts["cuda"][k]) for k, v in verdicts["meta"].items()
                if (v == "passed" or v == "not applicable") != (verdicts["cuda"][k] == "passed")}
    assert not disagree
    cuda_summary.append(f"device verdicts: {len(verdicts['meta'])} compared, the two judges agree on all")
