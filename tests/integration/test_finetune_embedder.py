"""The embedder adaptation recipe runs end to end on a tiny set and yields a loadable model."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_train_tiny_adapted_model(tmp_path: Path) -> None:
    from finetune.embedder import train
    from providers.embeddings import SentenceTransformerEmbeddings, embedding_id, wheel_minilm_dir

    docs = {
        "faq:a": "How do I cancel my order?",
        "faq:b": "What payment methods do you accept?",
        "faq:c": "How long does delivery take?",
    }
    pairs = [
        ("i wanna cancel order 123", ["faq:a"]),
        ("can i pay with paypal", ["faq:b"]),
        ("when will my parcel arrive", ["faq:c"]),
        ("stop my purchase pls", ["faq:a"]),
    ]
    out = tmp_path / "adapted"
    model_id = train(out, wheel_minilm_dir(), pairs, docs, epochs=1, batch_size=2)
    assert (out / "model.safetensors").exists()
    assert (out / "model_id.txt").read_text().strip() == model_id
    emb = SentenceTransformerEmbeddings(out)
    assert embedding_id(emb) == f"st:{model_id}"
    vec = emb.embed_query("cancel my order")
    assert len(vec) == 384
