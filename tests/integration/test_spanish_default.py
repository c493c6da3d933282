"""Spanish questions on the shipped offline default: multilingual e5 on the original words plus the English
models on the question glossed into English (base/translate.py), with the fitted weights and language margins.

The issue that started this: "¿cuánto tarda el envío a México?" was answered with the US delivery times. The
store is the demo FAQ in both languages. The bounds on the 40-question set sit a few questions under what the
shipped default measured on it (it is a Spanish DEV set: eval/sets/README.md); e5 alone, the previous default,
fails them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import resolve_minilm_dir
from services.assistant import Assistant
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration

MEXICO = {"faq:preguntas_frecuentes.csv:es-shipping-canada-mexico", "faq:store_faq.json:shipping-canada-mexico"}
MIN_RIGHT = 0.72  # measured 31/40 right; e5 alone with its old 0.85 threshold: 26/40, and Mexico answered wrong
MIN_SPANISH_ENTRY = 0.55  # measured: the Spanish entry for 26 of the 39 questions that have one


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    tmp = tmp_path_factory.mktemp("spanish")
    settings = Settings(embedding_provider="blend", store_dir=tmp / "store", feedback_db=tmp / "log.db")
    assert resolve_minilm_dir(settings) == Path(settings.adapted_model_dir), "run `make embedder` first"
    kb = KnowledgeBase(settings)
    report = kb.ingest_paths([ROOT / "data" / "faq"])
    assert report.ok, report.failed
    return Assistant(settings, kb)


def test_delivery_time_to_mexico_comes_from_the_mexico_entry(assistant: Assistant) -> None:
    answer = assistant.ask("¿cuánto tarda el envío a México?", session_id="es-mexico")
    assert not answer.declined
    assert answer.sources[0].doc_id in MEXICO, [h.doc_id for h in answer.sources]
    assert "14" in answer.answer  # 7 to 14 business days


def test_spanish_questions_are_answered_from_a_relevant_entry(assistant: Assistant) -> None:
    lines = (ROOT / "eval" / "sets" / "queries_es_fresh.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [q for q in map(json.loads, lines) if q["kind"] == "faq"]
    right = spanish = wants_spanish = 0
    misses = []
    for n, q in enumerate(questions):
        answer = assistant.ask(q["query"], session_id=f"es-{n}")
        top = answer.sources[0].doc_id if answer.sources and not answer.declined else None
        right += top in q["relevant"]
        if any("preguntas" in r for r in q["relevant"]):
            wants_spanish += 1
            spanish += bool(top and "preguntas" in top)
        if top not in q["relevant"]:
            misses.append(f"{top}: {q['query']}")
    report = f"right {right}/{len(questions)}, Spanish entry {spanish}/{wants_spanish}\n" + "\n".join(misses)
    assert right / len(questions) >= MIN_RIGHT, report
    assert spanish / wants_spanish >= MIN_SPANISH_ENTRY, report
