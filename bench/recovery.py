"""What each way of recovering a torn search index costs, measured on real stores (the numbers behind the
choice in README, "Crash safety").

    python -m bench.recovery                    # demo store + a 3,000-entry FAQ, default (blend) embeddings
    python -m bench.recovery --embedder minilm  # another provider

For each store: the time to build it, how long the writes spent keeping chunk copies in the manifest, the time
to rebuild a torn index from those copies (what the store does), to re-index from the kept files (parse and
embed everything again), and to copy the index directory (what a "last good copy after every write" scheme
would pay on every write), plus the disk each takes. Results: bench/results/recovery.txt.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from core.knowledge import KnowledgeBase, expand_paths
from core.settings import ROOT, Settings
from vectorstore.manifest import Manifest

RESULTS = ROOT / "bench" / "results" / "recovery.txt"


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


ADJECTIVES = ("red", "large", "travel", "kids", "organic", "steel", "linen", "wool", "cedar", "ceramic", "trail",
              "mini", "classic", "bamboo", "pro")  # fmt: skip
NOUNS = ("kettle", "tent", "jacket", "blanket", "skillet", "backpack", "lamp", "mug", "boots", "rug", "towel", "chair",
         "stove", "bottle", "pillow", "knife", "planter", "scarf", "candle", "basket", "tray", "bowl")  # fmt: skip
TOPICS = ("ship to", "return", "warranty for", "price of", "stock of", "care for", "size guide for", "gift wrap")


def _faq(path: Path, n: int) -> Path:
    """n distinct customer-style questions (products x topics), as a big store's FAQ would be."""
    items = [f"{adj} {noun}" for adj in ADJECTIVES for noun in NOUNS]
    entries = []
    for k in range(n):
        topic, item = TOPICS[k % len(TOPICS)], items[(k // len(TOPICS)) % len(items)]
        question = f"What about the {topic} the {item} (model {k})?"
        answer = f"For the {item} model {k}: see our {topic.split()[0]} policy; ask us anytime."
        entries.append({"id": f"q{k}", "question": question, "answer": answer})
    path.write_text(json.dumps({"questions": entries}), encoding="utf-8")
    return path


def measure(name: str, paths: list[Path], settings: Settings, embeddings) -> list[str]:
    store = Path(tempfile.mkdtemp(prefix="bench-recovery-")) / "store"
    kb = KnowledgeBase(settings, store, embeddings)
    copies = [0.0]
    real_put = Manifest.put_chunks

    def timed_put(self, *args, **kwargs):
        t = time.perf_counter()
        real_put(self, *args, **kwargs)
        copies[0] += time.perf_counter() - t

    Manifest.put_chunks = timed_put
    t0 = time.perf_counter()
    report = kb.ingest_paths(paths)
    build = time.perf_counter() - t0
    Manifest.put_chunks = real_put
    assert report.ok, report.failed
    chunks = kb.stats()["chunks"]
    kb.store.close()
    chroma_bytes, manifest_bytes = _size(store / "chroma"), (store / "manifest.sqlite3").stat().st_size

    t0 = time.perf_counter()
    shutil.copytree(store / "chroma", store.parent / "chroma-copy")
    copy_seconds = time.perf_counter() - t0

    for pickle in (store / "chroma").rglob("index_metadata.pickle"):
        pickle.write_bytes(b"")
    torn = KnowledgeBase(settings, store, embeddings)
    t0 = time.perf_counter()
    health = torn.health()
    rebuild = time.perf_counter() - t0
    assert health.status == "ok", health
    torn.store.close()

    t0 = time.perf_counter()
    again = KnowledgeBase(settings, store, embeddings).reindex()
    reindex = time.perf_counter() - t0
    assert again.ok, again.failed
    shutil.rmtree(store.parent, ignore_errors=True)
    mb = 1024 * 1024
    return [
        f"{name}: {len(paths)} files, {chunks:,} chunks; built in {build:.1f} s, of which keeping chunk copies "
        f"{copies[0]:.2f} s ({copies[0] / build:.1%})",
        f"  rebuild the torn index from the manifest's copies (chosen): {rebuild:.1f} s (check in a child included)",
        f"  re-index from the kept files (parse + embed again):          {reindex:.1f} s",
        f"  copy the index directory (a last-good copy, on every write):  {copy_seconds:.2f} s per write",
        f"  disk: Chroma index {chroma_bytes / mb:.1f} MB, manifest with copies {manifest_bytes / mb:.1f} MB",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="blend", help="embedding provider (default: blend, the app's default)")
    parser.add_argument("--faq-entries", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = Settings(embedding_provider=args.embedder, _env_file=None)
    from core.embeddings import build_embeddings

    embeddings = build_embeddings(settings)
    work = Path(tempfile.mkdtemp(prefix="bench-recovery-data-"))
    lines = [f"# python -m bench.recovery --embedder {args.embedder} --faq-entries {args.faq_entries}",
             f"# {time.strftime('%Y-%m-%d')}, embedding id {getattr(embeddings, 'embedding_id', '?')}"]  # fmt: skip
    lines += measure("demo store (data/)", expand_paths([ROOT / "data"]), settings, embeddings)
    lines += measure(f"{args.faq_entries:,}-entry FAQ", [_faq(work / "big_faq.json", args.faq_entries)], settings,
                     embeddings)  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
