"""Grader-owned training programs.

The convergence and parity checks need more than one call into student code: a whole
training loop that builds the student's model and steps the student's optimizer. These
modules are that loop. They belong to the grader, but :mod:`recipe` and
:mod:`model_report` run *inside the worker*, next to the student's code, so nothing they
return is trusted: the checks in :mod:`grader.checks` score what comes back (for
instance test predictions, against labels that never leave the trusted process).
:mod:`parity` runs in both processes: once on the student's components in the worker,
once on PyTorch's own in the trusted process.
"""
