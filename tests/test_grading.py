"""Grading end to end through the worker: full marks, zero marks, and broken submissions that
lose exactly the tests they affect while everything else is still graded."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SOLUTIONS, grade_dir, solution_copy
from grader.stubs import build

XAVIER = SOLUTIONS / "xavier_init.py"


def test_solutions_score_full_marks(all_specs):
    report = grade_dir(SOLUTIONS, all_specs)
    lost = [(t.exercise, t.name, t.status, t.message) for t in report.tests() if t.score < t.max_score]
    assert lost == []
    assert report.score == report.max_score > 0
    skipped = [t for t in report.tests() if t.status == "skipped"]
    assert all(t.kind == "cuda_agreement" and t.message == "no CUDA device" for t in skipped)


def test_untouched_stubs_score_zero_with_not_implemented_everywhere(tmp_path, all_specs):
    build(all_specs, tmp_path)
    report = grade_dir(tmp_path / "student", all_specs)
    graded = [t for t in report.tests() if t.status != "skipped"]
    assert report.score == 0
    assert {t.status for t in graded} == {"not implemented"}, {(t.name, t.status, t.message) for t in graded}
    assert all("is not implemented yet" in t.message for t in graded)


def _grade_with(tmp_path, specs, source: str):
    sub = solution_copy(tmp_path)
    (sub / "xavier_init.py").write_text(source)
    return grade_dir(sub, specs)


def _lost(report):
    return {t.name: t for t in report.tests() if t.score < t.max_score}


def test_syntax_error_loses_that_exercise_only(tmp_path, all_specs):
    report = _grade_with(tmp_path, all_specs, XAVIER.read_text() + "\ndef broken(:\n")
    lost = _lost(report)
    xavier = [t for t in report.tests() if t.exercise == "xavier" and t.max_score]
    assert set(lost) == {t.name for t in xavier}
    assert all(t.status == "error" and "SyntaxError" in t.message for t in lost.values())
    others = [t for t in report.tests() if t.exercise != "xavier"]
    assert all(t.score == t.max_score for t in others)


def test_missing_function_loses_only_its_tests(tmp_path, xavier_spec):
    source = XAVIER.read_text().split("def xavier_normal_")[0]
    lost = _lost(_grade_with(tmp_path, xavier_spec, source))
    assert set(lost) == {"normal values on a Linear weight", "normal values on a conv weight with gain",
                         "float64 weights stay float64", "normal draws only from the given generator",
                         "normal stays on the weight's device"}
    assert all("does not define xavier_normal_" in t.message for t in lost.values())


def test_wrong_return_dtype_and_shape(tmp_path, xavier_spec):
    source = XAVIER.read_text().replace("return tensor.normal_(0.0, std, generator=generator)",
                                        "return tensor.normal_(0.0, std, generator=generator).double()")
    source = source.replace("return tensor.uniform_(-bound, bound, generator=generator)",
                            "return tensor.uniform_(-bound, bound, generator=generator).view(-1)")
    lost = _lost(_grade_with(tmp_path, xavier_spec, source))
    assert set(lost) == {"normal values on a Linear weight", "normal values on a conv weight with gain",
                         "uniform values on a Linear weight", "uniform values on a conv weight",
                         "uniform gain scales the bound"}
    assert "shape (131072,)" in lost["uniform values on a Linear weight"].message
    assert "dtype torch.float64" in lost["normal values on a Linear weight"].message
    assert "in place" in lost["normal values on a Linear weight"].message


def test_nan_output(tmp_path, xavier_spec):
    source = XAVIER.read_text().replace(
        "    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))",
        "    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))\n    if gain != 1.0:\n        return tensor.fill_(float('nan'))")
    lost = _lost(_grade_with(tmp_path, xavier_spec, source))
    assert set(lost) == {"uniform gain scales the bound"}
    assert "NaN" in lost["uniform gain scales the bound"].message


def test_infinite_loop_times_out_and_the_rest_is_graded_in_a_fresh_worker(tmp_path, xavier_spec):
    source = XAVIER.read_text().replace(
        "    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    std =",
        "    while gain > 1.0:\n        pass\n    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    std =")
    report = _grade_with(tmp_path, xavier_spec, source)
    lost = _lost(report)
    assert set(lost) == {"normal values on a conv weight with gain"}
    assert lost["normal values on a conv weight with gain"].status == "timeout"
    assert report.score == report.max_score - 2


def test_a_module_that_hangs_while_importing_costs_one_clock_and_loses_only_its_exercise(tmp_path, all_specs):
    """The import travels with the first call, yet a hang is still told apart from the call's:
    the first test times out importing, the module's other tests fail at once with the same
    verdict (no clock each), and the other exercises are graded in a fresh worker."""
    import time

    from grader.limits import Limits

    t0 = time.perf_counter()
    report = grade_dir(_module_hangs(tmp_path), all_specs, limits=Limits(call_seconds=2.0))
    assert time.perf_counter() - t0 < 30
    xavier = [t for t in report.tests() if t.exercise == "xavier" and t.max_score]
    assert {t.status for t in xavier} == {"timeout"}
    assert all(t.message.startswith("importing xavier_init.py: no answer within 2 s") for t in xavier)
    assert all(t.score == t.max_score for t in report.tests() if t.exercise != "xavier")


def _module_hangs(tmp_path):
    sub = solution_copy(tmp_path)
    (sub / "xavier_init.py").write_text("while True:\n    pass\n" + XAVIER.read_text())
    return sub


def test_megabytes_of_output_lose_the_tests_that_print_them_and_nothing_else(tmp_path, xavier_spec):
    source = XAVIER.read_text().replace(
        "    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    bound",
        "    print('spam ' * 1_000_000)\n    import os\n    os.write(1, b'raw' * 1_000_000)\n"
        "    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    bound")
    report = _grade_with(tmp_path, xavier_spec, source)
    lost = _lost(report)
    assert set(lost) == {"uniform values on a Linear weight", "uniform values on a conv weight",
                         "uniform gain scales the bound", "uniform draws only from the given generator",
                         "uniform stays on the weight's device"}
    assert all(t.status == "output refused" and "allowed per call" in t.message for t in lost.values())
    assert all(len(t.output) <= 4000 for t in report.tests())
    assert len(report.output) < 70_000


def test_check_runs_visible_tests_only(xavier_spec):
    report = grade_dir(SOLUTIONS, xavier_spec, hidden=False)
    assert report.mode == "check"
    assert {t.visibility for t in report.tests()} == {"visible"}
    assert len(report.tests()) == sum(t.visible for t in xavier_spec[0].spec.tests)


def test_missing_module_file(tmp_path, xavier_spec):
    sub = tmp_path / "empty"
    sub.mkdir()
    shutil.copy(SOLUTIONS / "xavier_init.py", sub / "other.py")
    report = grade_dir(sub, xavier_spec)
    assert report.score == 0
    assert all("xavier_init.py is not in the submission" in t.message for t in report.tests() if t.max_score)


@pytest.mark.parametrize("forbidden", ["torch.nn.init.xavier_normal_(tensor, gain, generator)"])
def test_calling_the_builtin_is_forbidden_even_when_caught(tmp_path, xavier_spec, forbidden):
    source = XAVIER.read_text().replace(
        "    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    std =",
        f"    try:\n        return {forbidden}\n    except BaseException:\n        pass\n"
        "    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    std =")
    lost = _lost(_grade_with(tmp_path, xavier_spec, source))
    assert lost and all(t.status == "forbidden" and "torch.nn.init.xavier_normal_" in t.message for t in lost.values())


def test_limits_come_from_one_place_and_a_spec_can_override_them(tmp_path, xavier_spec):
    from grader.limits import DEFAULT_LIMITS, Limits
    from grader.spec import load_spec

    assert Limits() == DEFAULT_LIMITS and DEFAULT_LIMITS.call_seconds == 10
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    text = (xavier_spec[0].path).read_text().replace("order: 1\n", "order: 1\nlimits:\n  call_seconds: 1.5\n")
    (spec_dir / "xavier.yaml").write_text(text)
    strict = [load_spec(spec_dir / "xavier.yaml")]
    assert strict[0].spec.limits.call_seconds == 1.5
    source = XAVIER.read_text().replace(
        "    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    std =",
        "    import time\n    time.sleep(2.5)\n    fan_in, fan_out = fan_in_and_fan_out(tensor)\n    std =")
    sub = solution_copy(tmp_path)
    (sub / "xavier_init.py").write_text(source)
    relaxed = grade_dir(sub, xavier_spec, limits=Limits(call_seconds=5.0))
    tight = grade_dir(sub, strict, limits=Limits(call_seconds=5.0))
    assert relaxed.score == relaxed.max_score
    slow = {t.name for t in tight.tests() if t.status == "timeout"}
    normal = {t.name for t in strict[0].spec.tests if getattr(t, "function", None) == "xavier_normal_"}
    assert slow == normal | {t.name for t in strict[0].spec.tests if getattr(t, "like", None) in normal}
    assert tight.score == tight.max_score - sum(t.max_score for t in tight.tests() if t.name in slow)
