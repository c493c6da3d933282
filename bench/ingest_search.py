"""Ingest throughput and search latency of the knowledge store (prints a table; not a test).

1. Ingest: time to ingest N real-looking chunks through KnowledgeBase.ingest_file (parse + embed + store)
   against the raw embedding model alone on the same texts (goal: ingest >= 80% of raw throughput).
2. Search latency p50/p95 at 1k, 10k and 100k chunks: the store is filled with vectors derived from real
   chunk embeddings plus noise (embedding 100k texts would take ~10 minutes and measure the model, not the
   store), then queried with real query embeddings. Reported: vector search alone, and end to end with the
   query embedding.
3. Peak memory (max RSS) of the process.

Usage: .venv/bin/python -m bench.ingest_search [--sizes 1000,10000,100000] [--ingest-chunks 2000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import build_embeddings, embedding_id
from services.knowledge import KnowledgeBase
from vectorstore.retrieval import Searcher
from vectorstore.store import KnowledgeStore, embedding_text


def synthetic_catalogue(path: Path, n: int, seed: int = 7) -> None:
    """A product CSV of n rows derived from the demo catalogue (distinct names, real description lengths)."""
    rows = list(csv.DictReader((ROOT / "data/products.csv").open(encoding="utf-8")))
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for i in range(n):
            a, b = rng.choice(rows), rng.choice(rows)
            w.writerow(
                {
                    **a,
                    "sku": f"BENCH-{i:06d}",
                    "name": f"{a['name']} {b['brand']} edition {i}",
                    "stock": str(rng.randint(0, 300)),
                }
            )


class PrecomputedEmbeddings(Embeddings):
    """Hands out pre-made vectors so the store can be filled at 100k without re-running the model."""

    def __init__(self, vectors: np.ndarray, ident: str) -> None:
        self.vectors = vectors
        self.pos = 0
        self.embedding_id = ident

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = self.vectors[self.pos : self.pos + len(texts)]
        self.pos += len(texts)
        return out.tolist()

    def embed_query(self, text: str) -> list[float]:
        raise NotImplementedError


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def bench_ingest(settings: Settings, emb: Embeddings, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "bench_products.csv"
        synthetic_catalogue(csv_path, n)
        from loaders import load_file

        texts = [embedding_text(d) for d in load_file(csv_path)]
        t0 = time.perf_counter()
        for i in range(0, len(texts), settings.embedding_batch_size):
            emb.embed_documents(texts[i : i + settings.embedding_batch_size])
        raw_s = time.perf_counter() - t0
        kb = KnowledgeBase(settings.model_copy(update={"store_dir": Path(tmp) / "store"}), embeddings=emb)
        t0 = time.perf_counter()
        result = kb.ingest_file(csv_path)
        ingest_s = time.perf_counter() - t0
        assert result.chunks == n
    return {"chunks": n, "raw_per_s": n / raw_s, "ingest_per_s": n / ingest_s, "ratio": raw_s / ingest_s}


def bench_search(emb: Embeddings, sizes: list[int], queries: list[str], k: int = 4) -> list[dict]:
    base_docs = []
    from loaders import load_file
    from services.knowledge import expand_paths

    for path in expand_paths([ROOT / "data"]):
        base_docs.extend(load_file(path))
    base = np.asarray(emb.embed_documents([embedding_text(d) for d in base_docs]), dtype=np.float32)
    qvecs = np.asarray([emb.embed_query(q) for q in queries], dtype=np.float32)
    rng = np.random.default_rng(0)
    out = []
    for size in sizes:
        idx = rng.integers(0, len(base), size)
        vecs = base[idx] + rng.normal(0, 0.04, (size, base.shape[1])).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        docs = [
            Document(
                page_content=base_docs[j].page_content,
                metadata={**base_docs[j].metadata, "doc_id": f"bench:{n}", "source": "bench"},
            )
            for n, j in enumerate(idx)
        ]
        with tempfile.TemporaryDirectory() as tmp:
            store = KnowledgeStore(Path(tmp), PrecomputedEmbeddings(vecs, embedding_id(emb)))
            t0 = time.perf_counter()
            store.upsert_source("bench", docs, sha256="x", batch_size=2000)
            fill_s = time.perf_counter() - t0
            store.embeddings = emb  # queries go through the real model from here on
            searcher = Searcher(store, "dense")
            for v in qvecs[:20]:  # warm-up (HNSW load, caches)
                store.search_by_vector(v, k)
            vec_ms, e2e_ms = [], []
            for _ in range(3):
                for q, v in zip(queries, qvecs, strict=True):
                    t0 = time.perf_counter()
                    store.search_by_vector(v, k)
                    vec_ms.append(1000 * (time.perf_counter() - t0))
                    t0 = time.perf_counter()
                    searcher.search(q, k)
                    e2e_ms.append(1000 * (time.perf_counter() - t0))
        out.append(
            {
                "chunks": size,
                "insert_per_s": size / fill_s,
                "vector_p50_ms": pct(vec_ms, 50),
                "vector_p95_ms": pct(vec_ms, 95),
                "e2e_p50_ms": pct(e2e_ms, 50),
                "e2e_p95_ms": pct(e2e_ms, 95),
            }
        )
        print(
            f"  {size:>7} chunks: insert {size / fill_s:,.0f}/s, vector search p50 {pct(vec_ms, 50):.1f} ms "
            f"p95 {pct(vec_ms, 95):.1f} ms, with query embedding p50 {pct(e2e_ms, 50):.1f} ms "
            f"p95 {pct(e2e_ms, 95):.1f} ms",
            flush=True,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--ingest-chunks", type=int, default=500)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    settings = Settings()
    t0 = time.perf_counter()
    emb = build_embeddings(settings)
    print(f"embedder {embedding_id(emb)} loaded in {time.perf_counter() - t0:.1f}s")
    ing = bench_ingest(settings, emb, args.ingest_chunks)
    print(
        f"ingest {ing['chunks']} product chunks: raw model {ing['raw_per_s']:.0f}/s, ingest "
        f"{ing['ingest_per_s']:.0f}/s = {100 * ing['ratio']:.0f}% of raw"
    )
    queries = [json.loads(x)["query"] for x in (ROOT / "eval/sets/dev.jsonl").read_text().splitlines()][:200]
    srch = bench_search(emb, [int(s) for s in args.sizes.split(",")], queries)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak_mb:,.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"ingest": ing, "search": srch, "peak_rss_mb": peak_mb}, indent=2))


if __name__ == "__main__":
    main()
