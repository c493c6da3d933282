"""Customers keep getting answers while an admin upload is being embedded and stored (same process,
same knowledge base, as in the Streamlit app)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from helpers import DATA

from core.assistant import Assistant
from core.embeddings import HashingEmbeddings
from core.knowledge import KnowledgeBase
from core.settings import Settings
from core.uploads import ingest_uploads


class SlowDocumentEmbeddings(HashingEmbeddings):
    """Document batches take 0.6 s (a real model on a big file); queries stay fast."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        time.sleep(0.6)
        return super().embed_documents(texts)


def test_chat_answers_while_an_upload_is_ingested(tmp_path: Path) -> None:
    settings = Settings(
        store_dir=tmp_path / "store",
        embedding_provider="fake",
        parse_isolation=False,
        decline_thresholds={"en": 0.3, "es": 0.3},
    )
    kb = KnowledgeBase(settings, embeddings=SlowDocumentEmbeddings())
    assert kb.ingest_paths([DATA / "faq" / "store_faq.json"]).ok
    bot = Assistant(settings, kb)
    expected = bot.ask("Do gift cards expire?", "warm-up").answer
    assert "never expire" in expected.lower()

    entries = [
        {"id": f"part-{n}", "question": f"Is spare part {n} in stock?", "answer": f"Part {n} ships in 3 days."}
        for n in range(1200)
    ]  # 5 embedding batches of 256: about 3 s
    upload = [("spare_parts.json", json.dumps({"questions": entries}).encode())]
    outcome: list = []
    writer = threading.Thread(target=lambda: outcome.extend(ingest_uploads(kb, upload)))
    writer.start()
    marker = settings.store_dir / "ingest.inprogress"
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline, "the upload never started writing"
        time.sleep(0.005)

    latencies = []
    for n in range(5):
        t0 = time.perf_counter()
        answer = bot.ask("Do gift cards expire?", f"customer-{n}")
        latencies.append(time.perf_counter() - t0)
        assert answer.answer == expected and not answer.declined
    assert writer.is_alive(), "the upload finished before the questions: they did not overlap"
    assert max(latencies) < 1.5, latencies  # nobody waited for the upload (it holds the write lock ~3 s)

    writer.join(timeout=60)
    assert [(o.name, o.status) for o in outcome] == [("spare_parts.json", "added")]
    assert kb.store.get_source("spare_parts.json").chunks == 1200
    assert kb.search("Is spare part 77 in stock?", 1)[0].source == "spare_parts.json"


def test_searches_keep_working_through_a_reindex_and_a_write_waits_for_it(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store", embedding_provider="fake", parse_isolation=False)
    kb = KnowledgeBase(settings, embeddings=SlowDocumentEmbeddings())
    assert kb.ingest_paths([DATA / "faq" / "store_faq.json", DATA / "policies" / "shipping_guide.txt"]).ok
    retriever = kb.retriever(k=1)
    late = tmp_path / "late.json"
    late.write_text(json.dumps({"questions": [{"question": "Do you sell gift wrap?", "answer": "Yes."}]}))

    report: list = []
    reindex = threading.Thread(target=lambda: report.append(kb.reindex()))
    reindex.start()
    time.sleep(0.2)
    upload = threading.Thread(target=lambda: kb.ingest_file(late))  # arrives mid-reindex: must not be lost
    upload.start()
    searches = 0
    while reindex.is_alive():
        hits = kb.search("Do gift cards expire?", 1)
        docs = retriever.invoke("Do gift cards expire?")
        assert "gift-cards" in hits[0].metadata["doc_id"]
        assert docs[0].metadata["doc_id"] == hits[0].metadata["doc_id"]
        searches += 1
    reindex.join()
    upload.join(timeout=30)
    assert report[0].ok and searches > 5
    assert {s.source for s in kb.list_sources()} == {"store_faq.json", "shipping_guide.txt", "late.json"}
    assert kb.search("Do you sell gift wrap?", 1)[0].source == "late.json"
