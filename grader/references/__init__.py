"""Reference implementations, one module per exercise, used only in the trusted process.

Specs name them by dotted path (``grader.references.xavier.uniform_law``). Each is
PyTorch's own implementation where one exists, or a law from :mod:`grader.stats` for
random functions.
"""
