"""The contracts of tests/contracts.py on the real implementations: the offline embedders from wheels (the shipped
blend and plain MiniLM) and the knowledge store on a `chroma run` server over HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from contracts import EmbeddingsContract, KnowledgeStoreContract
from local_servers import free_port, port_open, serve

from base.settings import Settings

pytestmark = pytest.mark.integration


class TestBlendEmbeddings(EmbeddingsContract):
    @pytest.fixture(scope="class")
    def embeddings(self):
        from providers.embeddings import build_embeddings

        return build_embeddings(Settings(embedding_provider="blend"))


class TestMiniLMEmbeddings(EmbeddingsContract):
    @pytest.fixture(scope="class")
    def embeddings(self):
        from providers.embeddings import wheel_minilm

        return wheel_minilm()


class TestChromaServer(KnowledgeStoreContract):
    @pytest.fixture
    def settings(self, tmp_path: Path):
        port = free_port()
        chroma = Path(sys.executable).with_name("chroma")
        argv = [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)]
        with serve(argv, lambda: port_open(port), "chroma server", timeout=30):
            yield Settings(store_dir=tmp_path / "store", chroma_url=f"http://127.0.0.1:{port}", parse_isolation=False)
