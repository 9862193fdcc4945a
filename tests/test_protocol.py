"""The wire format: values round-trip, and nothing but whitelisted plain data is accepted."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from grader import protocol
from grader.protocol import GeneratorSeed, Handle, ProtocolError, Received


def roundtrip(value, live=False):
    frame = protocol.pack(value)
    n_body, n_blob = protocol.HEADER.unpack(frame[: protocol.HEADER.size])
    body = frame[protocol.HEADER.size: protocol.HEADER.size + n_body]
    return protocol.unpack(body, frame[protocol.HEADER.size + n_body:], live=live)


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, None, True, "s"], "t": (1, (2, 3)), "big": 2**60, "nan": float("nan"), "inf": float("-inf")}
    out = roundtrip(value)
    assert out["a"] == [1, 2.5, None, True, "s"]
    assert out["t"] == (1, (2, 3))
    assert out["big"] == 2**60
    assert out["nan"] != out["nan"] and out["inf"] == float("-inf")


def test_tensors_arrive_as_received_on_the_trusted_side_and_live_in_the_worker():
    x = torch.randn(3, 4, dtype=torch.float64)
    out = roundtrip({"x": x, "i": torch.arange(5)})
    assert isinstance(out["x"], Received) and out["x"].device == "cpu"
    assert torch.equal(out["x"].tensor, x) and out["x"].tensor.dtype == torch.float64
    live = roundtrip({"x": x.requires_grad_(True)}, live=True)
    assert isinstance(live["x"], torch.Tensor) and live["x"].requires_grad


def test_generators_and_handles_travel_as_markers():
    out = roundtrip([GeneratorSeed(7), Handle(3, "Adam")])
    assert out == [GeneratorSeed(7), Handle(3, "Adam")]


def test_tensor_subclass_is_stripped_to_a_plain_tensor():
    class Liar(torch.Tensor):
        def __eq__(self, other):  # noqa: D105 - an always-true comparison
            return True

    sneaky = torch.zeros(3).as_subclass(Liar)
    out = roundtrip(sneaky)
    assert type(out.tensor) is torch.Tensor
    assert not torch.equal(out.tensor, torch.ones(3))


@pytest.mark.parametrize("value", [object(), {1: "int key"}, {"s": {1, 2}}, __import__("numpy").array([object()])])
def test_unknown_types_are_refused_with_their_name(value):
    with pytest.raises(ProtocolError, match="cannot be graded|keys must be strings|Python objects"):
        protocol.pack(value)


def test_decoder_refuses_unknown_nodes_and_pickles():
    with pytest.raises(ProtocolError, match="unexpected node"):
        protocol.unpack(json.dumps({"$pickle": "x"}).encode(), b"")
    payload = pickle.dumps({"score": 100})
    with pytest.raises(ProtocolError, match="could not be decoded"):
        protocol.unpack(payload, b"")
    with pytest.raises(ProtocolError, match="could not be decoded"):
        protocol.unpack(b"{}", b"not safetensors")


@pytest.mark.parametrize("node", [{"$dict": 5}, {"$tuple": {"a": 1}}, {"$meta": 3, "dtype": "float32"},
                                  {"$meta": ["x"], "dtype": "float32"}, {"$gen": "x"}, {"$h": [1]}, {"$i": "1.5"}])
def test_known_nodes_holding_the_wrong_kind_of_value_are_refused(node):
    """A forged reply frame must become a ProtocolError (a verdict), never an exception
    that escapes into the grader."""
    with pytest.raises(ProtocolError):
        protocol.unpack(json.dumps([1, node]).encode(), b"")


def test_oversized_frames_are_refused(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_FRAME_BYTES", 1000)
    with pytest.raises(ProtocolError, match="over the"):
        protocol.pack(torch.zeros(1000))


def test_deeply_nested_values_are_refused():
    value: list = []
    for _ in range(protocol.MAX_DEPTH + 2):
        value = [value]
    with pytest.raises(ProtocolError, match="nested too deeply"):
        protocol.pack(value)


def _split(frame):
    n_body, _ = protocol.HEADER.unpack(frame[: protocol.HEADER.size])
    return frame[protocol.HEADER.size: protocol.HEADER.size + n_body], frame[protocol.HEADER.size + n_body:]


def test_a_request_sends_a_large_constant_tensor_as_one_element_and_its_shape():
    weight = torch.full((256, 512), float("nan"))
    frame = protocol.pack({"w": weight}, fill_constants=True)
    assert len(frame) < 1000  # not the 512 KiB of the tensor
    got = protocol.unpack(*_split(frame), live=True)["w"]
    assert got.shape == weight.shape and got.dtype == weight.dtype and got.isnan().all()
    got[0, 0] = 1.0  # a tensor of its own, not a broadcast view
    assert got[1, 1].isnan()


@pytest.mark.parametrize("where", [0, 7, 4096, -1])
def test_a_tensor_with_one_element_different_anywhere_travels_whole(where):
    t = torch.zeros(8192)
    t[where] = 1.0
    got = protocol.unpack(*_split(protocol.pack({"t": t}, fill_constants=True)), live=True)["t"]
    assert torch.equal(got, t)


def test_negative_zero_is_not_taken_for_zero():
    t = torch.zeros(8192)
    t[5] = -0.0
    got = protocol.unpack(*_split(protocol.pack({"t": t}, fill_constants=True)), live=True)["t"]
    assert torch.equal(got.view(torch.int32), t.view(torch.int32))


def test_the_trusted_side_refuses_a_repeated_value_in_a_reply():
    frame = protocol.pack({"w": torch.zeros(8192)}, fill_constants=True)
    with pytest.raises(ProtocolError, match="repeated value"):
        protocol.unpack(*_split(frame))
