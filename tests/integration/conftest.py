"""Integration fixtures: real offline models (loaded once per session) and the local OpenAI fake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from base.paths import ROOT
from base.settings import Settings
from services.knowledge import KnowledgeBase


@pytest.fixture(scope="session")
def minilm():
    """The wheel's all-MiniLM-L6-v2 (no download), loaded once."""
    from providers.embeddings import SentenceTransformerEmbeddings, wheel_minilm_dir

    return SentenceTransformerEmbeddings(wheel_minilm_dir())


@pytest.fixture(scope="session")
def demo_store_minilm(tmp_path_factory: pytest.TempPathFactory, minilm) -> Path:
    """The whole demo data ingested once with MiniLM; tests copy it before writing."""
    store = tmp_path_factory.mktemp("demo") / "store"
    kb = KnowledgeBase(Settings(store_dir=store), embeddings=minilm)
    report = kb.ingest_paths([ROOT / "data"])
    assert report.ok, report.failed
    kb.store.close()
    return store


@pytest.fixture
def demo_kb(tmp_path: Path, demo_store_minilm: Path, minilm) -> KnowledgeBase:
    store = tmp_path / "store"
    shutil.copytree(demo_store_minilm, store)
    return KnowledgeBase(Settings(store_dir=store), embeddings=minilm)
