"""The `openai` embedding provider against the local OpenAI-compatible fake over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer, FakeState

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import build_embeddings, embedding_id
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration


def _settings(server: FakeOpenAIServer, tmp_path: Path, **kw) -> Settings:
    return Settings(
        store_dir=tmp_path / "store",
        embedding_provider="openai",
        openai_api_key="sk-test",
        openai_base_url=server.base_url,
        **kw,
    )


def test_ingest_and_search_through_openai_embeddings(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        settings = _settings(server, tmp_path)
        kb = KnowledgeBase(settings)
        assert embedding_id(kb.embeddings) == "OpenAIEmbeddings:text-embedding-3-small"
        report = kb.ingest_paths([ROOT / "data/faq/store_faq.json"])
        assert report.ok
        hits = kb.search("Do gift cards expire?", k=3)
        assert any("gift" in h.metadata["doc_id"] for h in hits)
        paths = [p for p, _ in server.state.requests]
        assert any(p.endswith("/embeddings") for p in paths)


def test_openai_embeddings_retry_after_429(tmp_path: Path) -> None:
    with FakeOpenAIServer(FakeState(fail_next=[429, 500])) as server:
        emb = build_embeddings(_settings(server, tmp_path, openai_max_retries=2))
        vectors = emb.embed_documents(["free shipping", "gift cards"])
        assert len(vectors) == 2 and len(vectors[0]) == server.state.embedding_dim


def test_openai_embeddings_error_is_raised_not_hidden(tmp_path: Path) -> None:
    import openai

    with FakeOpenAIServer(FakeState(fail_next=[500, 500, 500])) as server:
        emb = build_embeddings(_settings(server, tmp_path, openai_max_retries=1))
        with pytest.raises(openai.InternalServerError):
            emb.embed_query("hello")
