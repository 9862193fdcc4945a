"""Inputs for a test, made in the trusted process from the spec and the test's seed.

A spec writes inputs as plain values or as small recipes::

    x: {randn: [8, 4], dtype: float64}           # also rand, zeros, ones, empty, randint, full
    idx: {randint: [0, 10], shape: [5]}
    generator: {generator: 7}                      # a torch.Generator seeded with 7
    params: [{randn: [4, 3]}, {zeros: [4]}]        # lists and mappings nest

``dtype: any`` is replaced by the dtype a test is currently run with. Every tensor comes
from one ``torch.Generator`` seeded with the test's seed, walked in a fixed order, so the
same spec always gives the same bytes.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import torch

from grader.protocol import GeneratorSeed
from grader.tree import tree_map

#: Added to every seed a test uses (its own and its generators'). Grading uses 0; the
#: false-failure measurement sweeps it to draw fresh inputs for the same tests.
SEED_OFFSET: ContextVar[int] = ContextVar("SEED_OFFSET", default=0)

RECIPES = ("randn", "rand", "zeros", "ones", "empty", "full", "randint", "tensor", "arange", "generator")


class InputError(ValueError):
    """A recipe the grader cannot make; the message names the input."""


def dtype_of(name: str) -> torch.dtype:
    value = getattr(torch, str(name), None)
    if not isinstance(value, torch.dtype):
        raise InputError(f"unknown dtype {name!r}; use e.g. float32 or float64")
    return value


def make_inputs(recipes: dict[str, Any], seed: int, dtype: str | None = None) -> dict[str, Any]:
    """Build every input of a test; generators are left as :class:`GeneratorSeed` markers."""
    rng = torch.Generator().manual_seed(seed + SEED_OFFSET.get())
    return {name: _make(recipes[name], rng, dtype, name) for name in recipes}


def _make(recipe: Any, rng: torch.Generator, dtype: str | None, where: str) -> Any:
    if isinstance(recipe, list):
        return [_make(r, rng, dtype, f"{where}[{i}]") for i, r in enumerate(recipe)]
    if not isinstance(recipe, dict):
        return recipe
    kinds = [k for k in RECIPES if k in recipe]
    if not kinds:
        return {k: _make(v, rng, dtype, f"{where}.{k}") for k, v in recipe.items()}
    if len(kinds) > 1:
        raise InputError(f"input {where}: give one of {', '.join(kinds)}, not several")
    kind = kinds[0]
    if kind == "generator":
        return GeneratorSeed(int(recipe["generator"]) + SEED_OFFSET.get(), recipe.get("device", "cpu"))
    name = recipe.get("dtype", "float32")
    if name == "any":
        if dtype is None:
            raise InputError(f"input {where}: 'dtype: any' needs the test to list dtypes")
        name = dtype
    dt = dtype_of(name)
    arg = recipe[kind]
    if kind == "randn":
        t = torch.randn(arg, generator=rng, dtype=torch.float64).to(dt)
        t = t * recipe.get("std", 1.0) + recipe.get("mean", 0.0)
    elif kind == "rand":
        low, high = recipe.get("low", 0.0), recipe.get("high", 1.0)
        t = (torch.rand(arg, generator=rng, dtype=torch.float64) * (high - low) + low).to(dt)
    elif kind == "zeros":
        t = torch.zeros(arg, dtype=dt)
    elif kind == "ones":
        t = torch.ones(arg, dtype=dt)
    elif kind == "empty":
        # NaN, so that code which forgets to write every element is caught.
        t = torch.full(arg, float("nan"), dtype=dt)
    elif kind == "full":
        t = torch.full(arg, float(recipe["value"]), dtype=dt)
    elif kind == "randint":
        low, high = arg
        t = torch.randint(low, high, tuple(recipe.get("shape", [])), generator=rng, dtype=dtype_of(recipe.get("dtype", "int64")))
    elif kind == "arange":
        t = torch.arange(*(arg if isinstance(arg, list) else [arg]), dtype=dt)
    else:
        t = torch.tensor(arg, dtype=dt)
    if recipe.get("positive"):
        t = t.abs() + 0.1
    return t


def live(value: Any) -> Any:
    """Turn markers into objects for the reference: a fresh generator per marker, copies of tensors."""
    return tree_map(value, lambda v: v.make() if isinstance(v, GeneratorSeed) else v.clone() if isinstance(v, torch.Tensor) else v)


def resolve(dotted: str) -> Any:
    """Import a reference or predicate named by a dotted path such as ``grader.references.xavier.uniform``."""
    import importlib

    module, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot import {dotted}: {exc}") from None
