"""Hostile submissions: each gets exactly 0 on what it attacks, with a verdict that says what
happened; the grader survives every one, and an honest submission graded in the same
batch is unaffected. The manifest is tests/adversarial/attacks.yaml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.batch import grade_batch
from grader.sandbox import sandbox_mechanism
from grader.submission import Submission
from tests.conftest import FAST_LIMITS, ROOT, SOLUTIONS

ATTACKS = ROOT / "tests" / "adversarial"
MANIFEST = yaml.safe_load((ATTACKS / "attacks.yaml").read_text())
BASE = (SOLUTIONS / "xavier_init.py").read_bytes()
HONEST = "honest (instructor key)"


def submission(name: str, source: bytes) -> Submission:
    return Submission(name=name, files={"xavier_init.py": source, "xavier_base.py": BASE}, sha256="")


@pytest.fixture(scope="module")
def batch(xavier_spec):
    """Every attack and one honest submission, graded together, two at a time."""
    subs = [submission(a["file"], (ATTACKS / a["file"]).read_bytes()) for a in MANIFEST]
    subs.insert(len(subs) // 2, submission(HONEST, BASE))
    reports = grade_batch(subs, xavier_spec, limits=FAST_LIMITS, jobs=2)
    return {r.submission: r for r in reports}


def attacked_tests(spec, attack: dict) -> tuple[set[str], set[str]]:
    """The tests an attack targets, and its device tests (which judge placement, not values:
    they must either score full or share the attack's verdict)."""
    if attack.get("attacks") == "all":
        return {t.name for t in spec.tests}, set()
    uniform = {t.name for t in spec.tests if getattr(t, "function", None) == "xavier_uniform_"}
    return uniform, {t.name for t in spec.tests if getattr(t, "like", None) in uniform}


def test_the_suite_is_large_and_covers_every_category():
    assert len(MANIFEST) >= 25
    assert {a["category"] for a in MANIFEST} == {"resources", "escapes", "tampering", "snooping", "bad values"}
    assert sorted(a["file"] for a in MANIFEST) == sorted(p.name for p in ATTACKS.glob("*.py"))


def test_honest_submission_in_the_same_batch_is_unaffected(batch):
    honest = batch[HONEST]
    assert honest.score == honest.max_score > 0


@pytest.mark.parametrize("attack", MANIFEST, ids=[a["file"] for a in MANIFEST])
def test_attack_scores_zero_on_what_it_attacks_with_its_verdict(attack, batch, xavier_spec):
    if attack.get("sandbox") and sandbox_mechanism() != "bubblewrap":
        pytest.skip("needs bubblewrap's namespaces; without them the report says so in its header")
    spec = xavier_spec[0].spec
    report = batch[attack["file"]]
    targets, device = attacked_tests(spec, attack)
    verdicts = attack["verdict"] if isinstance(attack["verdict"], list) else [attack["verdict"]]
    results = {t.name: t for t in report.tests()}
    for name in device:
        t = results[name]
        assert t.score == t.max_score or (t.score == 0 and t.status in verdicts), (name, t.status, t.message)
    for name in targets:
        t = results[name]
        if t.status == "skipped":
            continue
        assert t.score == 0, (name, t.status, t.message)
        assert t.status in verdicts, (name, t.status, t.message)
        assert t.message
    untouched = [t for n, t in results.items() if n not in targets | device and t.status != "skipped"]
    assert all(t.score == t.max_score for t in untouched), [(t.name, t.status, t.message) for t in untouched
                                                           if t.score < t.max_score]


def test_nothing_escaped_onto_the_grader_machine(batch):
    assert not Path("/tmp/grader-was-pwned").exists()
    assert not (ROOT / "grader" / "pwned.py").exists()
    assert not (ROOT / "results.json").exists() and not (ROOT / "gradebook.sqlite").exists()
