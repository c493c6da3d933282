"""Catalogue scale on this machine: ingest rate against the embedder's raw rate, a 1% re-upload, search and
filtered-question latency, and memory (prints a table; not a test).

A generated catalogue of N products (names, brands, categories, prices, stock and descriptions recombined from
the demo store's, every name distinct) is ingested through `KnowledgeBase.ingest_file` with the default
settings: child-process parsing, both screens, the default blend embedder. Then:
- raw: the same embedder on 1,000 of the same product texts (`embed_chunks`, batches of 256), no store, timed
  before and after the ingest (this machine's speed drifts over minutes; the ratio is against the mean);
- re-upload with 1% of rows changed (price and stock): chunks re-embedded and seconds;
- search p50/p95 end to end (`KnowledgeBase.search`: the query embedding included), 200 product questions;
- filtered p50/p95: the product desk's filters + sort (`ProductDesk.matches`, over its in-memory catalogue read
  from the manifest once per store change; that read is timed too), 60 questions;
- max RSS of the process (the app would hold the same models and store).

`--fill` sizes (e.g. 100000) are filled with vectors made by the real embedder for a sample of the products and
reused with noise (embedding 100k products takes ~40 min and measures the model, not the store), with every
product's real metadata and text, so filters and search run against a store of that size.

Usage: .venv/bin/python -m bench.catalogue_scale [--ingest 10000] [--fill 100000] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from base.paths import ROOT
from base.settings import Settings
from chains.product_query import ProductQuery
from loaders import load_file
from providers.embeddings import embedding_id
from services.knowledge import KnowledgeBase
from services.products import ProductDesk
from vectorstore.store import KnowledgeStore
from vectorstore.views import embed_chunks

COLOURS = ["Slate", "Sand", "Forest", "Ocean", "Ember", "Frost", "Moss", "Dune", "Storm", "Coral", "Ash", "Plum"]
EDITIONS = ["Classic", "Pro", "Lite", "Max", "Mini", "Plus", "Trail", "Urban", "Studio", "Travel", "Home", "Eco"]


def generate(path: Path, n: int, seed: int = 7) -> list[dict]:
    """A catalogue CSV of `n` distinct products recombined from the demo store's; returns the rows."""
    demo = list(csv.DictReader((ROOT / "data" / "products.csv").open(encoding="utf-8")))
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.choice(demo), rng.choice(demo)
        name = f"{a['name']} {rng.choice(COLOURS)} {rng.choice(EDITIONS)} {i}"
        rows.append({**a, "sku": f"GEN-{i:06d}", "name": name, "brand": b["brand"],
                     "price": f"{float(a['price']) * rng.uniform(0.6, 1.6):.2f}", "stock": str(rng.randint(0, 300)),
                     "description": _unique(f"{a['description']} {b['description']}", i)})  # fmt: skip
    write(path, rows)
    return rows


def _unique(description: str, i: int) -> str:
    """Every sentence made distinct to this product, as in a real catalogue (the screen embeds each sentence once
    per ingest: recombined demo sentences would repeat and flatter it)."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", description) if s]
    return " ".join(f"{s.rstrip('.!?')} (no. {i}-{n})." for n, s in enumerate(sentences))


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def questions(rows: list[dict], rng: random.Random, n: int = 200) -> list[str]:
    forms = ["How much is the {}?", "is the {} in stock?", "{} delivery time", "tell me about the {}"]
    return [rng.choice(forms).format(rng.choice(rows)["name"]) for _ in range(n)]


def filtered(rows: list[dict], rng: random.Random, n: int = 60) -> list[ProductQuery]:
    """Structured questions as the desk reads them: a kind of product (a word of a name) with a price bound,
    stock, a brand or a sort."""
    out = []
    for _ in range(n):
        row = rng.choice(rows)
        words = [w for w in re.findall(r"[A-Za-z]{4,}", row["name"]) if w not in COLOURS and w not in EDITIONS]
        kind = words[-1] if words else row["name"].split()[0]  # e.g. "Skillet" of "Copperleaf ... Skillet"
        choice = rng.randrange(4)
        q = ProductQuery(terms=[kind.lower()])
        if choice == 0:
            q.max_price, q.in_stock = float(row["price"]), True
        elif choice == 1:
            q.sort = "price_asc"
        elif choice == 2:
            q.terms, q.brand, q.max_price = [], row["brand"], 50.0
        else:
            q.min_price, q.max_price = 20.0, 200.0
        out.append(q)
    return out


def time_searches(kb: KnowledgeBase, desk: ProductDesk, qs: list[str], fq: list[ProductQuery]) -> dict:
    for q in qs[:10]:
        kb.search(q)  # warm-up: index load, caches
    search_ms = []
    for q in qs:
        t0 = time.perf_counter()
        kb.search(q)
        search_ms.append(1000 * (time.perf_counter() - t0))
    t0 = time.perf_counter()
    desk.vocabulary()  # the desk reads the live products once per store change
    load_ms = 1000 * (time.perf_counter() - t0)
    filter_ms, found = [], []
    for q in fq[:5]:
        desk.matches(q)
    for q in fq:
        t0 = time.perf_counter()
        found.append(len(desk.matches(q)))
        filter_ms.append(1000 * (time.perf_counter() - t0))
    return {"search_p50_ms": pct(search_ms, 50), "search_p95_ms": pct(search_ms, 95),
            "filtered_p50_ms": pct(filter_ms, 50), "filtered_p95_ms": pct(filter_ms, 95),
            "filtered_median_matches": float(np.median(found)), "catalogue_load_ms": load_ms}  # fmt: skip


def bench_ingest(n: int, tmp: Path) -> dict:
    settings = Settings(store_dir=tmp / f"store-{n}")
    kb = KnowledgeBase(settings)
    path = tmp / "catalogue.csv"
    rows = generate(path, n)
    docs = load_file(path, settings.parse_limits())
    sample = docs[: min(1000, n)]
    embed_chunks(kb.embeddings, sample[:16])  # load and warm the models

    def raw() -> float:
        t0 = time.perf_counter()
        for start in range(0, len(sample), 256):
            embed_chunks(kb.embeddings, sample[start : start + 256])
        return len(sample) / (time.perf_counter() - t0)

    raw_before = raw()
    t0 = time.perf_counter()
    result = kb.ingest_file(path)
    ingest_s = time.perf_counter() - t0
    raw_after = raw()  # this machine's speed drifts over minutes: the ratio is taken against both ends' mean
    raw_rate = (raw_before + raw_after) / 2
    held = sum(1 for w in result.warnings if w.startswith("held a passage"))
    assert result.documents + held == n, result  # the screen may hold a few generated products for review
    rng = random.Random(1)
    for i in rng.sample(range(n), n // 100):  # 1% of the rows change price and stock
        rows[i]["price"] = f"{float(rows[i]['price']) + 1:.2f}"
        rows[i]["stock"] = str(int(rows[i]["stock"]) + 1)
    write(path, rows)
    t0 = time.perf_counter()
    again = kb.ingest_file(path)
    reupload_s = time.perf_counter() - t0
    desk = ProductDesk(kb)
    timings = time_searches(kb, desk, questions(rows, rng), filtered(rows, rng))
    return {"products": n, "held_for_review": held, "ingest_s": ingest_s, "ingest_per_s": n / ingest_s,
            "raw_per_s": raw_rate, "raw_before_per_s": raw_before, "raw_after_per_s": raw_after,
            "ratio_to_raw": (n / ingest_s) / raw_rate, "reupload_changed": n // 100,
            "reupload_embedded": again.embedded, "reupload_s": reupload_s, **timings}  # fmt: skip


def bench_fill(n: int, tmp: Path, sample_size: int = 2000) -> dict:
    """A store of `n` products whose vectors come from `sample_size` real product embeddings plus noise."""
    settings = Settings(store_dir=tmp / f"fill-{n}")
    kb = KnowledgeBase(settings)
    path = tmp / f"fill-{n}.csv"
    rows = generate(path, n, seed=11)
    limits = replace(settings.parse_limits(), max_entries=max(n, settings.max_entries_per_file), max_bytes=1 << 30)
    docs = load_file(path, limits)
    base = embed_chunks(kb.embeddings, docs[:sample_size])
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(base), n)
    vecs = base[idx] + rng.normal(0, 0.01, (n, base.shape[1])).astype(np.float32)
    vecs[:sample_size] = base  # the sampled products keep their real vectors
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)

    class Precomputed:
        embedding_id = embedding_id(kb.embeddings)
        pos = 0

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            out = vecs[self.pos : self.pos + len(texts)]
            self.pos += len(texts)
            return out.tolist()

    store = KnowledgeStore(settings.store_dir, Precomputed())  # type: ignore[arg-type]
    t0 = time.perf_counter()
    store.upsert_source(path.name, docs, sha256="fill", batch_size=5000)
    fill_s = time.perf_counter() - t0
    store.close()
    kb = KnowledgeBase(settings, embeddings=kb.embeddings)
    rows_sampled = rows[:sample_size]  # questions name products whose vectors are real
    rr = random.Random(2)
    timings = time_searches(kb, ProductDesk(kb), questions(rows_sampled, rr), filtered(rows, rr))
    return {"products": n, "fill_s": fill_s, "store_insert_per_s": n / fill_s, **timings}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ingest", default="10000", help="sizes ingested with the real embedder (comma-separated)")
    ap.add_argument("--fill", default="100000", help="sizes filled with sampled vectors (comma-separated, or '')")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    report: dict = {"ingest": [], "fill": []}
    with tempfile.TemporaryDirectory(prefix="catalogue-scale-") as tmp:
        for n in (int(x) for x in args.ingest.split(",") if x):
            r = bench_ingest(n, Path(tmp))
            report["ingest"].append(r)
            print(f"{n:>7} products ingested in {r['ingest_s']:.0f} s = {r['ingest_per_s']:.1f}/s "
                  f"(raw embedder {r['raw_per_s']:.1f}/s, the mean of {r['raw_before_per_s']:.1f} before and "
                  f"{r['raw_after_per_s']:.1f} after: {100 * r['ratio_to_raw']:.0f}%); 1% re-upload: "
                  f"{r['reupload_embedded']} of {n} re-embedded in {r['reupload_s']:.1f} s; {r['held_for_review']} "
                  "held by the screen for review", flush=True)  # fmt: skip
            print(f"{'':>7} search p50 {r['search_p50_ms']:.1f} ms p95 {r['search_p95_ms']:.1f} ms (query embedding "
                  f"included); filtered p50 {r['filtered_p50_ms']:.1f} ms p95 {r['filtered_p95_ms']:.1f} ms",
                  flush=True)  # fmt: skip
        for n in (int(x) for x in args.fill.split(",") if x):
            r = bench_fill(n, Path(tmp))
            report["fill"].append(r)
            print(f"{n:>7} products (filled, store insert {r['store_insert_per_s']:.0f}/s): search p50 "
                  f"{r['search_p50_ms']:.1f} ms p95 {r['search_p95_ms']:.1f} ms; filtered p50 "
                  f"{r['filtered_p50_ms']:.1f} ms p95 {r['filtered_p95_ms']:.1f} ms (the desk's catalogue read once "
                  f"per store change: {r['catalogue_load_ms']:.0f} ms)", flush=True)  # fmt: skip
    report["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {report['max_rss_mb']:,.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
