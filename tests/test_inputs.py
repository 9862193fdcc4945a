"""Input recipes are deterministic, typed as asked, and generators stay markers."""

from __future__ import annotations

import pytest
import torch

from grader.inputs import InputError, live, make_inputs, resolve
from grader.protocol import GeneratorSeed

RECIPES = {
    "x": {"randn": [4, 3], "dtype": "float64"},
    "u": {"rand": [5], "low": -2, "high": 2},
    "e": {"empty": [2, 2]},
    "i": {"randint": [0, 10], "shape": [6]},
    "g": {"generator": 5},
    "params": {"weight": {"randn": [2, 2], "dtype": "any"}, "bias": {"zeros": [2], "dtype": "any"}},
    "n": 3,
    "lst": [{"ones": [2]}, 4],
}


def test_same_seed_same_bytes_and_types():
    a = make_inputs(RECIPES, seed=3, dtype="float32")
    b = make_inputs(RECIPES, seed=3, dtype="float32")
    assert torch.equal(a["x"], b["x"]) and a["x"].dtype == torch.float64
    assert a["u"].min() >= -2 and a["u"].max() <= 2
    assert torch.isnan(a["e"]).all()
    assert a["i"].dtype == torch.int64 and a["i"].shape == (6,)
    assert a["g"] == GeneratorSeed(5)
    assert a["params"]["weight"].dtype == torch.float32
    assert a["n"] == 3 and a["lst"][1] == 4
    assert not torch.equal(make_inputs(RECIPES, seed=4, dtype="float32")["x"], a["x"])


def test_live_gives_fresh_generators_and_copies():
    inputs = make_inputs(RECIPES, seed=0, dtype="float64")
    one, two = live(inputs), live(inputs)
    assert torch.equal(torch.rand(3, generator=one["g"]), torch.rand(3, generator=two["g"]))
    one["x"].add_(1)
    assert not torch.equal(one["x"], inputs["x"])


def test_errors_name_the_input():
    with pytest.raises(InputError, match="params.weight"):
        make_inputs({"params": {"weight": {"randn": [2], "dtype": "any"}}}, seed=0)
    with pytest.raises(InputError, match="unknown dtype"):
        make_inputs({"x": {"randn": [2], "dtype": "float33"}}, seed=0)
    with pytest.raises(InputError, match="cannot import"):
        resolve("grader.references.nothing_here")
