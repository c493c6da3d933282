"""How much of a product's description its vector should read: retrieval on dev against ingest speed.

For each length (-1 = the whole product text, as before; 0 = name, brand, category and options only) the demo
store is built with the default blend and the dev queries (English and Spanish, FAQ and product) are searched;
the raw embedding rate of the product views is timed on the same texts. Dev only: the length is chosen here,
and the test split and the held-out catalogue are not looked at.

Usage: .venv/bin/python -m eval.product_view [--lengths -1,0,100,200,400] [--json eval/results/product_view.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import vectorstore.store as store_module
from base.paths import ROOT
from base.settings import Settings
from eval.retrieval import evaluate, load_queries
from loaders import load_file
from providers.embeddings import build_embeddings
from services.knowledge import KnowledgeBase


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="-1,0,100,200,400")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    queries = load_queries("dev")
    emb = build_embeddings(Settings())
    products = load_file(ROOT / "data" / "products.csv")
    report = {}
    print(f"dev queries={len(queries)}; products={len(products)}")
    print(f"{'chars':>6}{'view chars':>11}{'products/s':>11}   hit@1: all / product / es-product / faq / es-faq")
    for length in (int(x) for x in args.lengths.split(",")):
        store_module.PRODUCT_VIEW_CHARS = length
        views = [store_module.embedding_views(d)[0] for d in products]
        emb.embed_documents(views[:8])  # warm-up
        t0 = time.perf_counter()
        emb.embed_documents(views)
        rate = len(views) / (time.perf_counter() - t0)
        with tempfile.TemporaryDirectory() as tmp:
            kb = KnowledgeBase(Settings(store_dir=Path(tmp)), embeddings=emb)
            assert kb.ingest_paths([ROOT / "data"]).ok
            groups = evaluate(kb, "dense", queries)
            kb.store.close()
        mean_chars = sum(map(len, views)) / len(views)
        report[str(length)] = {"view_chars": mean_chars, "products_per_s": rate, "groups": groups}
        cells = " / ".join(f"{groups[g]['hit@1']:.3f}" for g in ("all", "product", "es-product", "bitext-faq", "es-faq")
                           if g in groups)  # fmt: skip
        print(f"{length:>6}{mean_chars:>11.0f}{rate:>11.1f}   {cells}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
