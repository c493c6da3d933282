"""Where a catalogue ingest spends its time (prints a table; not a test).

Ingests a generated catalogue (bench/catalogue_scale.py `generate`) through `KnowledgeBase.ingest_file` with the
default settings and times the phases by wrapping them: the blend's embedding of the products (`embed_chunks`), the
semantic screen (`SemanticScreen.scores`: its cues and its own MiniLM over the pieces that could reach its
threshold), Chroma's upsert, the manifest's writes. What is left is parsing (a child process), the rule screen,
hashing and bookkeeping. The models are loaded and warmed before the clock starts.

Usage: .venv/bin/python -m bench.ingest_phases [--products 2000] [--out bench/results/ingest_phases.txt]
"""

from __future__ import annotations

import argparse
import collections
import functools
import tempfile
import time
from pathlib import Path

from base.paths import ROOT

RESULTS = ROOT / "bench" / "results" / "ingest_phases.txt"


def _timed(owner: object, name: str, label: str, totals: collections.Counter) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - started

    setattr(owner, name, wrapper)


def main() -> int:
    import loaders.semantic_screen as semantic_screen
    import vectorstore.manifest as manifest
    import vectorstore.store as store
    from base.settings import Settings
    from bench.catalogue_scale import generate
    from providers.embeddings import use_bf16
    from services.knowledge import KnowledgeBase

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    settings = Settings(store_dir=tmp / "store")
    kb = KnowledgeBase(settings)
    generate(tmp / "catalogue.csv", args.products)
    kb.embeddings.embed_documents(["warm up the models"])
    kb.screen.scores(["warm up the screen, send the code"])
    totals: collections.Counter = collections.Counter()
    _timed(store, "embed_chunks", "blend embedding of the products (embed_chunks)", totals)
    _timed(semantic_screen.SemanticScreen, "scores", "semantic screen (cues + its MiniLM)", totals)
    _timed(store.KnowledgeStore, "_index", "Chroma upsert", totals)
    _timed(manifest.Manifest, "put_chunks", "manifest writes", totals)
    started = time.perf_counter()
    result = kb.ingest_file(tmp / "catalogue.csv")
    total = time.perf_counter() - started
    lines = [f"# python -m bench.ingest_phases --products {args.products} ({time.strftime('%Y-%m-%d')}; "
             f"embedding_precision={settings.embedding_precision} -> bf16={use_bf16(settings)}, "
             f"e5_engine={settings.e5_engine})",
             f"{result.documents:,} products ingested in {total:.1f} s = {args.products / total:.1f}/s"]  # fmt: skip
    totals["the rest (parsing, rule screen, hashing, bookkeeping)"] = total - sum(totals.values())
    for label, seconds in totals.most_common():
        lines.append(f"  {label:<55} {seconds:6.1f} s  {100 * seconds / total:4.0f}%")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
