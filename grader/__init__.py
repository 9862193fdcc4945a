"""nn-grader: exercises on training neural networks, and the autograder that checks them.

The data flow is spec -> stub (``grader.stubs``) and spec + submission -> worker ->
checks -> results -> reports (``grader.grading``). This module stays free of heavy
imports because the worker process imports it before it imports torch.
"""

__version__ = "0.1.0"
