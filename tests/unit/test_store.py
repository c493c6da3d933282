"""KnowledgeStore / KnowledgeBase writes: idempotent ingest, atomic replace, delete, model guard, crash
safety and re-indexing."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from helpers import write_faq

from base import faults
from base.errors import StoreError, StoreWriteError
from base.settings import Settings
from loaders import load_file
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase
from vectorstore.store import KnowledgeStore


class CountingEmbeddings(HashingEmbeddings):
    """The fake embedder, recording what it embeds; optionally dies on the n-th embed_documents call."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.calls = 0
        self.fail_on_call = fail_on_call

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("embedding backend died")
        self.texts.extend(texts)
        return super().embed_documents(texts)


def chroma_ids(kb: KnowledgeBase) -> set[str]:
    return set(kb.store.collection().get(include=[])["ids"])


def manifest_ids(kb: KnowledgeBase) -> set[str]:
    ids: set[str] = set()
    for info in kb.store.list_sources(with_ids=True):
        ids.update(info.chunk_ids)
    return ids


def assert_consistent(kb: KnowledgeBase) -> None:
    """Chroma and the manifest's chunk copies hold exactly the chunks the manifest lists, and stats agree."""
    ids = chroma_ids(kb)
    assert ids == manifest_ids(kb) == kb.store.manifest.chunk_ids()
    assert len(ids) == kb.stats()["chunks"]


def edited(entries: list[dict]) -> list[dict]:
    """Version 2: one answer edited, the last entry removed."""
    new = copy.deepcopy(entries[:-1])
    new[1]["answer"] = "You now have 60 days."
    return new


# -- ingest / replace -----------------------------------------------------------------------------------


def test_ingest_same_file_twice_is_unchanged(kb: KnowledgeBase, tmp_path: Path, faq_entries: list[dict]) -> None:
    path = write_faq(tmp_path / "faq.json", faq_entries)
    first = kb.ingest_file(path)
    assert (first.status, first.documents, first.chunks, first.embedded, first.removed) == ("added", 6, 6, 6, 0)
    stats, sources, ids = kb.stats(), kb.list_sources(), chroma_ids(kb)

    second = kb.ingest_file(path)
    assert (second.status, second.documents, second.chunks, second.embedded, second.removed) == (
        "unchanged",
        6,
        6,
        0,
        0,
    )
    assert kb.stats() == stats == {"documents": 1, "chunks": 6}
    assert kb.list_sources() == sources
    assert chroma_ids(kb) == ids
    assert_consistent(kb)


def test_changed_file_replaces_old_chunks_and_embeds_only_the_edit(
    settings: Settings, tmp_path: Path, faq_entries: list[dict]
) -> None:
    embedder = CountingEmbeddings()
    kb = KnowledgeBase(settings, embeddings=embedder)
    path = write_faq(tmp_path / "faq.json", faq_entries)
    kb.ingest_file(path)
    old_ids = chroma_ids(kb)
    embedder.texts.clear()

    write_faq(path, edited(faq_entries))
    result = kb.ingest_file(path)

    assert (result.status, result.documents, result.chunks) == ("replaced", 5, 5)
    assert result.embedded == 1
    assert embedder.texts == [  # an English FAQ entry: its question, and its question with the answer
        "How long do I have to return an item?",
        "How long do I have to return an item?\nYou now have 60 days.",
    ]
    assert result.removed == 2  # the edited entry's old chunk and the removed entry
    assert kb.stats() == {"documents": 1, "chunks": 5}
    assert_consistent(kb)
    assert len(chroma_ids(kb) & old_ids) == 4  # untouched entries kept their ids and vectors

    texts = [c.text for c in kb.store.get_chunks()]
    assert not any("You have 30 days." in t for t in texts)
    assert any("You now have 60 days." in t for t in texts)
    hits = kb.search("Can I pick up my order in a store?", 10)
    assert hits and all(h.metadata.get("faq_id") != "pickup" for h in hits)
    assert all("Not yet, we ship only." not in h.text for h in hits)
    assert kb.search("How long do I have to return an item?", 1)[0].metadata["answer"] == "You now have 60 days."


def test_added_entry_is_the_only_one_embedded(settings: Settings, tmp_path: Path, faq_entries: list[dict]) -> None:
    embedder = CountingEmbeddings()
    kb = KnowledgeBase(settings, embeddings=embedder)
    path = write_faq(tmp_path / "faq.json", faq_entries)
    kb.ingest_file(path)
    embedder.texts.clear()
    write_faq(path, [*faq_entries, {"question": "Do you sell gift wrap?", "answer": "Yes, $4.99."}])
    result = kb.ingest_file(path)
    assert (result.status, result.embedded, result.removed, result.chunks) == ("replaced", 1, 0, 7)
    assert embedder.texts == ["Do you sell gift wrap?", "Do you sell gift wrap?\nYes, $4.99."]


def test_delete_source(kb: KnowledgeBase, tmp_path: Path, faq_entries: list[dict], demo_copy) -> None:
    faq = write_faq(tmp_path / "faq.json", faq_entries)
    guide = demo_copy("policies/shipping_guide.txt")
    kb.ingest_paths([faq, guide])
    guide_chunks = kb.store.get_source("shipping_guide.txt").chunks
    assert (kb.store.files_dir / "faq.json").exists()

    assert kb.delete("faq.json") == 6
    assert [s.source for s in kb.list_sources()] == ["shipping_guide.txt"]
    assert kb.stats() == {"documents": 1, "chunks": guide_chunks}
    assert_consistent(kb)
    assert not (kb.store.files_dir / "faq.json").exists()
    assert all(h.source == "shipping_guide.txt" for h in kb.search("Do you offer free shipping?", 5))
    assert kb.delete("faq.json") == 0
    assert kb.delete("never-ingested.csv") == 0


def test_list_sources_and_stats(kb: KnowledgeBase, tmp_path: Path, faq_entries: list[dict], demo_copy) -> None:
    assert kb.stats() == {"documents": 0, "chunks": 0}
    assert kb.list_sources() == []
    faq = write_faq(tmp_path / "faq.json", faq_entries)
    md = demo_copy("policies/terms_and_policies.md")
    kb.ingest_paths([faq, md])
    md_chunks = len(load_file(md))
    infos = {s.source: s for s in kb.list_sources()}
    assert set(infos) == {"faq.json", "terms_and_policies.md"}
    assert (infos["faq.json"].doc_type, infos["faq.json"].documents, infos["faq.json"].chunks) == ("faq", 6, 6)
    md_info = infos["terms_and_policies.md"]
    assert (md_info.doc_type, md_info.documents, md_info.chunks) == ("document", 1, md_chunks)
    assert md_chunks > 10
    assert kb.stats() == {"documents": 2, "chunks": 6 + md_chunks}
    assert_consistent(kb)


def test_embedding_model_mismatch_is_refused(
    kb: KnowledgeBase, settings: Settings, tmp_path: Path, faq_entries: list[dict]
) -> None:
    path = write_faq(tmp_path / "faq.json", faq_entries)
    kb.ingest_file(path)
    other = KnowledgeBase(settings, embeddings=HashingEmbeddings(dim=64))
    message = (
        r"built with embedding model 'fake-hashing-256' but the app is configured with 'fake-hashing-64'; "
        r"run `python cli\.py reindex`"
    )
    with pytest.raises(StoreError, match=message):
        other.search("Do you offer free shipping?")
    write_faq(path, edited(faq_entries))
    with pytest.raises(StoreError, match=message):
        other.ingest_file(path)
    assert kb.stats() == {"documents": 1, "chunks": 6}
    assert kb.search("How long do I have to return an item?", 1)[0].metadata["answer"] == "You have 30 days."


# -- crash safety ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("crash", ["embedding-fails-on-2nd-batch", "manifest-switch-fails"])
def test_crash_mid_ingest_keeps_old_version_and_orphans_are_swept(
    crash: str, kb: KnowledgeBase, tmp_path: Path, faq_entries: list[dict]
) -> None:
    path = write_faq(tmp_path / "faq.json", faq_entries)
    kb.ingest_file(path)
    before_sources = kb.list_sources()
    v2 = copy.deepcopy(faq_entries)
    for entry in v2[:4]:
        entry["answer"] += " (v2)"
    write_faq(path, v2)
    docs = load_file(path)

    # A second writer (another process, in effect) crashes half-way through ingesting v2.
    if crash == "embedding-fails-on-2nd-batch":
        writer = KnowledgeStore(kb.store_dir, CountingEmbeddings(fail_on_call=2))
        error = RuntimeError
    else:
        writer = KnowledgeStore(kb.store_dir, HashingEmbeddings())
        error = StoreWriteError  # the injected OSError, reported as one write error
    with pytest.raises(error), faults.injected("store.before_switch=raise"):
        writer.upsert_source("faq.json", docs, sha256="v2", batch_size=2)

    orphans = chroma_ids(kb) - manifest_ids(kb)
    assert len(orphans) == (2 if crash == "embedding-fails-on-2nd-batch" else 4)
    # Readers (this one and a fresh one) see only the old version, complete.
    fresh = KnowledgeBase(kb.settings, embeddings=HashingEmbeddings())
    for reader in (kb, fresh):
        assert reader.list_sources() == before_sources
        assert reader.stats() == {"documents": 1, "chunks": 6}
        for entry in faq_entries:
            top = reader.search(entry["question"], 1)[0]
            assert top.metadata["answer"] == entry["answer"]
        hits = reader.search("free shipping return gift cards price warranty pickup", 20)
        assert {h.id for h in hits} <= manifest_ids(kb)
        assert not any("(v2)" in h.text for h in hits)

    # The next successful ingest sweeps the orphans.
    if crash == "embedding-fails-on-2nd-batch":
        other = write_faq(tmp_path / "other.json", [{"question": "Do you sell gift wrap?", "answer": "Yes."}])
        assert kb.ingest_file(other).status == "added"
        assert kb.stats() == {"documents": 2, "chunks": 7}
    else:
        assert kb.ingest_file(path).status == "replaced"
        assert kb.search(faq_entries[0]["question"], 1)[0].metadata["answer"].endswith("(v2)")
    assert not (kb.store_dir / "ingest.inprogress").exists()
    assert_consistent(kb)


# -- reindex --------------------------------------------------------------------------------------------


def _two_sources(kb: KnowledgeBase, tmp_path: Path, faq_entries: list[dict], demo_copy) -> list[Path]:
    paths = [write_faq(tmp_path / "faq.json", faq_entries), demo_copy("policies/shipping_guide.txt")]
    assert kb.ingest_paths(paths).ok
    return paths


def test_reindex_rebuilds_from_kept_copies_with_a_new_model(
    kb: KnowledgeBase, settings: Settings, tmp_path: Path, faq_entries: list[dict], demo_copy
) -> None:
    paths = _two_sources(kb, tmp_path, faq_entries, demo_copy)
    before = {(s.source, s.sha256, s.chunks, s.documents) for s in kb.list_sources()}
    top_before = [h.id for h in kb.search("How long do I have to return an item?", 1)]
    for p in paths:  # the originals are gone: only the store's kept copies remain
        p.unlink()

    new_model = KnowledgeBase(settings, embeddings=HashingEmbeddings(dim=64))
    with pytest.raises(StoreError):
        new_model.search("anything")
    report = new_model.reindex()

    assert report.ok and {r.source for r in report.done} == {"faq.json", "shipping_guide.txt"}
    assert {(s.source, s.sha256, s.chunks, s.documents) for s in new_model.list_sources()} == before
    col = new_model.store.collection()
    assert col.metadata["embedding_id"] == "fake-hashing-64"
    assert len(col.get(limit=1, include=["embeddings"])["embeddings"][0]) == 64
    assert new_model.search("How long do I have to return an item?", 1)[0].id == top_before[0]
    assert_consistent(new_model)
    # The rebuilt store takes writes (Chroma must not keep serving the replaced directory).
    extra = write_faq(tmp_path / "extra.json", [{"question": "Do you sell gift wrap?", "answer": "Yes."}])
    assert new_model.ingest_file(extra).status == "added"
    assert new_model.search("Do you sell gift wrap?", 1)[0].source == "extra.json"
    assert_consistent(new_model)
    siblings = sorted(p.name for p in kb.store_dir.parent.iterdir() if p.name.startswith(kb.store_dir.name))
    assert siblings == [kb.store_dir.name]


def test_reindex_in_place_keeps_the_store_usable(
    kb: KnowledgeBase, tmp_path: Path, faq_entries: list[dict], demo_copy
) -> None:
    _two_sources(kb, tmp_path, faq_entries, demo_copy)
    stats = kb.stats()
    ids = chroma_ids(kb)
    report = kb.reindex()
    assert report.ok and kb.stats() == stats
    assert chroma_ids(kb) == ids
    write_faq(tmp_path / "faq.json", edited(faq_entries))
    assert kb.ingest_file(tmp_path / "faq.json").status == "replaced"
    assert_consistent(kb)
    # Another KnowledgeBase on the same directory sees the same live version.
    reader = KnowledgeBase(kb.settings, embeddings=HashingEmbeddings())
    assert reader.stats() == kb.stats()
    assert reader.search("How long do I have to return an item?", 1)[0].metadata["answer"] == "You now have 60 days."


def test_reindex_keeps_the_old_store_when_a_kept_file_no_longer_loads(
    kb: KnowledgeBase, settings: Settings, tmp_path: Path, faq_entries: list[dict], demo_copy
) -> None:
    _two_sources(kb, tmp_path, faq_entries, demo_copy)
    sources, ids = kb.list_sources(), chroma_ids(kb)
    kept = sorted(p.name for p in kb.store.files_dir.iterdir())
    # The limit is now below the size of the kept shipping guide, and the model changed too.
    strict = KnowledgeBase(settings.model_copy(update={"max_file_bytes": 2000}), embeddings=HashingEmbeddings(64))

    report = strict.reindex()

    assert [name for name, _ in report.failed] == ["shipping_guide.txt"]
    assert report.failed[0][1].startswith("file is too large")
    assert kb.list_sources() == sources
    assert chroma_ids(kb) == ids
    assert sorted(p.name for p in kb.store.files_dir.iterdir()) == kept
    assert kb.search("Do you offer free shipping?", 1)[0].metadata["faq_id"] == "free-shipping"
    siblings = sorted(p.name for p in kb.store_dir.parent.iterdir() if p.name.startswith(kb.store_dir.name))
    assert siblings == [kb.store_dir.name]


def test_reindex_of_an_empty_store(kb: KnowledgeBase) -> None:
    report = kb.reindex()
    assert report.ok and report.done == []
    assert kb.store_dir.is_dir()
    assert kb.stats() == {"documents": 0, "chunks": 0}
    assert kb.search("anything") == []


@pytest.mark.parametrize("damage", ["stale-copy", "missing-copy"])
def test_reindex_refuses_a_kept_copy_that_is_not_the_stored_version(
    damage: str, kb: KnowledgeBase, tmp_path: Path, faq_entries: list[dict], demo_copy
) -> None:
    """E.g. a crash between the manifest switch and the copy: reindexing must not bring back old prices
    or drop a document without saying so."""
    _two_sources(kb, tmp_path, faq_entries, demo_copy)
    sources, ids = kb.list_sources(), chroma_ids(kb)
    copy = kb.store.files_dir / "faq.json"
    if damage == "stale-copy":
        write_faq(copy, edited(faq_entries))
    else:
        copy.unlink()
    report = kb.reindex()
    reason = "does not match the stored version" if damage == "stale-copy" else "kept copy is missing"
    assert report.done == [] and report.failed[0][0] == "faq.json" and reason in report.failed[0][1]
    assert kb.list_sources() == sources and chroma_ids(kb) == ids


def test_kept_copies_follow_ingest_and_delete(kb: KnowledgeBase, tmp_path: Path, faq_entries: list[dict]) -> None:
    path = write_faq(tmp_path / "faq.json", faq_entries)
    kb.ingest_file(path)
    assert sorted(p.name for p in kb.store.files_dir.iterdir()) == ["faq.json"]  # no .incoming left
    write_faq(path, edited(faq_entries))
    kb.ingest_file(path)
    assert (kb.store.files_dir / "faq.json").read_bytes() == path.read_bytes()
    kb.delete("faq.json")
    assert list(kb.store.files_dir.iterdir()) == []


def test_an_english_faq_entry_is_embedded_with_its_answer_and_a_spanish_one_by_its_question() -> None:
    from langchain_core.documents import Document

    from vectorstore.views import embed_chunks, embedding_views

    answer = "You have 45 days to send items back."
    en = Document("Q: Returns window", metadata={"type": "faq", "question": "Returns window", "answer": answer})
    question = "¿Cuánto tarda el envío a México?"
    es = Document("Q: ...", metadata={"type": "faq", "question": question, "answer": "5 días."})
    doc = Document("Shipping guide text.", metadata={"type": "document"})
    assert embedding_views(en) == ["Returns window", "Returns window\nYou have 45 days to send items back."]
    assert embedding_views(es) == ["¿Cuánto tarda el envío a México?"]
    assert embedding_views(doc) == ["Shipping guide text."]
    emb = HashingEmbeddings()
    vectors = embed_chunks(emb, [en, es, doc])
    views = np.asarray(emb.embed_documents(embedding_views(en)))
    expected = views.sum(axis=0) / np.linalg.norm(views.sum(axis=0))
    assert np.allclose(vectors[0], expected, atol=1e-6)
    assert np.allclose(vectors[2], emb.embed_documents(["Shipping guide text."])[0], atol=1e-6)


def test_a_blend_adds_the_answer_only_in_the_models_that_serve_english_queries() -> None:
    from providers.embeddings import BlendEmbeddings

    parts = {"a": HashingEmbeddings(64), "b": HashingEmbeddings(32)}
    blend = BlendEmbeddings(parts, {"en": {"a": 1.0}, "es": {"b": 1.0}})
    views = np.asarray(blend.embed_documents(["Returns window", "Returns window\nYou have 45 days."]))
    vector = blend.combine_views(views)
    a, b = vector[:64], vector[64:]
    summed = views[0, :64] + views[1, :64]
    assert np.allclose(a, summed / np.linalg.norm(summed) / np.sqrt(2), atol=1e-6)
    assert np.allclose(b, views[0, 64:] / np.linalg.norm(views[0, 64:]) / np.sqrt(2), atol=1e-6)  # question only
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-6)


def test_a_blends_multilingual_model_reads_a_products_brief_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """With PRODUCT_BRIEF_CHARS set, e5 (the multilingual part) embeds the product's fields with less description,
    the other parts the usual view; a change of the brief changes the chunk id, so a re-upload re-embeds."""
    from langchain_core.documents import Document

    import vectorstore.views as store
    from providers.embeddings import BlendEmbeddings

    seen: dict[str, list[str]] = {"en": [], "e5": []}

    class Recording(HashingEmbeddings):
        def __init__(self, name: str) -> None:
            super().__init__(32)
            self.name = name

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            seen[self.name] += [str(t) for t in texts]
            return super().embed_documents(texts)

    meta = {"type": "product", "doc_id": "product:A1", "name": "Trail Tent", "category": "Tents",
            "description": "Sleeps two. Weighs 1.2 kg with poles and pegs, packs down small."}  # fmt: skip
    product = Document("Product: Trail Tent", metadata=meta)
    monkeypatch.setattr(store, "PRODUCT_VIEW_CHARS", 40)
    before = store.chunk_ids_for([product])
    monkeypatch.setattr(store, "PRODUCT_BRIEF_CHARS", 0)
    blend = BlendEmbeddings({"en": Recording("en"), "e5": Recording("e5")}, {"en": {"en": 1.0}, "es": {"e5": 1.0}})
    store.embed_chunks(blend, [product])
    assert seen["en"] == ["Product: Trail Tent\nCategory: Tents\nSleeps two. Weighs 1.2 kg with poles"]
    assert seen["e5"] == ["Product: Trail Tent\nCategory: Tents"]
    assert store.chunk_ids_for([product]) != before
    plain = HashingEmbeddings(32)  # any other embedder reads the view itself
    assert np.allclose(store.embed_chunks(plain, [product])[0], plain.embed_documents([seen["en"][0]])[0])


def test_a_full_disk_reads_as_one_in_every_layers_wording() -> None:
    """SQLite, Chroma's Rust index and the C library each say "disk full" differently; staff get one sentence."""
    import errno

    from chromadb.errors import InternalError

    from vectorstore.store import io_reason

    assert "disk is full" in io_reason(OSError(errno.EFBIG, "File too large"))
    assert "disk is full" in io_reason(InternalError("Error in compaction: File too large (os error 27)"))
    assert "disk is full" in io_reason(InternalError("database or disk is full"))
    assert io_reason(InternalError("Error in compaction: Failed to apply logs")).endswith("check the free disk space")
    assert "disk" not in io_reason(ValueError("bad value"))
