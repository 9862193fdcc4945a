"""Per-student variants: parameters drawn for each student, recorded in their stub, verified at grading.

A spec declares parameters with ranges (``variants:``) and uses them anywhere as
``${variant.NAME}``: a whole value (``momentum: ${variant.momentum}``) becomes the
number, and inside text it becomes its digits. ``grader build --roster --secret-file``
draws each student's values from HMAC(secret, exercise, student, name), so the same
roster and secret always give the same values and nobody without the secret can
derive another student's. Each stub of such an exercise carries one line::

    GRADER_VARIANT = "batchnorm|ada|eps=0.00031,momentum=0.17|<hmac>"

When grading, that line is read from the submitted file as text (nothing is run) and,
given the secret, its HMAC is checked; the tests then run with that student's values.
A missing or edited line is a verdict of its own. Without a record, the spec's
defaults apply (the instructor's solutions are graded that way).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = re.compile(r"\$\{variant\.([A-Za-z_][A-Za-z0-9_]*)\}")
RECORD = re.compile(r'^GRADER_VARIANT = "([^"\n]*)"[ \t]*$', re.MULTILINE)

Values = dict[str, float]


@dataclass(frozen=True)
class Record:
    exercise: str
    student: str
    values: Values
    #: The signed text exactly as written in the file: the signature covers these bytes.
    text: str
    mac: str


def payload(exercise: str, student: str, values: Values) -> str:
    """The signed text: exercise, student and values in a canonical order."""
    return f"{exercise}|{student}|" + ",".join(f"{k}={_fmt(v)}" for k, v in sorted(values.items()))


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def sign(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:32]


def draw(params: dict[str, Any], exercise: str, student: str, secret: bytes) -> Values:
    """Each parameter's value for this student: uniform (or log-uniform) in its range, rounded."""
    values: Values = {}
    for name, p in sorted(params.items()):
        u = int(sign(secret, f"{exercise}|{student}|{name}"), 16) / 16 ** 32
        if p.log:
            raw = math.exp(math.log(p.min) + u * (math.log(p.max) - math.log(p.min)))
        else:
            raw = p.min + u * (p.max - p.min)
        values[name] = float(math.floor(raw)) if p.integer else float(f"{raw:.{p.digits}g}")
    return values


def record_line(exercise: str, student: str, values: Values, secret: bytes) -> str:
    text = payload(exercise, student, values)
    return f'GRADER_VARIANT = "{text}|{sign(secret, text)}"'


def read(source: bytes) -> Record | None:
    """The record in a submitted file, or None; raises ValueError when the line is malformed."""
    match = RECORD.search(source.decode("utf-8", "replace"))
    if match is None:
        return None
    parts = match.group(1).split("|")
    if len(parts) != 4:
        raise ValueError("the GRADER_VARIANT line is not in its stub's form")
    exercise, student, pairs, mac = parts
    values: Values = {}
    try:
        for pair in filter(None, pairs.split(",")):
            name, _, number = pair.partition("=")
            values[name] = float(number)
    except ValueError:
        raise ValueError("the GRADER_VARIANT line is not in its stub's form") from None
    return Record(exercise, student, values, "|".join(parts[:3]), mac)


def verify(record: Record, secret: bytes) -> bool:
    """The signature matches the text as written, and that text is the canonical form of its values."""
    canonical = payload(record.exercise, record.student, record.values) == record.text
    return canonical and hmac.compare_digest(record.mac, sign(secret, record.text))


def substitute(data: Any, values: Values) -> Any:
    """``data`` with every ``${variant.NAME}`` replaced: whole values by the number, text by its digits."""
    if isinstance(data, dict):
        return {k: substitute(v, values) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute(v, values) for v in data]
    if isinstance(data, str):
        whole = PLACEHOLDER.fullmatch(data.strip())
        if whole:
            value = values[whole.group(1)]
            return int(value) if float(value).is_integer() else value
        return PLACEHOLDER.sub(lambda m: _fmt(values[m.group(1)]), data)
    return data


def placeholders(data: Any) -> set[str]:
    """Every parameter name a ``${variant.NAME}`` in ``data`` refers to."""
    if isinstance(data, dict):
        return set().union(*(placeholders(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(placeholders(v) for v in data)) if data else set()
    return set(PLACEHOLDER.findall(data)) if isinstance(data, str) else set()
