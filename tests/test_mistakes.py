"""The mistake catalogue: every realistic wrong submission loses exactly the points it should,
with feedback that names the cause, and every correct-but-different one scores full marks."""

from __future__ import annotations

import pytest

from grader.catalogue import load_catalogue, render_table, run_catalogue
from grader.spec import load_specs
from tests.conftest import EXERCISES, ROOT

CATALOGUE = ROOT / "tests" / "mistakes"


def test_every_exercise_has_a_catalogue_with_mistakes_and_a_correct_variant():
    catalogue = load_catalogue(CATALOGUE)
    assert set(catalogue) == {s.spec.id for s in load_specs(EXERCISES)}
    for exercise, variants in catalogue.items():
        wrong = [v for v in variants if v.mistake and v.loses]
        assert len(wrong) >= 5, exercise
        assert any(v.mistake is None and not v.loses for v in variants), exercise
        for v in variants:
            assert v.patch or (CATALOGUE / exercise / v.file).is_file(), v.file


@pytest.fixture(scope="module")
def results():
    # The MNIST catalogue skips its training run, so the whole catalogue needs no data set.
    return run_catalogue(CATALOGUE, load_specs(EXERCISES), jobs=2, solutions=ROOT / "solutions")


def test_the_whole_table_holds(results):
    table = render_table(results)
    assert all(r.ok for r in results), table


def test_wrong_variants_lose_points_and_correct_ones_do_not(results):
    for r in results:
        if r.variant.loses:
            assert r.score < r.max_score, r.variant.file
        else:
            assert r.lost == [], (r.exercise, r.variant.file, r.lost)


def test_every_tensor_exercise_has_a_device_mistake_caught_without_a_gpu(results, all_specs):
    device_tests = {s.spec.id: {t.name for t in s.spec.tests if t.kind == "device"} for s in all_specs}
    for exercise, names in device_tests.items():
        if not names:
            continue
        caught = [r for r in results if r.exercise == exercise and (r.variant.mistake or "").startswith("device:")
                  and set(r.lost) & names]
        assert caught, f"{exercise}: no device mistake loses a device test"
        for r in caught:
            assert all("[judged by" in r.feedback[n] for n in set(r.lost) & names)


def test_legal_gpu_patterns_score_full_marks_and_item_is_not_applicable(results):
    by_file = {(r.exercise, r.variant.file): r for r in results}
    item = by_file[("batchnorm", "correct_index_and_item.py")]
    assert item.score == item.max_score
    assert {s for n, s in item.statuses.items() if "device" in n} == {"not applicable"}
    scalar = by_file[("dropout", "correct_scalar_tensor.py")]
    assert scalar.score == scalar.max_score
    cpu_midway = by_file[("dropout", "mask_to_cpu.py")]
    assert any(".cpu()" in cpu_midway.feedback[n] for n in cpu_midway.lost)
