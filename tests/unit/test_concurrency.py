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
    assert max(latencies) < 0.5, latencies  # nobody waited for the upload

    writer.join(timeout=60)
    assert [(o.name, o.status) for o in outcome] == [("spare_parts.json", "added")]
    assert kb.search("Is spare part 77 in stock?", 1)[0].metadata["answer"] == "Part 77 ships in 3 days."
