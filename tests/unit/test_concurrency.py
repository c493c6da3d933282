"""Customers keep getting answers while an admin upload is being embedded and stored (same process, same
knowledge base, as in the Streamlit app). The overlap is proven with events, not timing: the upload is held
inside its embedding step (holding the write lock) until the questions have been answered."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from helpers import DATA

from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.assistant import Assistant
from services.knowledge import KnowledgeBase
from services.uploads import ingest_uploads

WAIT = 60  # seconds: only a safety net against a hang, never the thing being measured


class GatedEmbeddings(HashingEmbeddings):
    """Document batches wait at a gate once it is armed (a real model on a big file); queries never wait."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.inside = threading.Event()  # set when a document batch is being embedded
        self.release = threading.Event()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.armed:
            self.inside.set()
            assert self.release.wait(WAIT), "the test never released the embedding step"
        return super().embed_documents(texts)


def test_chat_answers_while_an_upload_is_ingested(tmp_path: Path) -> None:
    settings = Settings(
        store_dir=tmp_path / "store",
        embedding_provider="fake",
        parse_isolation=False,
        decline_thresholds={"en": 0.3, "es": 0.3},
    )
    embeddings = GatedEmbeddings()
    kb = KnowledgeBase(settings, embeddings=embeddings)
    assert kb.ingest_paths([DATA / "faq" / "store_faq.json"]).ok
    bot = Assistant(settings, kb)
    expected = bot.ask("Do gift cards expire?", "warm-up").answer
    assert "never expire" in expected.lower()

    entries = [
        {"id": f"part-{n}", "question": f"Is spare part {n} in stock?", "answer": f"Part {n} ships in 3 days."}
        for n in range(600)
    ]
    upload = [("spare_parts.json", json.dumps({"questions": entries}).encode())]
    outcome: list = []
    embeddings.armed = True
    writer = threading.Thread(target=lambda: outcome.extend(ingest_uploads(kb, upload)))
    writer.start()
    assert embeddings.inside.wait(WAIT), "the upload never reached its embedding step"

    # The writer is now blocked inside the write (lock held, marker written): every answer below overlaps it.
    assert (settings.store_dir / "ingest.inprogress").exists() and writer.is_alive()
    for n in range(5):
        answer = bot.ask("Do gift cards expire?", f"customer-{n}")
        assert answer.answer == expected and not answer.declined
    assert writer.is_alive() and not outcome, "the upload finished before the questions: they did not overlap"

    embeddings.release.set()
    writer.join(timeout=WAIT)
    assert [(o.name, o.status) for o in outcome] == [("spare_parts.json", "added")]
    assert kb.store.get_source("spare_parts.json").chunks == 600
    assert kb.search("Is spare part 77 in stock?", 1)[0].source == "spare_parts.json"


def test_searches_keep_working_through_a_reindex_and_a_write_waits_for_it(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "store", embedding_provider="fake", parse_isolation=False)
    embeddings = GatedEmbeddings()
    kb = KnowledgeBase(settings, embeddings=embeddings)
    assert kb.ingest_paths([DATA / "faq" / "store_faq.json", DATA / "policies" / "shipping_guide.txt"]).ok
    late = tmp_path / "late.json"
    late.write_text(json.dumps({"questions": [{"question": "Do you sell gift wrap?", "answer": "Yes."}]}))

    report: list = []
    embeddings.armed = True
    reindex = threading.Thread(target=lambda: report.append(kb.reindex()))
    reindex.start()
    assert embeddings.inside.wait(WAIT), "the reindex never started embedding"
    upload_done = threading.Event()
    upload = threading.Thread(target=lambda: (kb.ingest_file(late), upload_done.set()))
    upload.start()  # arrives mid-reindex: must wait for it and not be lost in the swap

    for _ in range(5):  # the reindex is held inside its embedding step: these searches overlap it
        hits = kb.search("Do gift cards expire?", 1)
        assert "gift-cards" in hits[0].metadata["doc_id"]
    assert reindex.is_alive() and not upload_done.is_set(), "the write did not wait for the reindex"

    embeddings.release.set()
    reindex.join(timeout=WAIT)
    upload.join(timeout=WAIT)
    assert report[0].ok and upload_done.is_set()
    assert {s.source for s in kb.list_sources()} == {"store_faq.json", "shipping_guide.txt", "late.json"}
    assert kb.search("Do you sell gift wrap?", 1)[0].source == "late.json"
