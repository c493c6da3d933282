"""Spanish glossing for the English-only models, and preferring the customer's language among near-equal hits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from base import translate
from base.translate import GLOSSARY, fold, gloss_to_english
from base.types import Hit
from providers.embeddings import BlendEmbeddings, HashingEmbeddings, embedding_id
from vectorstore.retrieval import prefer_language


def test_glossary_keys_are_folded_lower_case_words() -> None:
    words = json.loads(GLOSSARY.read_text(encoding="utf-8"))
    assert len(words) > 1000
    bad = [k for k in words if k != fold(k) or not k.isalnum()]
    assert bad == []
    assert all(len(v.split()) <= 3 for v in words.values())


def test_gloss_reads_accents_and_keeps_unknown_names() -> None:
    out = gloss_to_english("Olvidé mi contraseña, ¿dónde veo mi pedido Brodie-7?")
    assert "password" in out and "order" in out
    assert "brodie" in out and "7" in out  # names and numbers pass through
    assert "el" not in gloss_to_english("el envío").split()  # articles carry nothing


def test_gloss_corrects_one_edit_typos_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gloss_to_english("envio") == gloss_to_english("enbio")
    monkeypatch.setattr(translate, "FUZZY_EDITS", 0)
    translate._word.cache_clear()
    try:
        assert gloss_to_english("enbio") == "enbio"
    finally:
        translate._word.cache_clear()


def test_blend_glosses_spanish_for_english_only_models() -> None:
    a, e5 = HashingEmbeddings(32), HashingEmbeddings(16)
    weights = {"en": {"a": 1.0}, "es": {"a": 0.5, "e5": 0.5}}
    blend = BlendEmbeddings({"a": a, "e5": e5}, weights, gloss_spanish=True)
    spanish, english = "¿cuánto tarda el envío?", "how long does shipping take"
    assert blend.model_texts("a", [spanish, english]) == [gloss_to_english(spanish), english]
    assert blend.model_texts("e5", [spanish]) == [spanish]  # the multilingual model reads the original
    vec = np.asarray(blend.embed_query(spanish))
    expected = np.asarray(a.embed_query(gloss_to_english(spanish))) * 0.5
    assert np.allclose(vec[:32], expected, atol=1e-6)
    doc = np.asarray(blend.embed_documents([spanish])[0])
    assert np.allclose(doc[:32] * np.sqrt(2), a.embed_documents([gloss_to_english(spanish)])[0], atol=1e-6)
    assert "|gloss=" in embedding_id(blend)  # a store built without glossing is never mixed with one built with it
    plain = BlendEmbeddings({"a": a, "e5": e5}, weights)
    assert plain.model_texts("a", [spanish]) == [spanish] and "gloss" not in embedding_id(plain)


def _hit(question: str, score: float) -> Hit:
    return Hit(question, question, "faq.csv", score, {"type": "faq", "question": question})


def test_prefer_language_moves_a_near_equal_twin_up_only() -> None:
    english, spanish = _hit("How long does delivery take?", 0.80), _hit("¿Cuánto tarda en llegar mi pedido?", 0.79)
    other = _hit("Can I pay with PayPal?", 0.70)
    hits = [english, spanish, other]
    assert prefer_language(hits, "es", {"es": 0.02}) == [spanish, english, other]
    assert prefer_language(hits, "es", {"es": 0.005}) == hits  # a twin further behind than the margin stays behind
    assert prefer_language(hits, "en", {"en": 0.05, "es": 0.02}) == hits
    assert prefer_language(hits, "es", {"en": 0.05}) == hits  # no margin for the language: order kept
    assert [h.score for h in prefer_language(hits, "es", {"es": 0.02})] == [0.79, 0.80, 0.70]  # scores unchanged
    assert prefer_language([spanish, english], "en", {"en": 0.05}) == [english, spanish]
