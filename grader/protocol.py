"""The wire format between the trusted grader and the worker that runs student code.

A message is a length-prefixed frame: an 8-byte header (two big-endian uint32: the
JSON length and the tensor-blob length), a UTF-8 JSON document, and a safetensors
blob. Tensors inside the JSON are replaced by ``{"$t": key}`` pointing into the blob.

Nothing here uses pickle: safetensors only ever yields plain dense tensors, and the
JSON tree is rebuilt from a short whitelist of node types. Anything else is refused
with :class:`ProtocolError`, whose message is shown to the student.
"""

from __future__ import annotations

import functools
import json
import math
import os
import struct
from dataclasses import dataclass
from typing import Any

HEADER = struct.Struct(">II")
#: Largest frame either side accepts. A student's function returning a huge tensor
#: is refused instead of filling the grader's memory.
MAX_FRAME_BYTES = 256 * 1024 * 1024

#: A ``call_many`` sends the replies it has at least this often, so the grader can hold
#: every call to its own clock while most calls share a frame.
COALESCE_SECONDS = 0.02
MAX_DEPTH = 32


class ProtocolError(Exception):
    """A frame or a value that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class GeneratorSeed:
    """Stands for a ``torch.Generator`` seeded with ``seed`` on ``device``.

    Generators cannot cross a process boundary, so each side builds its own from the seed.
    """

    seed: int
    device: str = "cpu"

    def make(self) -> Any:
        import torch

        return torch.Generator(device=self.device).manual_seed(self.seed)


@dataclass(frozen=True)
class Handle:
    """An object kept inside the worker (a BatchNorm cache): it never crosses the pipe."""

    id: int
    type_name: str = ""


def encode(value: Any, *, fill_constants: bool = False) -> tuple[Any, dict[str, Any]]:
    """Turn a value into a JSON tree plus the tensors it refers to.

    Raises ProtocolError for any type outside the whitelist, naming the type, so a
    student who returns, say, a custom object learns what the grader expects.
    """
    tensors = _TensorTable()
    tensors.fill_constants = fill_constants
    tree = _encode(value, tensors, 0)
    return tree, tensors


def _encode(value: Any, tensors: "_TensorTable", depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("value is nested too deeply to be graded")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"$i": str(value)} if abs(value) >= 2**53 else value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$f": repr(value)}
    if isinstance(value, GeneratorSeed):
        return {"$gen": value.seed, "device": value.device}
    if isinstance(value, Handle):
        return {"$h": value.id, "type": value.type_name}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, tensors, depth + 1) for v in value]
        return {"$tuple": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ProtocolError("dict keys must be strings")
        return {"$dict": {k: _encode(v, tensors, depth + 1) for k, v in value.items()}}
    import torch

    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, tensors)
    try:  # numpy arrays and scalars become tensors; no object arrays
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        np = None
    if np is not None and isinstance(value, np.generic):
        return _encode(value.item(), tensors, depth)
    if np is not None and isinstance(value, np.ndarray):
        if value.dtype == object:
            raise ProtocolError("numpy arrays of Python objects cannot be graded")
        return _encode_tensor(torch.from_numpy(np.ascontiguousarray(value)), tensors)
    raise ProtocolError(
        f"a value of type {type(value).__module__}.{type(value).__qualname__} cannot be "
        "graded; return tensors, numbers, strings, or lists/tuples/dicts of those"
    )


@functools.cache
def _numpy_dtypes() -> frozenset[Any]:
    """Tensor dtypes numpy shares without conversion."""
    import torch

    return frozenset({torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32,
                      torch.int64, torch.uint8, torch.bool})


class _TensorTable(dict):
    """The tensors of one message, with their running size (checked before each copy)."""

    nbytes = 0
    #: Send a large tensor whose elements are all the same bits as one element and its
    #: shape. Only requests do (the NaN-filled weights an initialiser must overwrite); the
    #: trusted side refuses such nodes in replies, so no reply can make it allocate.
    fill_constants = False


#: Tensors at least this large are checked for being one value repeated.
FILL_MIN_ELEMENTS = 4096


def _one_value(t: Any) -> bool:
    """Whether every element of a contiguous tensor has the same bits (NaN and -0.0 included)."""
    import torch

    ints = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}.get(t.element_size())
    if ints is None or t.is_complex():
        return False
    bits = t.reshape(-1).view(ints)
    # Most large inputs are random: two elements tell them apart before a full pass.
    if bool(bits[-1] != bits[0]) or bool(bits[len(bits) // 2] != bits[0]):
        return False
    return bool((bits == bits[0]).all())


def _encode_tensor(value: Any, tensors: _TensorTable) -> dict[str, Any]:
    import torch

    device = str(value.device)
    if value.device.type == "meta":
        return {"$meta": list(value.shape), "dtype": str(value.dtype).removeprefix("torch."), "device": "meta"}
    size = value.numel() * value.element_size() + tensors.nbytes
    if size > MAX_FRAME_BYTES:  # refuse before copying anything: the copy itself could exhaust memory
        raise ProtocolError(f"the value holds {size >> 20} MiB of tensors, over the {MAX_FRAME_BYTES >> 20} MiB the "
                            "grader accepts")
    # A plain detached view drops tensor subclasses and their __torch_function__ hooks; its
    # bytes are copied when the frame is packed, before anything else can run.
    with torch._C.DisableTorchFunctionSubclass():
        plain = value.detach().to("cpu").as_subclass(torch.Tensor).contiguous()
    key = f"t{len(tensors)}"
    node: dict[str, Any] = {"$t": key, "device": device}
    if tensors.fill_constants and plain.numel() >= FILL_MIN_ELEMENTS and _one_value(plain):
        node["fill"] = list(plain.shape)
        plain = plain.reshape(-1)[:1]
    tensors[key] = plain
    tensors.nbytes = size
    if value.requires_grad:
        node["requires_grad"] = True
    return node


def decode(tree: Any, tensors: dict[str, Any], *, live: bool = False, depth: int = 0) -> Any:
    """Rebuild a value from its JSON tree and tensor table, refusing unknown nodes.

    The trusted side (``live=False``) keeps every tensor on the CPU inside a
    :class:`Received` that remembers the device it came from. The worker
    (``live=True``) gets real tensors, moved to the device they were sent from.
    """
    if depth > MAX_DEPTH:
        raise ProtocolError("value is nested too deeply to be graded")
    if tree is None or isinstance(tree, (bool, str, int, float)):
        return tree
    if isinstance(tree, list):
        return [v if type(v) in _JSON_LEAVES else decode(v, tensors, live=live, depth=depth + 1) for v in tree]
    if not isinstance(tree, dict) or len(tree) == 0:
        raise ProtocolError(f"unexpected node {type(tree).__name__} in a reply")
    if "$t" in tree:
        try:
            tensor = tensors[tree["$t"]]
        except (KeyError, TypeError):
            raise ProtocolError("a reply refers to a tensor it does not carry") from None
        device = str(tree.get("device", "cpu"))
        if not live:
            if "fill" in tree:
                raise ProtocolError("a reply may not send a tensor as one repeated value")
            return Received(tensor, device)
        if "fill" in tree:
            tensor = tensor.reshape(()).expand([int(n) for n in tree["fill"]]).clone()
        if device != "cpu":
            tensor = tensor.to(device)
        return tensor.requires_grad_(True) if tree.get("requires_grad") else tensor
    if "$meta" in tree:
        return MetaTensorInfo(tuple(int(s) for s in tree["$meta"]), str(tree["dtype"]))
    if "$tuple" in tree:
        items = tree["$tuple"]
        return tuple(decode(items, tensors, live=live, depth=depth)) if isinstance(items, list) else _bad(tree)
    if "$dict" in tree:
        return {str(k): v if type(v) in _JSON_LEAVES else decode(v, tensors, live=live, depth=depth + 1)
                for k, v in tree["$dict"].items()}
    if "$f" in tree:
        return float(tree["$f"]) if tree["$f"] in ("nan", "inf", "-inf") else _bad(tree)
    if "$i" in tree:
        return int(str(tree["$i"]))
    if "$gen" in tree:
        return GeneratorSeed(int(tree["$gen"]), str(tree.get("device", "cpu")))
    if "$h" in tree:
        return Handle(int(tree["$h"]), str(tree.get("type", "")))
    return _bad(tree)


#: What ``json.loads`` yields for a leaf: kept as it is, with no call into :func:`decode`.
_JSON_LEAVES = frozenset({str, int, float, bool, type(None)})


def _bad(tree: Any) -> Any:
    raise ProtocolError(f"unexpected node {sorted(tree)[:3]} in a reply")


@dataclass(frozen=True)
class MetaTensorInfo:
    """A tensor that lives on the ``meta`` device: only its shape and dtype travel."""

    shape: tuple[int, ...]
    dtype: str


@dataclass
class Received:
    """A tensor that came back from the worker, kept on the CPU, with the device it was on."""

    tensor: Any
    device: str


def pack(obj: Any, *, fill_constants: bool = False) -> bytes:
    """Encode a message (a dict of plain values and tensors) into one frame."""
    tree, tensors = encode(obj, fill_constants=fill_constants)
    body = json.dumps(tree, separators=(",", ":"), allow_nan=False).encode()
    blob = _save(tensors) if tensors else b""
    if len(body) + len(blob) > MAX_FRAME_BYTES:
        raise ProtocolError(
            f"the value is {(len(body) + len(blob)) >> 20} MiB, over the {MAX_FRAME_BYTES >> 20} MiB the grader accepts"
        )
    return HEADER.pack(len(body), len(blob)) + body + blob


def _save(tensors: dict[str, Any]) -> bytes:
    """The tensors as safetensors bytes: through numpy when every dtype allows (four times
    faster for the small tensors most requests carry), else through torch (bfloat16 and
    the like), which wants each tensor to own its storage."""
    if all(t.dtype in _numpy_dtypes() for t in tensors.values()):
        from safetensors.numpy import save as save_numpy

        return save_numpy({k: t.numpy() for k, t in tensors.items()})
    from safetensors.torch import save as save_torch

    return save_torch({k: t.clone() for k, t in tensors.items()})


def unpack(body: bytes, blob: bytes, *, live: bool = False) -> Any:
    """Decode one frame's payload. Only JSON and safetensors parsers see the bytes."""
    from safetensors.torch import load

    try:
        tree = json.loads(body.decode("utf-8"))
        tensors = load(blob) if blob else {}
    except (UnicodeDecodeError, ValueError, RuntimeError) as exc:
        raise ProtocolError(f"a reply could not be decoded: {exc}") from None
    except Exception as exc:  # safetensors raises its own error type on bad headers
        raise ProtocolError(f"a reply could not be decoded: {type(exc).__name__}: {exc}") from None
    try:
        return decode(tree, tensors, live=live)
    except (TypeError, ValueError, AttributeError, RuntimeError) as exc:  # a known node holding the wrong kind of value
        raise ProtocolError(f"a reply could not be decoded: {type(exc).__name__}: {exc}") from None


def write_frame(fd: int, frame: bytes) -> None:
    view = memoryview(frame)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, *, live: bool = False) -> Any:
    """Read and decode one frame from a file descriptor (blocking)."""
    n_body, n_blob = HEADER.unpack(read_exact(fd, HEADER.size))
    if n_body + n_blob > MAX_FRAME_BYTES:
        raise ProtocolError(f"a reply of {(n_body + n_blob) >> 20} MiB is over the limit and was refused")
    return unpack(read_exact(fd, n_body), read_exact(fd, n_blob), live=live)
