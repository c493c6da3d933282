"""The stores the answer evaluation runs on, and a cache of their search results.

`demo` is the project's own store (data/); the others (eval/stores/<name>/: knowledge/ and questions.jsonl) are
independent shops written for the leave-one-store-out evaluation (each folder's README says by whom).
Every question carries a split: demo's come from the dev/test sets; another store's are split by the FAQ entry
they ask about (a stable hash), so no entry has questions on both sides.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from base.paths import ROOT
from base.settings import Settings

SETS = ROOT / "eval" / "sets"
STORES_DIR = ROOT / "eval" / "stores"
CACHE = ROOT / "eval" / "cache"


@dataclass(frozen=True)
class Store:
    name: str
    knowledge: tuple[Path, ...]

    def questions(self) -> list[dict]:
        """Every labelled question of the store, each with `split` (dev | test), `kind` and `lang`."""
        return _demo_questions() if self.name == "demo" else _other_questions(STORES_DIR / self.name)


def stores() -> dict[str, Store]:
    found = {"demo": Store("demo", (ROOT / "data",))}
    for folder in sorted(STORES_DIR.glob("*/")):
        if (folder / "questions.jsonl").exists():
            found[folder.name] = Store(folder.name, (folder / "knowledge",))
    return found


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _demo_questions() -> list[dict]:
    out = []
    sets = (
        ("dev.jsonl", "dev"),
        ("test_clean.jsonl", "test"),  # the test without utterances that leak from train/dev (eval/leakage.py)
        ("coverage_test.jsonl", "test"),  # two questions per FAQ entry, written from a topic line only
        ("queries_es.jsonl", "dev"),
        ("queries_es_fresh.jsonl", "dev"),  # seen while choosing the Spanish glossing weight
        ("queries_es_fresh2.jsonl", "test"),
    )
    for name, split in sets:
        for item in _read(SETS / name):
            out.append({**item, "split": split, "lang": "es" if "_es" in name else "en"})
    for item in _read(SETS / "out_of_scope.jsonl"):
        out.append({**item, "split": "dev" if item["split"] == "dev" else "test", "lang": "en"})
    for item in _read(SETS / "out_of_scope_es.jsonl"):
        out.append({**item, "lang": "es"})
    return out


def entry_split(key: str) -> str:
    """dev or test for one FAQ entry (or one out-of-scope question), stable across runs and machines."""
    return "dev" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "test"


def _other_questions(folder: Path) -> list[dict]:
    out = []
    for item in _read(folder / "questions.jsonl"):
        key = item["relevant"][0] if item["relevant"] else item["query"]
        out.append({**item, "split": entry_split(key), "lang": item.get("lang", "en")})
    return out


@contextmanager
def built(store: Store, settings: Settings) -> Iterator:
    """A fresh copy of the store in a temporary directory, with `settings` (calibration off), closed after use."""
    from services.knowledge import KnowledgeBase

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(settings.model_copy(update={"store_dir": Path(tmp) / "store", "decline_calibration": False}))
        report = kb.ingest_paths(list(store.knowledge))
        if not report.ok:
            raise SystemExit(f"{store.name}: ingest failed: {report.failed}")
        try:
            yield kb
        finally:
            kb.store.close()


def chunk_cosines(
    store: Store, questions: list[dict], settings: Settings, models: tuple[str, ...] | None = None
) -> dict:
    """Each blend model's cosine between every question, as that model reads it (`BlendEmbeddings.model_texts`:
    glossed for English-only models when the settings gloss Spanish), and every live chunk of a fresh copy of the
    store; with each chunk's doc id and language. Any weighting of the models is then scored without embedding
    again (eval/blend_weights.py, eval/spanish_weights.py). `models`: only these (default: all)."""
    from base.language import chunk_language
    from providers.embeddings import BlendEmbeddings, embed_queries

    with built(store, settings) as kb:
        emb = kb.embeddings
        if not isinstance(emb, BlendEmbeddings) or "adapted" not in emb.parts:
            raise SystemExit("needs the blend with the adapted model: run `make embedder` first")
        active = set(kb.store.active_ids())
        data = kb.store.collection().get(include=["embeddings", "metadatas", "documents"])
    keep = [i for i, cid in enumerate(data["ids"]) if cid in active]
    out: dict = {
        "doc_ids": [data["metadatas"][i]["doc_id"] for i in keep],
        "langs": [chunk_language(data["metadatas"][i], data["documents"][i]) for i in keep],
    }
    texts = [q["query"] for q in questions]
    for name, block in emb.split(np.asarray(data["embeddings"], dtype=np.float32)[keep]).items():
        if models is None or name in models:
            block = block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
            q = np.asarray(embed_queries(emb.parts[name], emb.model_texts(name, texts)), dtype=np.float32)
            out[name] = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ block.T
    return out


def search_results(store: Store, queries: list[str], k: int = 5, refresh: bool = False) -> dict[str, list[dict]]:
    """Top-`k` hits (doc id, type, score) of every query on a fresh copy of the store with the shipped offline
    embedder; cached under eval/cache/ by store content, embedder and queries."""
    settings = Settings()
    digest = hashlib.sha256()
    for path in store.knowledge:
        for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if f.is_file():
                digest.update(f.name.encode() + f.read_bytes())
    from base.translate import glossary_id
    from providers.embeddings import _model_fingerprint, resolve_minilm_dir
    from vectorstore import views as store_module

    model = _model_fingerprint(resolve_minilm_dir(settings))  # base or adapted MiniLM
    key = [
        settings.embedding_provider,
        settings.blend_weights,
        settings.gloss_spanish and glossary_id(),
        settings.language_margins,
        model,
        k,
        store_module.FAQ_ANSWER_VIEW,
        sorted(set(queries)),
    ]
    digest.update(json.dumps(key).encode())
    cache = CACHE / f"{store.name}-{digest.hexdigest()[:16]}.json"
    if cache.exists() and not refresh:
        return json.loads(cache.read_text(encoding="utf-8"))
    unique = sorted(set(queries))
    with built(store, settings) as kb:
        hits = kb.search_many(unique, k)
    out = {
        q: [{"doc_id": h.doc_id, "type": h.kind, "score": round(h.score, 6)} for h in hs]
        for q, hs in zip(unique, hits, strict=True)
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out), encoding="utf-8")
    return out
