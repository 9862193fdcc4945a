"""The worker: the only process that ever imports or runs student code.

Forked from the fork server (:mod:`grader.zygote`), or started by :mod:`grader.sandbox`
as ``python -I -m grader.worker REQ_FD REPLY_FD LIMITS``, inside a fresh temporary
directory that holds only the student's files. It reads
requests from one pipe and answers on another, so whatever the student prints goes
to the captured stdout/stderr and never into the protocol.

The worker only executes calls and reports what happened. It never sees reference
outputs, hidden test files or solutions, and it never scores anything: the trusted
process makes the inputs, computes the references and compares.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import resource
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from grader import protocol
from grader.protocol import GeneratorSeed, Handle, ProtocolError
from grader.tree import as_leaves, flat_tensors, tree_map

#: Characters of student output kept per call; the rest is counted and dropped.
OUTPUT_CAP = 8192


class ForbiddenCall(BaseException):
    """Raised when student code calls the built-in its exercise asks it to write.

    A BaseException, so ``except Exception`` in student code does not swallow it; the
    worker also records the trip, so catching it anyway does not help.
    """


class CappedOutput(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self.cap, self.parts, self.kept, self.dropped = cap, [], 0, 0

    @property
    def total(self) -> int:
        return self.kept + self.dropped

    def write(self, s: str) -> int:
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def writable(self) -> bool:
        return True

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output were dropped]"
        return out


class Tripwires:
    """Replaces forbidden built-ins with wrappers that refuse while student code runs."""

    def __init__(self) -> None:
        self.installed: set[str] = set()
        self.active: frozenset[str] = frozenset()
        self.tripped: list[str] = []

    def install(self, paths: list[str]) -> None:
        for path in paths:
            if path not in self.installed:
                self._patch(path)
                self.installed.add(path)

    def _patch(self, path: str) -> None:
        owner_path, _, name = path.rpartition(".")
        owner = _resolve(owner_path)
        original = getattr(owner, name)
        wires = self

        def check() -> None:
            if path in wires.active:
                wires.tripped.append(path)
                raise ForbiddenCall(f"{path} is the built-in this exercise asks you to write yourself")

        if isinstance(original, type):
            replacement: Any = type(original.__name__, (original,), {"__init__": _tripping_init(original, check)})
        else:
            def replacement(*args: Any, **kwargs: Any) -> Any:
                check()
                return original(*args, **kwargs)

            replacement.__name__ = getattr(original, "__name__", name)
            replacement.__doc__ = getattr(original, "__doc__", None)
        setattr(owner, name, replacement)


def _tripping_init(cls: type, check: Callable[[], None]) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        check()
        cls.__init__(self, *args, **kwargs)

    return __init__


def _resolve(dotted: str) -> Any:
    """Import the longest importable prefix of a dotted path, then walk attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot resolve {dotted}")


class Worker:
    """Executes requests against the student's modules and keeps stateful objects."""

    def __init__(self, call_cpu_seconds: int = 0) -> None:
        import torch

        self.torch = torch
        self.call_cpu_seconds = call_cpu_seconds
        self.handles: dict[int, Any] = {}
        self.tripwires = Tripwires()
        self.defaults = (torch.get_default_dtype(),)

    # -- request dispatch -------------------------------------------------------------
    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        cpu = int(request.get("cpu_seconds") or self.call_cpu_seconds)
        if cpu and op in ("import", "call"):
            arm_call_cpu_limit(cpu)
        if op == "import":
            return self.op_import(request)
        if op == "call":
            return self.op_call(request)
        raise ProtocolError(f"unknown op {op!r}")

    def op_import(self, request: dict[str, Any]) -> dict[str, Any]:
        self.tripwires.install(list(request.get("forbid", [])))
        module = request["module"]
        out = CappedOutput()
        try:
            with _redirect(out):
                importlib.import_module(module)
        except ForbiddenCall as exc:
            return {"error": _error("ForbiddenCall", str(exc), None), "output": out.text()}
        except BaseException as exc:  # noqa: BLE001 - any failure of student code is a verdict
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"error": _describe(exc), "output": out.text()}
        return {"ok": True, "output": out.text()}

    def op_call(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            fn = self._target(request["target"])
        except AttributeError:
            module, _, name = str(request["target"]).partition(":")
            return {"error": _error("MissingFunction", f"{module}.py does not define {name}; keep the name and "
                                    "signature from the stub", None)}
        args = [self._live(a) for a in request.get("args", [])]
        kwargs = {k: self._live(v) for k, v in request.get("kwargs", {}).items()}
        rules = None
        if request.get("device_rules") == "meta":
            from grader.device_rules import CudaRulesOnMeta, to_meta

            args, kwargs, rules = to_meta(args), to_meta(kwargs), CudaRulesOnMeta()
        grad = request.get("grad")
        if grad:
            for name in grad["wrt"]:
                kwargs[name] = as_leaves(kwargs[name])
        self._reset_state(int(request.get("seed", 0)))
        out = CappedOutput()
        self.tripwires.install(list(request.get("forbid", [])))  # a program may run before any import of its module
        self.tripwires.active = frozenset(request.get("forbid", []))
        self.tripwires.tripped = []
        threads_before = set(threading.enumerate())
        try:
            with _redirect(out), (rules or contextlib.nullcontext()):
                result = fn(*args, **kwargs)
        except ForbiddenCall as exc:
            return {"error": _error("ForbiddenCall", str(exc), None), "output": out.text()}
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            verdict = self._verdict(rules)
            return {"error": verdict or _describe(exc), "output": out.text()}
        finally:
            self.tripwires.active = frozenset()
        verdict = self._verdict(rules)
        if verdict:
            return {"error": verdict, "output": out.text()}
        lingering = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        if lingering:
            return {"error": _error("LeftRunning", f"the call left {len(lingering)} thread(s) running after it "
                                    "returned; join every thread you start before returning", None),
                    "output": out.text()}
        limit = int(request.get("output_limit", 0))
        if limit and out.total > limit:
            return {"error": _error("OutputRefused", f"the call printed {out.total:,} characters, over the "
                                    f"{limit:,} allowed per call; remove or shorten the prints", None),
                    "output": out.text()}

        # Only what there is: a sweep's hundred replies are mostly a value, so every field
        # left out is a node fewer to pack and unpack a hundred times.
        reply: dict[str, Any] = {"output": out.text()} if out.total else {}
        returned = next((i for i, a in enumerate(args) if result is a and _is_tensor(a)), None)
        if returned is not None:
            reply["returned_arg"] = returned
        elif (returned := next((k for k, v in kwargs.items() if result is v and _is_tensor(v)), None)) is not None:
            reply["returned_kwarg"] = returned
        opaque = set(request.get("opaque", []))
        if opaque and isinstance(result, tuple):
            result = tuple(self._store(v) if i in opaque else v for i, v in enumerate(result))
        if grad:
            reply["grads"] = self._grads(result, kwargs, grad)
        reply["value"] = result
        if request.get("return_args"):
            # Only the inputs the check names: others (an opaque cache, a generator) need not be encodable.
            reply["args_after"] = {"kwargs": {k: kwargs.get(k) for k in request["return_args"]}}
        return reply

    # -- helpers ----------------------------------------------------------------------
    def _grads(self, result: Any, kwargs: dict[str, Any], grad: dict[str, Any]) -> Any:
        """Gradients of <output, cotangent> with respect to each named input (tensors, or lists/dicts of them)."""
        torch = self.torch
        output = result[grad.get("output_index", 0)] if isinstance(result, tuple) else result
        if not _is_tensor(output) or not output.requires_grad:
            return {"error": "the output does not depend on the inputs through autograd"}
        cotangent = self._live(grad["cotangent"])
        named = [(f"{n}{path}", t) for n in grad["wrt"] for path, t in flat_tensors(kwargs[n])]
        grads = torch.autograd.grad(output, [t for _, t in named], cotangent, allow_unused=True)
        return {n: (None if g is None else g.detach()) for (n, _), g in zip(named, grads)}

    def _reset_state(self, seed: int) -> None:
        """Undo global state a previous call may have changed, then seed the global RNG."""
        torch = self.torch
        torch.set_default_dtype(self.defaults[0])
        torch.set_grad_enabled(True)
        # torch.manual_seed would also queue a lazy seeding of every accelerator backend,
        # recording a formatted stack each time: a third of a millisecond per call, for
        # devices a CPU worker never uses.
        torch.default_generator.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def _verdict(self, rules: Any) -> dict[str, Any] | None:
        """A forbidden call or a device rule broken during the call, even if the student caught it."""
        if self.tripwires.tripped:
            return _error("ForbiddenCall", f"{self.tripwires.tripped[0]} is the built-in this exercise asks you "
                          "to write yourself", None)
        if rules is not None and rules.found is not None:
            return _error(type(rules.found).__name__, str(rules.found), None)
        return None

    def _target(self, target: Any) -> Callable[..., Any]:
        module, _, qualname = str(target).partition(":")
        obj: Any = sys.modules.get(module) or importlib.import_module(module)
        for attr in qualname.split("."):
            obj = getattr(obj, attr)
        return obj

    def _live(self, value: Any) -> Any:
        """Generators from their seeds, kept objects from their handles."""
        return tree_map(value, lambda v: v.make() if isinstance(v, GeneratorSeed) else self._handle(v) if isinstance(v, Handle) else v)

    def _store(self, value: Any) -> Handle:
        hid = len(self.handles) + 1
        self.handles[hid] = value
        return Handle(hid, type(value).__name__)

    def _handle(self, ref: Any) -> Any:
        hid = ref.id if isinstance(ref, Handle) else int(ref)
        try:
            return self.handles[hid]
        except KeyError:
            raise ProtocolError(f"no object with handle {hid}") from None


def _is_tensor(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor)


class _redirect:
    """Point sys.stdout and sys.stderr at a capped buffer for the duration of a call."""

    def __init__(self, out: CappedOutput) -> None:
        self.out = out

    def __enter__(self) -> None:
        self.saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.out

    def __exit__(self, *exc: Any) -> None:
        sys.stdout, sys.stderr = self.saved


def _error(kind: str, message: str, tb: str | None, mro: list[str] | None = None) -> dict[str, Any]:
    return {"type": kind, "message": message[:2000], "traceback": tb, "mro": mro or [kind]}


def _describe(exc: BaseException) -> dict[str, Any]:
    """Describe a student exception, keeping only the frames from the student's files."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(os.getcwd())]
    tb = "".join(traceback.format_list(frames[-5:])) if frames else None
    if tb:
        tb = tb.replace(os.getcwd() + os.sep, "")
    message = str(exc) if not isinstance(exc, SystemExit) else f"the code called exit({exc.code!r})"
    return _error(type(exc).__name__, message, tb, [c.__name__ for c in type(exc).__mro__])


def _warm_up(torch: Any) -> None:
    """Load what torch imports lazily on first use, before the student's clock runs.

    The first ``normal_`` on a meta tensor imports torch's Python meta kernels (and
    sympy), about 0.6 s here and ten times that on a slow machine; a gradient with an
    explicit ``grad_outputs`` needs the same modules. Done at start-up, it overlaps with
    the grader's own ``import torch`` and is never charged to the student.

    No gradient is taken here: in a CUDA build that starts autograd's device threads,
    and a worker forked after that refuses to run autograd at all.
    """
    torch.empty(2, device="meta").normal_()


def _cpu_used() -> int:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return int(used.ru_utime + used.ru_stime) + 1


def _apply_limits(limits: dict[str, Any]) -> None:
    """Start the worker's CPU budget now, after its own start-up: the hard limit (SIGKILL)."""
    total = int(limits.get("worker_cpu_seconds", 0))
    if total:
        resource.setrlimit(resource.RLIMIT_CPU, (_cpu_used() + total, _cpu_used() + total))


def arm_call_cpu_limit(seconds: int) -> None:
    """Re-arm the soft CPU limit for one call: SIGXCPU after ``seconds`` more CPU seconds.

    SIGXCPU can be caught; the hard limit (the worker's whole budget) and the trusted
    side's wall-clock timer stand behind it.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = _cpu_used() + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard - 1)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def prepare() -> Any:
    """Import torch and everything a worker loads lazily: the start-up no student is charged for.

    The fork server (:mod:`grader.zygote`) runs this once and forks every worker from
    the result; a spawned worker runs it itself. One thread here: a thread pool started
    before a fork would be missing from the child.
    """
    sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE; keep the student's folder as given
    import torch

    torch.set_num_threads(1)
    _warm_up(torch)
    from grader import device_rules, syscall_filter  # noqa: F401 - loaded now, not on the student's clock

    syscall_filter.available()
    frame = protocol.pack({"warm": torch.zeros(1)})  # the codecs' own lazy imports
    n_body, _ = protocol.HEADER.unpack(frame[:protocol.HEADER.size])
    protocol.unpack(frame[protocol.HEADER.size:protocol.HEADER.size + n_body],
                    frame[protocol.HEADER.size + n_body:], live=True)
    return torch


def serve(req_fd: int, reply_fd: int, limits: dict[str, Any]) -> int:
    """Lock this process down, say hello, then answer requests until the grader hangs up."""
    import torch

    from grader import syscall_filter

    torch.set_num_threads(int(limits.get("threads", 1)))
    worker = Worker(int(limits.get("cpu_seconds", 0)))
    sys.path.insert(0, os.getcwd())
    seccomp = syscall_filter.available()
    if seccomp:
        syscall_filter.install()
    hello = {"ready": True, "torch": torch.__version__, "cuda": torch.cuda.is_available(), "pid": os.getpid(),
             "seccomp": seccomp}
    protocol.write_frame(reply_fd, protocol.pack(hello))
    _apply_limits(limits)
    while True:
        try:
            request = protocol.read_frame(req_fd, live=True)
        except EOFError:
            return 0
        request_id = request.get("id") if isinstance(request, dict) else None
        if isinstance(request, dict) and isinstance(request.get("load"), dict):
            # The module this call needs, imported first with its own reply: no round trip of its own.
            load = request["load"]
            loaded = _serve(worker, {"op": "import", "module": load.get("module"), "forbid": load.get("forbid", [])})
            protocol.write_frame(reply_fd, protocol.pack({**loaded, "id": request_id}))
            if "error" in loaded:
                continue
        if isinstance(request, dict) and request.get("op") == "call_many":
            _call_many(worker, request, request_id, reply_fd)
            continue
        reply = _serve(worker, request)
        try:
            frame = protocol.pack({**reply, "id": request_id})
        except Exception as exc:  # noqa: BLE001 - a value the worker cannot send is reported, not fatal
            frame = protocol.pack({"error": _unsendable(exc), "id": request_id})
        protocol.write_frame(reply_fd, frame)


def _call_many(worker: Worker, request: dict[str, Any], request_id: Any, reply_fd: int) -> None:
    """Run one call per item (its keywords, seed and gradient request), sending the replies
    in frames of whatever finished within :data:`grader.protocol.COALESCE_SECONDS`; the
    first error is the last reply.

    An item may name its own function (``target``, ``opaque``, ``forbid``), and take its
    arguments by name (``arg_refs``, ``kwarg_refs``) from one of the request's ``inputs``
    sets (its ``set``) or from a result an earlier item of that set kept (``save``): a
    spec's chain of calls, such as a BatchNorm forward whose cache feeds the backward,
    then costs one round trip for every dtype together.
    """
    calls = list(request.get("calls", []))
    sets: list[dict[str, Any]] = [dict(inputs) for inputs in request.get("inputs") or []]
    pending: list[dict[str, Any]] = []
    sent = time.perf_counter()
    for index, call in enumerate(calls):
        each = {"op": "call", "kwargs": call.get("kwargs", {}), "seed": call.get("seed", request.get("seed", 0)),
                "grad": call.get("grad"),
                **{k: call[k] for k in _PER_CALL if k in call}}
        try:
            if "set" in call:
                saved, needs = sets[int(call["set"])], _function_name(each["target"])
                each["args"] = [_saved(saved, ref, needs) for ref in call.get("arg_refs", [])]
                each["kwargs"] = {k: _saved(saved, ref, needs) for k, ref in call.get("kwarg_refs", {}).items()}
                reply = _serve(worker, {**request, **each})
                if call.get("save") and "error" not in reply:
                    saved[str(call["save"])] = _Kept(reply.get("value"), needs)
            else:
                reply = _serve(worker, {**request, **each})
        except LookupError as exc:
            reply = {"error": _error("WrongResult", str(exc), None)}
        pending.append({**reply, "index": index})
        failed = "error" in pending[-1]
        if failed or index == len(calls) - 1 or time.perf_counter() - sent >= protocol.COALESCE_SECONDS:
            frames, refused = _pack_replies(pending, request_id)
            for frame in frames:
                protocol.write_frame(reply_fd, frame)
            pending, sent = [], time.perf_counter()
            if failed or refused:
                return


#: What an item of a ``call_many`` may set for itself, over the request's own.
_PER_CALL = ("target", "opaque", "forbid", "return_args")


@dataclass
class _Kept:
    """A result kept for a later call of a chain, and the function that returned it."""

    value: Any
    function: str


def _function_name(target: Any) -> str:
    return str(target).rpartition(":")[2] if isinstance(target, str) else "the call"


def _saved(saved: dict[str, Any], ref: str, needs: str) -> Any:
    """``name`` or ``name[i]``: an input, or an item of a result kept earlier in the chain
    (a ``LookupError`` that tells the student which result lacked what)."""
    name, _, index = str(ref).partition("[")
    if name not in saved:
        raise LookupError(f"{ref} names no input and no earlier result")
    kept = saved[name]
    value = kept.value if isinstance(kept, _Kept) else kept
    if not index:
        return value
    i = int(index.rstrip("]"))
    if not isinstance(value, (tuple, list)) or not -len(value) <= i < len(value):
        what = f"a {type(value).__name__}" + (f" of {len(value)}" if isinstance(value, (tuple, list)) else "")
        raise LookupError(f"{needs} needs item {i} of what {kept.function} returns, but it returned {what}; "
                          "return what the stub's docstring says")
    return value[i]


def _pack_replies(replies: list[dict[str, Any]], request_id: Any) -> tuple[list[bytes], bool]:
    """Frames for these replies (one, unless together they are over the size limit), and
    whether one could not be encoded: it becomes the error that ends them."""
    try:
        return [protocol.pack({"id": request_id, "replies": replies})], False
    except Exception:  # noqa: BLE001 - found and reported reply by reply below
        frames: list[bytes] = []
    for reply in replies:
        try:
            frames.append(protocol.pack({"id": request_id, "replies": [reply]}))
        except Exception as exc:  # noqa: BLE001
            error = {"error": _unsendable(exc), "index": reply["index"]}
            return frames + [protocol.pack({"id": request_id, "replies": [error]})], True
    return frames, False


def _unsendable(exc: Exception) -> dict[str, Any]:
    """The error reported for a reply that could not be packed: the student's value, or the worker's fault."""
    if isinstance(exc, ProtocolError):
        return _error("OutputRefused", str(exc), None)
    return _error("WorkerError", f"{type(exc).__name__}: {exc}", None)


def _serve(worker: Worker, request: Any) -> dict[str, Any]:
    """One reply, with the time spent serving it (so the grader can tell its transfer overhead apart)."""
    started = time.perf_counter()
    try:
        reply = worker.handle(request)
    except ProtocolError as exc:
        return {"error": _error("OutputRefused", str(exc), None)}
    except Exception as exc:  # noqa: BLE001 - a request the worker cannot serve is reported
        return {"error": _error("WorkerError", f"{type(exc).__name__}: {exc}", None)}
    return {**reply, "busy": time.perf_counter() - started}


def main(argv: list[str]) -> int:
    """A spawned worker: ``python -I -m grader.worker REQ_FD REPLY_FD LIMITS``."""
    prepare()
    return serve(int(argv[0]), int(argv[1]), json.loads(argv[2]) if len(argv) > 2 else {})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
