"""Exercise specs: the YAML an instructor writes, validated with pydantic.

One file per exercise in ``exercises/``. A spec says what the student writes (functions
and classes with signatures, docstrings, hints and stub bodies) and how it is tested
(a list of tests, each naming a check kind from :mod:`grader.checks` and its
parameters). Errors name the file, the line and the field, and say how to fix it:
``exercises/adam.yaml:14: tests[2].rtol: must be a number``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grader import variants
from grader.limits import LimitsOverride

IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"


class SpecError(Exception):
    """A spec that cannot be used; the message is one line: ``file:line: field: problem``."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArgSpec(_Model):
    """One argument of a student function, documented for the student."""

    name: str = Field(pattern=IDENT)
    type: str = "Any"
    shape: str | None = None
    dtype: str | None = None
    description: str = ""


class FunctionSpec(_Model):
    """A function, or a class with methods, that the student writes."""

    name: str = Field(pattern=IDENT)
    kind: Literal["function", "class"] = "function"
    bases: list[str] = Field([], description="base classes of a class, e.g. torch.nn.Module")
    signature: str = Field(description="Python parameter list and return annotation, e.g. '(x: Tensor) -> Tensor'")
    docstring: str
    args: list[ArgSpec] = []
    returns: str = ""
    body: str | None = Field(None, description="stub body; defaults to raising NotImplementedError")
    hints: list[str] = []
    methods: list["FunctionSpec"] = []
    forbid: list[Annotated[str, Field(pattern=DOTTED)]] = Field(
        [], description="built-ins the student may not call here, e.g. torch.nn.init.xavier_uniform_"
    )
    opaque_returns: list[int] = Field(
        [], description="positions of a returned tuple kept inside the worker (a cache), never sent back"
    )

    @field_validator("signature")
    @classmethod
    def _signature_parses(cls, value: str) -> str:
        import ast

        try:
            ast.parse(f"def f{value}: pass")
        except SyntaxError as exc:
            raise ValueError(f"is not a valid Python signature ({exc.msg}); write it like '(x: Tensor) -> Tensor'")
        return value


Visibility = Literal["visible", "hidden"]


class TestBase(_Model):
    """Fields every test has, whatever its check kind."""

    name: str = Field(min_length=1)
    points: float = Field(ge=0)
    visibility: Visibility = "hidden"
    feedback: str = Field("", description="shown to the student when the test fails: the likely cause")
    seed: int = 0

    @property
    def visible(self) -> bool:
        return self.visibility == "visible"


class Call(_Model):
    """One call in a chain: ``function`` with ``args`` naming inputs or earlier results."""

    function: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")
    args: list[str] = []
    kwargs: dict[str, str] = {}
    save: str | None = Field(None, pattern=IDENT)


class CompareTest(TestBase):
    """Run the student's function and the reference on the same inputs and compare."""

    kind: Literal["compare"]
    function: str = Field(pattern=IDENT)
    reference: str = Field(pattern=DOTTED)
    inputs: dict[str, Any] = {}
    calls: list[Call] = Field([], description="a chain of calls; the last one's result is compared")
    sweep: dict[str, list[int]] | None = Field(None, description="{arg: [start, stop]}: call once per value")
    compare_inputs: list[str] = Field([], description="inputs changed in place whose final values are compared")
    grad_wrt: list[str] = Field([], description="inputs whose autograd gradients are compared as well")
    in_place: str | None = Field(None, description="the input the function must modify and return")
    unchanged: list[str] = Field([], description="inputs the function must leave as they were")
    rtol: float | None = Field(None, ge=0)
    atol: float | None = Field(None, ge=0)
    dtypes: list[str] = Field([], description="run the test once per dtype, replacing 'dtype: any' in inputs")


class RaisesTest(TestBase):
    """The function must raise ``exception`` (or a subclass) for these inputs."""

    kind: Literal["raises"]
    function: str = Field(pattern=IDENT)
    inputs: dict[str, Any] = {}
    exception: str = Field(pattern=IDENT)


class StatisticalTest(TestBase):
    """A random function: its output must pass a test sized for ``false_failure_rate``."""

    kind: Literal["statistical"]
    function: str = Field(pattern=IDENT)
    inputs: dict[str, Any] = {}
    reference: str = Field(pattern=DOTTED, description="returns the law the output must follow")
    false_failure_rate: float = Field(1e-6, gt=0, le=1e-3)
    in_place: str | None = None
    unchanged: list[str] = []


class ReproducibleTest(TestBase):
    """Random output must depend only on the given generator, not on the global RNG."""

    kind: Literal["reproducible"]
    function: str = Field(pattern=IDENT)
    inputs: dict[str, Any] = {}
    generator: str = Field("generator", pattern=IDENT)


class PropertyTest(TestBase):
    """The output must satisfy a predicate from the grader (a dotted path)."""

    kind: Literal["property"]
    function: str = Field(pattern=IDENT)
    inputs: dict[str, Any] = {}
    predicate: str = Field(pattern=DOTTED)


class OptimizerTest(TestBase):
    """Step the student's optimizer and the reference on the same gradients; compare the trajectories."""

    kind: Literal["optimizer"]
    cls: str = Field(alias="class", pattern=IDENT)
    reference: str = Field(pattern=DOTTED)
    params: dict[str, Any]
    options: dict[str, Any] = {}
    steps: int = Field(50, ge=1, le=10_000)
    dtypes: list[str] = ["float64"]
    rtol: float | None = Field(None, ge=0)
    atol: float | None = Field(None, ge=0)


class CudaAgreementTest(TestBase):
    """The same inputs on CPU and on CUDA (TF32 off) must give the same outputs."""

    kind: Literal["cuda_agreement"]
    function: str = Field(pattern=IDENT)
    inputs: dict[str, Any] = {}
    random: bool = Field(False, description="compare shapes/dtypes/devices only; values come from device RNGs")
    rtol: float | None = Field(None, ge=0)
    atol: float | None = Field(None, ge=0)


class DeviceTest(TestBase):
    """Run another test's calls once more with the inputs on a device other than the CPU.

    Without a GPU the inputs go to ``meta`` under CUDA's rules (:mod:`grader.device_rules`);
    with one, to CUDA itself. Tensors made on the CPU and mixed in, ``.cpu()`` midway,
    and outputs off the input's device lose the points; code that reads values is
    "not applicable" and loses nothing.
    """

    kind: Literal["device"]
    like: str = Field(description="the name of the test whose calls are repeated")

    REPEATABLE: ClassVar[tuple[str, ...]] = ("compare", "statistical", "reproducible", "property", "optimizer")


class ModelTest(TestBase):
    """Judge the model that ``build_model()`` returns, without training it (:mod:`grader.checks.model`)."""

    kind: Literal["model"]
    function: str = Field("build_model", pattern=IDENT)
    check: Literal["parameter_cap", "xavier_init", "eval_deterministic", "eval_batch_independent"]
    max_parameters: int | None = Field(None, gt=0, description="the cap, for check: parameter_cap")
    tolerance: float = Field(0.15, gt=0, lt=1, description="xavier_init: allowed relative error of each weight's std")
    batch_size: int = Field(64, ge=2, description="images in the eval batch")

    @model_validator(mode="after")
    def _cap_given(self) -> "ModelTest":
        if self.check == "parameter_cap" and self.max_parameters is None:
            raise ValueError("check: parameter_cap needs max_parameters; add the cap")
        return self


class ParitySettings(_Model):
    """The recipe both runs of a parity check share."""

    lr: float = Field(gt=0)
    betas: tuple[float, float]
    eps: float = Field(1e-8, gt=0)
    warmup_steps: int = Field(ge=0)
    l2: float = Field(ge=0)
    bn_momentum: float = Field(0.1, gt=0, le=1)
    bn_eps: float = Field(1e-5, gt=0)


class ParityTest(TestBase):
    """Train a fixed network on the student's components and on PyTorch's; compare every step's loss."""

    kind: Literal["parity"]
    steps: int = Field(20, ge=2, le=200)
    batch_size: int = Field(16, ge=2)
    settings: ParitySettings
    rtol: float = Field(1e-6, ge=0)
    atol: float = Field(1e-9, ge=0)


class Recipe(_Model):
    """How the convergence check trains every student's model, the same for all."""

    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    betas: tuple[float, float]
    eps: float = Field(1e-8, gt=0)
    warmup_fraction: float = Field(ge=0, lt=1)
    l2: float = Field(ge=0)
    folds: int = Field(ge=2, description="k of the student's kfold_split; fold 0 is held out for validation")
    log_every: int = Field(20, ge=1, description="steps averaged into each point of the training curve")


class ConvergenceTest(TestBase):
    """Train the student's model on MNIST in the worker; score its test predictions here."""

    kind: Literal["convergence"]
    function: str = Field("build_model", pattern=IDENT)
    pass_mark: float = Field(gt=0, le=100, description="test accuracy, in percent, needed to pass")
    max_parameters: int = Field(gt=0)
    time_budget_seconds: float = Field(gt=0, description="wall-clock seconds for the training call")
    max_initial_accuracy: float = Field(30.0, gt=0, le=100, description="test accuracy (percent) above which the "
                                        "untrained model counts as pretrained")
    recipe: Recipe


TestSpec = Annotated[
    Union[CompareTest, RaisesTest, StatisticalTest, ReproducibleTest, PropertyTest, OptimizerTest, CudaAgreementTest,
          DeviceTest, ModelTest, ParityTest, ConvergenceTest],
    Field(discriminator="kind"),
]


class VariantParam(_Model):
    """A parameter that differs per student (see :mod:`grader.variants`)."""

    min: float
    max: float
    default: float = Field(description="the value when no student's record applies (the solutions)")
    integer: bool = False
    log: bool = Field(False, description="draw log-uniformly (for scales such as eps)")
    digits: int = Field(2, ge=1, le=12, description="significant digits kept")

    @model_validator(mode="after")
    def _range(self) -> "VariantParam":
        if not self.min < self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        if not self.min <= self.default <= self.max:
            raise ValueError(f"default {self.default:g} is outside [{self.min:g}, {self.max:g}]")
        if self.log and self.min <= 0:
            raise ValueError("log: true needs min > 0")
        return self


class ExerciseSpec(_Model):
    """One exercise: what the student reads, what they write, and how it is tested."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    module: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the student's file, without .py")
    description: str
    preamble: str = "import torch"
    functions: list[FunctionSpec] = Field(min_length=1)
    tests: list[TestSpec] = Field(min_length=1)
    limits: LimitsOverride | None = None
    order: int = 0
    variants: dict[str, VariantParam] = Field({}, description="per-student parameters, used as ${variant.NAME}")

    @model_validator(mode="after")
    def _tests_name_known_functions(self) -> "ExerciseSpec":
        names = {f.name for f in self.functions}
        test_names = {t.name for t in self.tests}
        for i, test in enumerate(self.tests):
            if isinstance(test, DeviceTest):
                like = next((t for t in self.tests if t.name == test.like), None)
                if like is None or like.kind not in DeviceTest.REPEATABLE:
                    raise ValueError(f"tests[{i}].like must name a {'/'.join(DeviceTest.REPEATABLE)} test of this "
                                     f"exercise; got {test.like!r} (tests: {sorted(test_names)})")
                continue
            target = getattr(test, "function", None) or getattr(test, "cls", None)
            if isinstance(test, ParityTest):
                continue  # trains a grader-owned network: no function of this module is called
            if target not in names:
                raise ValueError(f"tests[{i}] names {target!r}, which is not among functions: {sorted(names)}")
        seen: set[str] = set()
        for test in self.tests:
            if test.name in seen:
                raise ValueError(f"two tests are named {test.name!r}; test names must be unique")
            seen.add(test.name)
        return self

    @property
    def points(self) -> float:
        return sum(t.points for t in self.tests)

    def test(self, name: str) -> Any:
        return next(t for t in self.tests if t.name == name)

    def function(self, name: str) -> FunctionSpec:
        return next(f for f in self.functions if f.name == name)

    def forbidden(self) -> list[str]:
        return sorted({p for f in self.functions for p in [*f.forbid, *(q for m in f.methods for q in m.forbid)]})


class LoadedSpec(_Model):
    """A validated spec with where it came from and the hash that gradebooks record."""

    spec: ExerciseSpec
    path: Path
    sha256: str
    #: The variant values it was rendered with (empty for a spec without variants).
    variant: dict[str, float] = {}

    def with_variant(self, values: dict[str, float]) -> "LoadedSpec":
        """The same spec rendered with one student's values."""
        return load_spec(self.path, values)


def definition_owners(specs: list[LoadedSpec]) -> dict[str, str]:
    """Each function and class name the exercises declare, with the module it belongs to."""
    return {f.name: s.spec.module for s in specs for f in s.spec.functions}


# -- loading ---------------------------------------------------------------------------


def load_spec(path: Path, variant: dict[str, float] | None = None) -> LoadedSpec:
    """Load and validate one YAML spec, raising SpecError with ``file:line: field: problem``.

    ``${variant.NAME}`` placeholders take ``variant``'s values, else the spec's defaults.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: the spec is not UTF-8 text; save it as UTF-8") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SpecError(f"{path}:{line}: YAML syntax error: {exc.problem or exc}; fix the indentation or quoting there") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: the spec must be a YAML mapping with id, title, functions and tests")
    declared = data.get("variants") if isinstance(data.get("variants"), dict) else {}
    values = {k: v.get("default") for k, v in declared.items() if isinstance(v, dict)}
    values.update(variant or {})
    unknown = sorted(variants.placeholders(data) - set(values))
    if unknown:
        line = next((i for i, row in enumerate(text.splitlines(), 1) if f"${{variant.{unknown[0]}}}" in row), 1)
        raise SpecError(f"{path}:{line}: ${{variant.{unknown[0]}}}: no such variant parameter; declare it under "
                        "variants: with min, max and default")
    data = variants.substitute(data, {k: float(v) for k, v in values.items() if isinstance(v, (int, float))})
    try:
        spec = ExerciseSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("kind")
        line = _line_of(node, loc)
        field = _format_loc(loc) or "(top level)"
        raise SpecError(f"{path}:{line}: {field}: {_humanize(err)}") from None
    if spec.id != path.stem:
        raise SpecError(f"{path}:{_line_of(node, ['id'])}: id: is {spec.id!r} but the file is {path.name}; make them match")
    used = {k: float(v) for k, v in values.items() if k in spec.variants}
    return LoadedSpec(spec=spec, path=path, sha256=hashlib.sha256(raw).hexdigest(), variant=used)


def load_specs(directory: Path, only: list[str] | None = None) -> list[LoadedSpec]:
    """Load every ``*.yaml`` in a directory, in (order, id) order, optionally a subset by id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SpecError(f"{directory}: no such directory of exercise specs; pass the folder that holds the .yaml files")
    specs = [load_spec(p) for p in sorted(directory.glob("*.yaml"))]
    if not specs:
        raise SpecError(f"{directory}: holds no .yaml exercise specs")
    if only:
        known = {s.spec.id for s in specs}
        unknown = sorted(set(only) - known)
        if unknown:
            raise SpecError(f"{directory}: no exercise named {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        specs = [s for s in specs if s.spec.id in only]
    return sorted(specs, key=lambda s: (s.spec.order, s.spec.id))


_UNION_TAGS = {
    "compare", "raises", "statistical", "reproducible", "property", "optimizer", "cuda_agreement", "device",
    "model", "parity", "convergence",
}


def _format_loc(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _humanize(err: dict[str, Any]) -> str:
    """Pydantic's messages, reworded where a student of YAML needs a hint."""
    kind, msg = err["type"], err["msg"]
    if kind in ("float_parsing", "float_type"):
        return "must be a number"
    if kind in ("int_parsing", "int_type"):
        return "must be a whole number"
    if kind == "missing":
        return "is required but missing; add it"
    if kind == "extra_forbidden":
        return "is not a known field; check the spelling"
    if kind == "union_tag_not_found":
        return "is required: name a check kind"
    if kind == "union_tag_invalid":
        return f"unknown check kind; use one of: {', '.join(sorted(_UNION_TAGS))}"
    if kind == "string_pattern_mismatch":
        return f"{msg[0].lower() + msg[1:]} (got {err.get('input')!r})"
    return msg[0].lower() + msg[1:] if msg else kind


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int:
    """The 1-based line of the deepest YAML node that ``loc`` reaches."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            node = match[1]
            line = match[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line

