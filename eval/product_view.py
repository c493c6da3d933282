"""How much of a product's description its vector should read: retrieval on dev against ingest speed.

For each setting the demo store is built with the default blend and the dev queries are searched; the raw embedding
rate of the product views is timed on the same texts. A setting is `CHARS` (every model reads the product's name,
brand, category, options and the first CHARS characters of its description; -1 = the whole product text, 0 = no
description) or `CHARS/BRIEF` (the blend's multilingual model, e5, reads only BRIEF characters of it:
vectorstore/views.py PRODUCT_BRIEF_CHARS).

Queries: dev (English and Spanish, FAQ and product: these name the product) plus `product_describe_dev.jsonl`
(80 questions, 20 in Spanish, that describe a product by what it does without naming it; written for this choice).
Dev only: the setting is chosen here, and the test split and the held-out catalogue are not looked at.

Usage: .venv/bin/python -m eval.product_view [--settings -1,0,100,100/0] [--json eval/results/product_view.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import vectorstore.views as store_module
from base.paths import ROOT
from base.settings import Settings
from eval.retrieval import evaluate, load_queries
from loaders import load_file
from providers.embeddings import build_embeddings
from services.knowledge import KnowledgeBase

GROUPS = ("all", "product", "es-product", "describe", "es-describe", "bitext-faq", "es-faq")


def describe_queries() -> list[dict]:
    path = ROOT / "eval" / "sets" / "product_describe_dev.jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for item in items:
        item["group"] = ("es-" if item.get("lang") == "es" else "") + "describe"
    return items


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", default="-1,0,100,200,100/0")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    queries = load_queries("dev") + describe_queries()
    emb = build_embeddings(Settings())
    products = load_file(ROOT / "data" / "products.csv")
    report = {}
    print(f"dev queries={len(queries)}; products={len(products)}")
    print(f"{'setting':>8}{'view chars':>11}{'products/s':>11}   hit@1: {' / '.join(GROUPS)}")
    for setting in args.settings.split(","):
        chars, _, brief = setting.partition("/")
        store_module.PRODUCT_VIEW_CHARS = int(chars)
        store_module.PRODUCT_BRIEF_CHARS = int(brief) if brief else -1
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
        report[setting] = {"view_chars": mean_chars, "products_per_s": rate, "groups": groups}
        cells = " / ".join(f"{groups[g]['hit@1']:.3f}" for g in GROUPS if g in groups)
        print(f"{setting:>8}{mean_chars:>11.0f}{rate:>11.1f}   {cells}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
