"""The shipped offline default on a shop it was never tuned on: staff upload another store's FAQ through the admin
upload path, and that shop's customers get answers from it instead of the contact-us decline.

Every other assistant test runs the hashing fake; this one runs what `make run` ships: the blend embedder with
the adapted MiniLM (`make embedder`, a dependency of `make test`), the FAQ answer view, and the decline gate's
shipped threshold. Questions: the TEST half of eval/stores/kibble (never fitted on; eval/stores.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from base.paths import ROOT
from base.settings import Settings
from eval.stores import stores
from providers.embeddings import resolve_minilm_dir
from services.assistant import Assistant
from services.knowledge import KnowledgeBase
from services.uploads import ingest_uploads

pytestmark = pytest.mark.integration

STORE = "kibble"
# Bounds sit a few questions under what the shipped default measured (README, "Answering on a store it was not
# tuned on": 64.5% right, 21.0% wrongly declined, 94.4% of no-answer questions declined); the previous default
# (question-only vectors, adapted weight 0.7, threshold 0.55: 51.6% right, 32.3% wrongly declined) fails them.
MIN_RIGHT = 0.60
MAX_WRONGLY_DECLINED = 0.27
MIN_NO_ANSWER_DECLINED = 0.85


def test_another_shops_questions_are_answered_from_its_uploaded_faq(tmp_path: Path) -> None:
    settings = Settings(embedding_provider="blend", store_dir=tmp_path / "store", feedback_db=tmp_path / "log.db")
    assert resolve_minilm_dir(settings) == Path(settings.adapted_model_dir), "run `make embedder` first"
    kb = KnowledgeBase(settings)
    faq = ROOT / "eval" / "stores" / STORE / "knowledge" / "faq.json"
    [outcome] = ingest_uploads(kb, [("faq.json", faq.read_bytes())])
    assert outcome.status == "added", outcome.reason

    assistant = Assistant(settings, kb)
    questions = [q for q in stores()[STORE].questions() if q["split"] == "test"]
    counts = {"right": 0, "wrong": 0, "wrongly_declined": 0, "declined": 0, "answered": 0}
    misses = []
    for n, q in enumerate(questions):
        answer = assistant.ask(q["query"], session_id=f"customer-{n}")  # a fresh conversation per question
        top = answer.sources[0].doc_id if answer.sources else None
        if not q["relevant"]:
            counts["declined" if answer.declined else "answered"] += 1
        elif answer.declined:
            counts["wrongly_declined"] += 1
            misses.append(f"declined: {q['query']}")
        elif top in q["relevant"]:
            counts["right"] += 1
        else:
            counts["wrong"] += 1
            misses.append(f"wrong ({top}): {q['query']}")
    answerable = counts["right"] + counts["wrong"] + counts["wrongly_declined"]
    no_answer = counts["declined"] + counts["answered"]
    assert answerable >= 50 and no_answer >= 10
    report = f"{counts}\n" + "\n".join(misses)
    assert counts["right"] / answerable >= MIN_RIGHT, report
    assert counts["wrongly_declined"] / answerable <= MAX_WRONGLY_DECLINED, report
    assert counts["declined"] / no_answer >= MIN_NO_ANSWER_DECLINED, report
