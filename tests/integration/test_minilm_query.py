"""MiniLM's one-question path (`embed_query`) against sentence-transformers' own `encode`, bit for bit.

The chat embeds one question at a time, and `SentenceTransformerEmbeddings` runs it through the model's modules
directly, with its linear weights stored in bf16 once. Both are speed-ups only: a store built with `encode`'s
vectors must be searched with the same numbers, so any drift here is a failure."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from providers.embeddings import SentenceTransformerEmbeddings, wheel_minilm_dir

QUESTIONS = [
    "what is the cheapest tent?",
    "¿cuánto cuesta el envío a Canarias?",
    "Where is my order? I ordered it last week and it still has not arrived. " * 20,  # over 256 tokens: truncated
    "",
    "x",
]


def _reference(model: SentenceTransformer, text: str, bf16: bool) -> np.ndarray:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        return model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)[0]


@pytest.mark.parametrize("bf16", [False, True])
def test_one_question_equals_encode_bit_for_bit(bf16: bool) -> None:
    reference = SentenceTransformer(str(wheel_minilm_dir()), device="cpu")  # fp32 weights, autocast casts per call
    ours = SentenceTransformerEmbeddings(wheel_minilm_dir(), bf16=bf16)
    for text in QUESTIONS:
        expected = _reference(reference, text, bf16)
        assert np.array_equal(np.asarray(ours.embed_query(text), dtype=np.float32), expected), text[:40]
        assert np.array_equal(np.asarray(ours.embed_queries([text])[0], dtype=np.float32), expected)


def test_bf16_weights_give_encodes_batch_vectors() -> None:
    reference = SentenceTransformer(str(wheel_minilm_dir()), device="cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = reference.encode(QUESTIONS, batch_size=16, normalize_embeddings=True, show_progress_bar=False)
    ours = SentenceTransformerEmbeddings(wheel_minilm_dir(), bf16=True)
    assert np.array_equal(np.asarray(ours.embed_documents(QUESTIONS), dtype=np.float32), expected)
    assert {p.dtype for p in ours._model.parameters() if p.ndim == 2} >= {torch.bfloat16}  # the cast happened
