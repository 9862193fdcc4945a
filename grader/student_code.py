"""The trusted process's handle on a submission's code, which lives in a worker.

Checks call student functions through :class:`StudentCode` as if they were local, but
every call is a request to the worker: inputs go out, plain data comes back. It keeps
the per-submission time budget, restarts a fresh worker after a timeout or a crash (so
one bad test does not sink the rest), and turns the worker's reports into exceptions
that the grading loop maps to verdicts.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from grader.limits import Limits
from grader import syscall_filter
from grader.sandbox import Worker, WorkerFailure, WorkerTimeout, isolation_summary, sandbox_mechanism
from grader.spec import Call, ExerciseSpec


class StudentError(Exception):
    """The student's code raised, or could not be imported. Carries what the worker saw."""

    def __init__(self, kind: str, message: str, traceback: str | None = None, output: str = "",
                 function: str = "", mro: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.traceback, self.output, self.function = kind, message, traceback, output, function
        self.mro = mro or [kind]


#: Verdicts after which the worker is replaced: it may still be running student code.
RESTART_AFTER = {"LeftRunning", "SystemExit", "OutputRefused"}


class ImportFailed(StudentError):
    """The exercise's module is missing or failed to import; every test of it is lost."""


class BudgetExhausted(WorkerFailure):
    verdict = "timeout"


@dataclass
class CallResult:
    """What came back from one call: the value, and the inputs as they were afterwards."""

    value: Any
    output: str = ""
    returned_arg: int | str | None = None
    args_after: dict[str, Any] = field(default_factory=dict)
    grads: dict[str, Any] | None = None


class StudentCode:
    """Calls into one submission's modules, one worker at a time."""

    def __init__(self, files: dict[str, bytes], limits: Limits) -> None:
        self.files, self.limits = files, limits
        #: Limits of the exercise being graded: per-call clocks and output may differ per spec.
        self.call_limits = limits
        self.worker: Worker | None = None
        self.imported: set[str] = set()
        self.broken: dict[str, Exception] = {}
        self.spent = 0.0
        self.startup_seconds = 0.0
        #: Time requests and replies spent being encoded, piped and decoded, over every worker.
        self.transfer_seconds = 0.0
        self.workers_started = 0
        self.torch_version = ""
        self.cuda = False
        #: "meta" while a device check runs: tensors go to meta under CUDA's rules in the worker.
        self.device_rules: str | None = None
        self.isolation = isolation_summary(sandbox_mechanism(), syscall_filter.available())

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Spawn a worker now, so its start-up overlaps with the grader's own work."""
        if self.worker is None or not self.worker.alive:
            self.worker = Worker(self.files, self.limits).start()
            self.workers_started += 1
            self._ready = False

    def _ready_worker(self) -> Worker:
        self.start()
        assert self.worker is not None
        if not self._ready:
            hello = self.worker.wait_ready()
            self.startup_seconds += self.worker.startup_seconds
            self.torch_version, self.cuda = str(hello.get("torch", "")), bool(hello.get("cuda"))
            self.isolation = isolation_summary(self.worker.mechanism, bool(hello.get("seccomp")), self.worker.gpu,
                                              self.worker.forked)
            self._ready = True
            self.imported = set()
        return self.worker

    def close(self) -> None:
        if self.worker is not None:
            self.transfer_seconds += self.worker.transfer_seconds
            self.worker.close()
            self.worker = None

    @contextlib.contextmanager
    def meta_device(self) -> Iterator[None]:
        """Send every call made inside this block to the worker's meta device under CUDA's rules."""
        self.device_rules = "meta"
        try:
            yield
        finally:
            self.device_rules = None

    def __enter__(self) -> "StudentCode":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def output(self) -> str:
        return self.worker.output() if self.worker is not None else ""

    # -- calls ------------------------------------------------------------------------
    def load(self, exercise: ExerciseSpec) -> None:
        """Import the exercise's module in the worker (once per worker), or raise why not.

        Calls need not: they carry the import with them (:meth:`_load_request`)."""
        load = self._load_request(exercise)
        if load is not None:
            self._loaded(load["module"], lambda: self._timed(self._ready_worker(), {"op": "import", **load}))

    def _load_request(self, exercise: ExerciseSpec) -> dict[str, Any] | None:
        """What to import before the next call, or None if the worker has the module;
        raises if it is missing or failed to import before."""
        module = exercise.module
        if module in self.broken:
            raise self.broken[module]
        self._ready_worker()  # a fresh worker has imported nothing
        if module in self.imported:
            return None
        if f"{module}.py" not in self.files:
            err = ImportFailed("MissingFile", f"{module}.py is not in the submission; add it (the stub is {module}.py)")
            self.broken[module] = err
            raise err
        return {"module": module, "forbid": exercise.forbidden()}

    def _loaded(self, module: str, reply: Callable[[], dict[str, Any]]) -> None:
        """Take the import's reply; a module that failed to import, or hung or crashed the
        worker while importing, is remembered, so its other tests fail at once."""
        try:
            got = reply()
        except WorkerFailure as exc:
            failure = type(exc)(f"importing {module}.py: {exc}", exc.output)
            self.broken[module] = failure
            raise failure from None
        if "error" in got:
            e = got["error"]
            err = ImportFailed(e["type"], f"importing {module}.py failed: {e['type']}: {e['message']}",
                               e.get("traceback"), got.get("output", ""))
            self.broken[module] = err
            raise err
        self.imported.add(module)

    def call(self, exercise: ExerciseSpec, function: str, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None, *, return_args: list[str] | None = None,
             grad: dict[str, Any] | None = None, seed: int = 0, program: str | None = None,
             seconds: float | None = None, load_module: bool = True) -> CallResult:
        """Call ``function`` of the exercise's module in the worker.

        ``program`` instead names a grader-owned function (``grader.training.recipe:train``)
        that drives the student's code from inside the worker; the exercise's forbidden
        built-ins stay forbidden while it runs. ``seconds`` replaces the per-call clock
        for this one call (a training run needs minutes, a unit call seconds). A program
        that uses only other modules of the submission passes ``load_module=False``.
        """
        request = self._call_request(exercise, function, program, seconds, seed, load=load_module)
        request.update(args=args or [], kwargs=kwargs or {}, return_args=return_args or [])
        if grad:
            request["grad"] = grad
        reply, = self._exchange(request, [function], seconds)
        return self._result(reply, function)

    def call_many(self, exercise: ExerciseSpec, function: str, calls: list[dict[str, Any]], *,
                  seed: int = 0, seeds: list[int] | None = None, return_args: list[str] | None = None,
                  grads: list[dict[str, Any] | None] | None = None, program: str | None = None) -> list[CallResult]:
        """Call ``function`` once per keyword set, in one request: the worker answers each call
        as it finishes, so a sweep of a hundred calls costs one round trip, not a hundred.

        ``seeds`` gives each call its own seed for the global RNG (else all get ``seed``);
        ``grads``, each call's gradient request; ``return_args`` and ``program`` are as for
        :meth:`call`.
        Each call keeps its own clock, seed, output capture and limits, as with :meth:`call`;
        the first call that fails raises, and the rest are not run (but for a call that shared
        a frame with a value that could not be sent: it may have run, and its reply is dropped).
        """
        seeds, grads = seeds or [seed] * len(calls), grads or [None] * len(calls)
        request = {**self._call_request(exercise, function, program, None, seed, load=True), "op": "call_many",
                   "return_args": return_args or [],
                   "calls": [_call_item(kwargs, s, g, seed) for kwargs, s, g in zip(calls, seeds, grads)]}
        return [self._result(reply, function) for reply in self._exchange(request, [function] * len(calls))]

    def call_chains(self, exercise: ExerciseSpec, steps: list[Call], inputs: list[dict[str, Any]], *, seed: int = 0,
                    return_args: list[str] | None = None,
                    grads: list[dict[str, Any] | None] | None = None) -> list[CallResult]:
        """Run a spec's chain of calls once per input set, all in one request; one result per
        input set, the last call's.

        Each step takes its arguments by name from its input set or from an item of an
        earlier step's saved result (``fwd[1]``), which stays in the worker: an opaque
        cache never crosses the pipe. ``return_args`` and each set's ``grads`` apply to
        its last step. The first call that fails raises, and the rest are not run.
        """
        grads = grads or [None] * len(inputs)
        calls, functions = [], []
        for n, grad in enumerate(grads):
            for i, step in enumerate(steps):
                last = i == len(steps) - 1
                target = self._call_request(exercise, step.function, None, None, seed)
                calls.append({"target": target["target"], "opaque": target["opaque"], "forbid": target["forbid"],
                              "set": n, "arg_refs": list(step.args), "kwarg_refs": dict(step.kwargs),
                              "save": step.save, "seed": seed, "grad": grad if last else None,
                              "return_args": (return_args or []) if last else []})
                functions.append(step.function)
        request = {**self._call_request(exercise, steps[0].function, None, None, seed, load=True), "op": "call_many",
                   "inputs": inputs, "calls": calls}
        replies = self._exchange(request, functions)
        results = [self._result(reply, function) for reply, function in zip(replies, functions)]
        per_set = [results[k:k + len(steps)] for k in range(0, len(results), len(steps))]
        return [CallResult(chain[-1].value, "".join(r.output for r in chain), chain[-1].returned_arg,
                           chain[-1].args_after, chain[-1].grads) for chain in per_set]

    def _exchange(self, request: dict[str, Any], functions: list[str],
                  seconds: float | None = None) -> list[dict[str, Any]]:
        """Send a ``call`` (one function) or ``call_many`` (one per call) and return its replies,
        refusing the calls if they flooded the worker's terminal."""
        worker = self._ready_worker()
        raw_before = worker.drain.total
        many = request["op"] == "call_many"
        got = self._timed(worker, request, seconds, count=len(functions) if many else None)
        replies = got if many else [got]
        self._check_terminal_output(worker.drain.total - raw_before, len(functions), replies[-1],
                                    functions[len(replies) - 1])
        return replies

    def _call_request(self, exercise: ExerciseSpec, function: str, program: str | None, seconds: float | None,
                      seed: int, *, load: bool = False) -> dict[str, Any]:
        """The parts of a call request that name what runs and under which limits; with
        ``load``, also the import of the exercise's module if the worker still needs it."""
        needs = self._load_request(exercise) if load else None
        if program is not None:
            target, forbid, opaque = program, exercise.forbidden(), []
        else:
            spec = exercise.function(function.split(".")[0])
            target = f"{exercise.module}:{function}"
            forbid, opaque = list(spec.forbid), list(spec.opaque_returns)
        return {
            **({"load": needs} if needs else {}),
            "op": "call", "target": target, "opaque": opaque, "seed": seed,
            "forbid": forbid, "device_rules": self.device_rules,
            "output_limit": int(self.call_limits.output_mb_per_call * (1 << 20)),
            "cpu_seconds": (int(seconds * self.limits.resolved_threads()) + 1 if seconds
                            else self.call_limits.cpu_seconds),
        }

    def _check_terminal_output(self, raw: int, calls: int, reply: dict[str, Any], function: str) -> None:
        """Refuse a call that flooded the worker's real stdout/stderr (not the per-call capture)."""
        allowed = self.call_limits.output_mb_per_call * (1 << 20)
        if raw > allowed * calls:
            raise StudentError("OutputRefused", f"the call wrote {raw:,} bytes to the terminal, over the "
                               f"{self.call_limits.output_mb_per_call:g} MiB allowed per call; remove the output",
                               output=reply.get("output", ""), function=function)

    def _result(self, reply: dict[str, Any], function: str) -> CallResult:
        """The call's result, or its error raised as a :class:`StudentError`."""
        if "error" in reply:
            e = reply["error"]
            if e["type"] in RESTART_AFTER:
                self.close()  # the worker is no longer trustworthy for the next test: start afresh
            raise StudentError(e["type"], e["message"], e.get("traceback"), reply.get("output", ""), function, e.get("mro"))
        return CallResult(
            value=reply.get("value"), output=reply.get("output", ""),
            returned_arg=reply.get("returned_arg") if reply.get("returned_arg") is not None else reply.get("returned_kwarg"),
            args_after=reply.get("args_after", {}), grads=reply.get("grads"),
        )

    def _timed(self, worker: Worker, request: dict[str, Any], seconds: float | None = None, *,
               count: int | None = None) -> Any:
        """The worker's reply (or, with ``count``, its replies) within the call's clock and what
        is left of the submission's budget."""
        left = self.limits.submission_seconds - self.spent
        if left <= 0:
            raise BudgetExhausted(f"the submission used up its {self.limits.submission_seconds:g} s time budget")
        clock = seconds or self.call_limits.call_seconds
        t0 = time.perf_counter()
        try:
            request_id = worker.send(request)
            if "load" in request:
                self._loaded(request["load"]["module"],
                             lambda: worker.receive(request_id, min(self.call_limits.call_seconds, left)))
            rest = left - (time.perf_counter() - t0)
            if count is None:
                return worker.receive(request_id, min(clock, rest))
            return worker.receive_many(request_id, count, clock, rest)
        except WorkerTimeout as exc:
            if time.perf_counter() - t0 >= left - 1e-3:
                raise BudgetExhausted(f"the submission used up its {self.limits.submission_seconds:g} s time budget") from exc
            raise
        finally:
            self.spent += time.perf_counter() - t0


def _call_item(kwargs: dict[str, Any], seed: int, grad: dict[str, Any] | None, default_seed: int) -> dict[str, Any]:
    """One call of a ``call_many``: its keywords, and its seed and gradient request only where
    they are not the request's (a sweep of a hundred calls then sends little but the keywords)."""
    item: dict[str, Any] = {"kwargs": kwargs}
    if seed != default_seed:
        item["seed"] = seed
    if grad:
        item["grad"] = grad
    return item
