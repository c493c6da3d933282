"""Server mode: the store works against a `chroma run` server over HTTP on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from local_servers import free_port, port_open, serve

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration


@pytest.fixture
def chroma_server(tmp_path: Path):
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    argv = [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)]
    with serve(argv, lambda: port_open(port), "chroma server", timeout=30):
        yield f"http://127.0.0.1:{port}"


def test_two_knowledge_bases_share_one_chroma_server(tmp_path: Path, chroma_server: str) -> None:
    settings = Settings(store_dir=tmp_path / "store", chroma_url=chroma_server)
    writer = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    assert writer.ingest_paths([ROOT / "data/faq/store_faq.json"]).ok
    reader = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    hits = reader.search("Do gift cards expire?", k=3)
    assert any("gift" in h.metadata["doc_id"] for h in hits)
    assert writer.delete("store_faq.json") > 0
    assert reader.search("Do gift cards expire?", k=3) == []
