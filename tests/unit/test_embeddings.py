"""Embedding providers: the blend's arithmetic and language routing, provider selection, ids."""

from __future__ import annotations

import numpy as np
import pytest

from base.language import detect_language
from base.settings import Settings
from providers.embeddings import BlendEmbeddings, HashingEmbeddings, build_embeddings, embed_queries, embedding_id


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("¿Cuánto cuesta el envío a Monterrey?", "es"),
        ("cuanto tarda en llegar mi pedido", "es"),
        ("kiero devolver una compra", "es"),
        ("how long does shipping take", "en"),
        ("i wanna cancel order 1234", "en"),
        ("edit info o Gold account", "en"),
        ("", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_blend_cosine_is_weighted_mean_of_part_cosines() -> None:
    p1, p2 = HashingEmbeddings(64), HashingEmbeddings(32)
    blend = BlendEmbeddings({"a": p1, "b": p2}, {"en": {"a": 0.3, "b": 0.7}, "es": {"b": 1.0}})
    doc, query = "free shipping on orders over fifty dollars", "is shipping free"
    expected = 0.3 * _cos(p1.embed_query(query), p1.embed_query(doc)) + 0.7 * _cos(
        p2.embed_query(query), p2.embed_query(doc)
    )
    got = _cos(blend.embed_query(query), blend.embed_documents([doc])[0]) * blend.score_scale(query)
    assert got == pytest.approx(expected, abs=1e-5)


def test_blend_routes_spanish_queries_to_their_weights() -> None:
    p1, p2 = HashingEmbeddings(64), HashingEmbeddings(32)
    blend = BlendEmbeddings({"a": p1, "b": p2}, {"en": {"a": 1.0}, "es": {"b": 1.0}})
    es, en = blend.embed_queries(["¿cuánto cuesta el envío?", "how much is shipping"])
    assert np.allclose(es[:64], 0) and not np.allclose(es[64:], 0)
    assert np.allclose(en[64:], 0) and not np.allclose(en[:64], 0)
    assert blend.embed_query("how much is shipping") == en


def test_blend_rejects_all_zero_weights() -> None:
    with pytest.raises(ValueError, match="all zero"):
        BlendEmbeddings({"a": HashingEmbeddings()}, {"en": {"missing": 1.0}})


def test_blend_id_names_every_part() -> None:
    blend = BlendEmbeddings({"a": HashingEmbeddings(8), "b": HashingEmbeddings(16)}, {"en": {"a": 1}})
    assert embedding_id(blend) == "blend[a=fake-hashing-8|b=fake-hashing-16]"


def test_embed_queries_falls_back_to_one_by_one() -> None:
    emb = HashingEmbeddings()
    assert embed_queries(emb, ["a b", "c"]) == [emb.embed_query("a b"), emb.embed_query("c")]


def test_build_embeddings_fake_and_openai_need_no_network() -> None:
    assert isinstance(build_embeddings(Settings(embedding_provider="fake")), HashingEmbeddings)
    emb = build_embeddings(
        Settings(embedding_provider="openai", openai_api_key="k", openai_base_url="http://127.0.0.1:9/v1")
    )
    assert embedding_id(emb) == "OpenAIEmbeddings:text-embedding-3-small"
