"""What each way of recovering a torn search index costs, measured (the numbers behind the choice in README,
"Crash safety").

    python -m bench.recovery                    # demo store, a 3,000-entry FAQ (blend), 100k chunks (random vectors)
    python -m bench.recovery --embedder minilm --large 0

Per store: the build, how much of it went into keeping chunk copies in the manifest, then the three ways back
from a torn index: rebuild it from the manifest's copies (what the store does), re-index from the kept files
(parse and embed everything again), or restore a copy of the index taken after every write (we time the copy,
which that scheme pays on every write), and the disk each needs. The large store uses random 1,152-d vectors
(the blend's width) instead of a text model, so it measures the store, not the model; its re-index time is not
measured (it would re-embed 100k chunks at the model's rate, given by the 3,000-entry FAQ line).
Results: bench/results/recovery.txt.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from base.settings import ROOT, Settings
from services.knowledge import KnowledgeBase, expand_paths
from vectorstore.manifest import Manifest
from vectorstore.recovery import rebuild_index

RESULTS = ROOT / "bench" / "results" / "recovery.txt"
ADJECTIVES = ("red", "large", "travel", "kids", "organic", "steel", "linen", "wool", "cedar", "ceramic", "trail",
              "mini", "classic", "bamboo", "pro")  # fmt: skip
NOUNS = ("kettle", "tent", "jacket", "blanket", "skillet", "backpack", "lamp", "mug", "boots", "rug", "towel", "chair",
         "stove", "bottle", "pillow", "knife", "planter", "scarf", "candle", "basket", "tray", "bowl")  # fmt: skip
TOPICS = ("ship to", "return", "warranty for", "price of", "stock of", "care for", "size guide for", "gift wrap")


class RandomEmbeddings(Embeddings):
    """Unit vectors from a seeded generator: the store's cost without a model's."""

    embedding_id = "bench-random-1152"

    def __init__(self, dim: int = 1152) -> None:
        self.rng, self.dim = np.random.default_rng(0), dim

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


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


def measure(name: str, paths: list[Path], settings: Settings, embeddings, reindex: bool = True) -> list[str]:
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
    chroma_bytes, manifest_bytes = _size(store / "chroma"), _size(store) - _size(store / "chroma")

    t0 = time.perf_counter()
    shutil.copytree(store / "chroma", store.parent / "chroma-copy")
    copy_seconds = time.perf_counter() - t0

    pickles = list((store / "chroma").rglob("index_metadata.pickle"))
    for pickle in pickles:
        pickle.write_bytes(b"")
    torn = KnowledgeBase(settings, store, embeddings)
    t0 = time.perf_counter()
    if pickles:  # the real path: the first read fails, the index is checked in a child and rebuilt
        health = torn.health()
        assert health.status == "ok" and torn.events()[0].kind == "recovered", health
        how = "torn, then read: check in a child + rebuild"
    else:  # under Chroma's 1,000-vector sync threshold nothing is persisted to tear: time the rebuild itself
        rebuild_index(store, torn.store.manifest, settings.collection, torn.store.embedding_id)
        how = "nothing persisted to tear at this size; the rebuild alone"
    rebuild = time.perf_counter() - t0
    torn.store.close()

    lines = [
        f"{name}: {len(paths)} files, {chunks:,} chunks; built in {build:.1f} s ({chunks / build:.0f} chunks/s), of "
        f"which keeping chunk copies {copies[0]:.2f} s ({copies[0] / build:.1%})",
        f"  rebuild from the manifest's copies (chosen): {rebuild:.1f} s ({how})",
    ]
    if reindex:
        t0 = time.perf_counter()
        again = KnowledgeBase(settings, store, embeddings).reindex()
        lines.append(f"  re-index from the kept files (parse + embed again): {time.perf_counter() - t0:.1f} s")
        assert again.ok, again.failed
    mb = 1024 * 1024
    lines += [
        f"  copy of the index directory (a last-good copy pays this on every write): {copy_seconds:.2f} s",
        f"  disk: Chroma index {chroma_bytes / mb:.1f} MB; manifest with chunk copies + kept files "
        f"{manifest_bytes / mb:.1f} MB",
    ]
    shutil.rmtree(store.parent, ignore_errors=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="blend", help="embedding provider (default: blend, the app's default)")
    parser.add_argument("--faq-entries", type=int, default=3000)
    parser.add_argument("--large", type=int, default=100_000, help="chunks of the random-vector store (0: skip)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = Settings(embedding_provider=args.embedder, parse_isolation=False, _env_file=None)
    from providers.embeddings import build_embeddings

    embeddings = build_embeddings(settings)
    work = Path(tempfile.mkdtemp(prefix="bench-recovery-data-"))
    lines = [
        f"# python -m bench.recovery --embedder {args.embedder} --faq-entries {args.faq_entries} --large {args.large}",
        f"# {time.strftime('%Y-%m-%d')}, 2-core machine, embedding id {getattr(embeddings, 'embedding_id', '?')}",
    ]
    lines += measure("demo store (data/)", expand_paths([ROOT / "data"]), settings, embeddings)
    lines += measure(
        f"{args.faq_entries:,}-entry FAQ", [_faq(work / "faq.json", args.faq_entries)], settings, embeddings
    )
    if args.large:
        big = [_faq(work / "big_faq.json", args.large)]
        lines += measure(f"{args.large:,} chunks, random vectors", big, settings, RandomEmbeddings(), reindex=False)
    shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
