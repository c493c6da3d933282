"""Server mode: the store works against a `chroma run` server over HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.embeddings import HashingEmbeddings
from core.knowledge import KnowledgeBase
from core.settings import Settings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path):
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def test_two_knowledge_bases_share_one_chroma_server(tmp_path: Path, chroma_server: str) -> None:
    settings = Settings(store_dir=tmp_path / "store", chroma_url=chroma_server)
    writer = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    assert writer.ingest_paths([ROOT / "data/faq/store_faq.json"]).ok
    reader = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    hits = reader.search("Do gift cards expire?", k=3)
    assert any("gift" in h.metadata["doc_id"] for h in hits)
    assert writer.delete("store_faq.json") > 0
    assert reader.search("Do gift cards expire?", k=3) == []
