"""Dense and hybrid search, and batched search."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import DATA

from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase
from vectorstore.retrieval import Searcher

FAQ = json.loads((DATA / "faq" / "store_faq.json").read_text(encoding="utf-8"))["questions"]
QUESTIONS = [FAQ[i]["question"] for i in (0, 7, 23, 50, 91)]


@pytest.fixture(scope="module")
def demo_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    settings = Settings(store_dir=tmp_path_factory.mktemp("retrieval") / "store", embedding_provider="fake")
    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    report = kb.ingest_paths(
        [DATA / "faq" / "store_faq.json", DATA / "products.csv", DATA / "policies" / "terms_and_policies.md"]
    )
    assert report.ok
    return kb


@pytest.fixture(scope="module")
def hybrid(demo_kb: KnowledgeBase) -> Searcher:
    return Searcher(demo_kb.store, "hybrid")


def cosine(kb: KnowledgeBase, query: str, chunk_id: str) -> float:
    stored = kb.store.collection().get(ids=[chunk_id], include=["embeddings"])["embeddings"][0]
    return float(np.dot(kb.embeddings.embed_query(query), stored))


@pytest.mark.parametrize("question", QUESTIONS)
def test_dense_ranks_the_exact_faq_question_first(demo_kb: KnowledgeBase, question: str) -> None:
    hits = demo_kb.search(question, 4)
    assert len(hits) == 4
    assert hits[0].metadata["question"] == question
    assert hits[0].source == "store_faq.json"
    assert hits[0].score > 0.75  # the entry's vector is its question's plus its question-with-answer's
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[1].score < hits[0].score


def test_dense_scores_are_cosine_similarities(demo_kb: KnowledgeBase) -> None:
    query = "cast iron skillet oven safe"
    hits = demo_kb.search(query, 5)
    for hit in hits:
        assert hit.score == pytest.approx(cosine(demo_kb, query, hit.id), abs=1e-4)
    assert any(h.metadata.get("type") == "product" for h in hits)


@pytest.mark.parametrize("k", [1, 5, 12])
def test_hybrid_returns_k_hits_best_first(demo_kb: KnowledgeBase, hybrid: Searcher, k: int) -> None:
    question = QUESTIONS[1]
    hits = hybrid.search(question, k)
    assert len(hits) == k
    assert len({h.id for h in hits}) == k
    assert hits[0].metadata["question"] == question
    for hit in hits:  # BM25-only hits get their real cosine score too
        assert hit.score == pytest.approx(cosine(demo_kb, question, hit.id), abs=1e-4)


def test_hybrid_brings_in_keyword_matches_dense_misses(demo_kb: KnowledgeBase, hybrid: Searcher) -> None:
    # A rare word of a product's text past the part its vector reads (vectorstore/store.py product_view): only the
    # keyword index sees it.
    query = "cherry"
    dense = demo_kb.search(query, 20)
    assert "HP-KIT-0003" not in [h.metadata.get("sku") for h in dense]
    hits = hybrid.search(query, 3)
    match = [h for h in hits if h.metadata.get("sku") == "HP-KIT-0003"]
    assert len(match) == 1
    assert match[0].score == pytest.approx(cosine(demo_kb, query, match[0].id), abs=1e-4)


def test_hybrid_index_follows_writes(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    kb = KnowledgeBase(demo_kb.settings, tmp_path / "store", embeddings=HashingEmbeddings())
    searcher = Searcher(kb.store, "hybrid")
    first = tmp_path / "a.json"
    first.write_text(json.dumps([{"question": "Do you sell gift wrap?", "answer": "Yes."}]), encoding="utf-8")
    kb.ingest_file(first)
    assert [h.source for h in searcher.search("gift wrap", 5)] == ["a.json"]
    second = tmp_path / "b.json"
    second.write_text(json.dumps([{"question": "Is gift wrap recyclable?", "answer": "Yes."}]), encoding="utf-8")
    kb.ingest_file(second)
    assert {h.source for h in searcher.search("gift wrap", 5)} == {"a.json", "b.json"}
    kb.delete("a.json")
    assert [h.source for h in searcher.search("gift wrap", 5)] == ["b.json"]


def test_unknown_mode_is_refused(demo_kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="unknown retrieval mode 'sparse'"):
        Searcher(demo_kb.store, "sparse")


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_search_many_equals_individual_searches(demo_kb: KnowledgeBase, mode: str) -> None:
    searcher = Searcher(demo_kb.store, mode)
    queries = [*QUESTIONS[:3], "return a cast iron skillet", "envío gratis"]
    batched = searcher.search_many(queries, 4)
    assert len(batched) == len(queries)
    for query, hits in zip(queries, batched, strict=True):
        single = searcher.search(query, 4)
        assert [h.id for h in hits] == [h.id for h in single]
        assert [h.score for h in hits] == pytest.approx([h.score for h in single])
    assert searcher.search_many([], 4) == []
