"""Dense and hybrid (BM25 + dense, reciprocal-rank fusion) search over a `KnowledgeStore`."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import numpy as np

from base.language import detect_language, hit_language
from base.types import Hit
from providers.embeddings import embed_queries
from vectorstore.store import KnowledgeStore

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    _WORD.findall(
        "a an and are as at be by can could do does for from how i if in is it me my of "
        "on or our please the to we what when where which will with would you your"
    )
)
RRF_K = 60


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens without stop words, for BM25."""
    return [t for t in _WORD.findall(text.lower()) if t not in _STOP]


class BM25Index:
    """In-memory BM25 over the live chunks; rebuilt lazily after any write to the store."""

    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._bm25 = None
        self._ids: list[str] = []
        store.on_change(self.invalidate)

    def invalidate(self) -> None:
        with self._lock:
            self._bm25 = None

    def _ensure(self) -> None:
        from rank_bm25 import BM25Okapi

        with self._lock:
            if self._bm25 is None:
                chunks = self.store.get_chunks()
                self._ids = [c.id for c in chunks]
                corpus = [tokenize(c.text) or ["_"] for c in chunks]
                self._bm25 = BM25Okapi(corpus) if corpus else None

    def top(self, query: str, n: int) -> list[str]:
        """Ids of the `n` best chunks for `query` (only those with a positive score)."""
        self._ensure()
        if self._bm25 is None:
            return []
        scores = np.asarray(self._bm25.get_scores(tokenize(query)))
        order = np.argsort(-scores)[:n]
        return [self._ids[i] for i in order if scores[i] > 0]


def prefer_language(hits: list[Hit], lang: str, margins: dict[str, float]) -> list[Hit]:
    """`hits` re-ordered with the language's margin added to the chunks in the customer's language (scores
    unchanged).

    A store with the same entry in two languages holds twins that score almost alike once Spanish is glossed
    (base/translate.py): a customer should get the entry in their own language when it is about as good. English
    questions' answers are always in English entries, so their margin is wide; Spanish questions often need an
    English-only entry, so theirs is narrow (fitted on Spanish dev, eval/spanish_weights.py). The first hit is
    then what the decline gate judges and what the answer comes from. Dense mode only."""
    margin = margins.get(lang, 0.0)
    if margin <= 0 or len(hits) < 2:
        return hits
    return sorted(hits, key=lambda h: h.score + (margin if hit_language(h) == lang else 0.0), reverse=True)


class Searcher:
    """Runs queries against the store; `mode` is 'dense' or 'hybrid'. `language_margins`: see `prefer_language`."""

    EXTRA = 4  # candidates fetched beyond k so a same-language twin just below the cut can move up

    def __init__(
        self, store: KnowledgeStore, mode: str = "dense", language_margins: dict[str, float] | None = None
    ) -> None:
        if mode not in ("dense", "hybrid"):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        self.store = store
        self.mode = mode
        self.language_margins = {lang: m for lang, m in (language_margins or {}).items() if m > 0}
        self._bm25 = BM25Index(store) if mode == "hybrid" else None

    def search(self, query: str, k: int = 4) -> list[Hit]:
        """Best `k` chunks for one query, best first."""
        return self.search_many([query], k)[0]

    def search_many(self, queries: Sequence[str], k: int = 4) -> list[list[Hit]]:
        """Several queries with one embedding call (the CLI's --batch)."""
        if not queries:
            return []
        return self.search_embedded(queries, embed_queries(self.store.embeddings, queries), k)

    def search_embedded(
        self, queries: Sequence[str], vectors: Sequence[Sequence[float]], k: int = 4, batch: bool = False
    ) -> list[list[Hit]]:
        """Queries whose vectors are already known; `batch` asks the index once for all of them (dense mode)."""
        # The margins re-rank dense results by score; hybrid results are in fused-rank order, so they stay as fused.
        margins = self.language_margins if self._bm25 is None else {}
        fetch = k + self.EXTRA if margins else k
        if batch and self._bm25 is None:
            found = self.store.search_by_vectors(vectors, fetch)
        else:
            found = [self._search_vector(q, v, fetch) for q, v in zip(queries, vectors, strict=True)]
        scale = getattr(self.store.embeddings, "score_scale", None)
        if scale is not None:  # blended embeddings: report the weighted mean of the models' cosines
            for q, hits in zip(queries, found, strict=True):
                factor = scale(q)
                for hit in hits:
                    hit.score *= factor
        if margins:
            found = [prefer_language(h, detect_language(q), margins) for q, h in zip(queries, found, strict=True)]
        return [hits[:k] for hits in found]

    def _search_vector(self, query: str, vector: Sequence[float], k: int) -> list[Hit]:
        if self._bm25 is None:
            return self.store.search_by_vector(vector, k)
        pool = max(20, 4 * k)
        dense = self.store.search_by_vector(vector, pool)
        sparse_ids = self._bm25.top(query, pool)
        fused: dict[str, float] = {}
        for ranking in ([h.id for h in dense], sparse_ids):
            for rank, cid in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        by_id = {h.id: h for h in dense}
        missing = [cid for cid in best if cid not in by_id]
        if missing:  # BM25-only hits: fetch them and give them their real cosine score
            q = np.asarray(vector, dtype=np.float32)
            q /= max(float(np.linalg.norm(q)), 1e-12)
            vectors = self.store.get_vectors(missing)
            for hit in self.store.get_chunks(missing):
                hit.score = float(np.dot(q, vectors[hit.id]))
                by_id[hit.id] = hit
        return [by_id[cid] for cid in best if cid in by_id]
