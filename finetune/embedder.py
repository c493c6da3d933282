"""Adapt the offline MiniLM embedder to customer-service language (runs on CPU in a few minutes).

Real customers write "i wanna cancel order 1234 how do i do it", FAQs say "How do I cancel my order?".
The wheel's all-MiniLM-L6-v2 ranks the right FAQ entry first for ~75% of such utterances; contrastive
training on the TRAIN split of eval/sets (Bitext utterances of the train intents -> the FAQ entries that
answer them, product questions of the train products -> the product) teaches it that mapping. Dev and test
intents are never seen here. Loss: multi-positive softmax over the batch's positives plus sampled
negatives from the whole store (in-batch negatives alone would punish utterances that share an answer).

Usage: .venv/bin/python -m finetune.embedder [--out models/minilm-support] [--epochs 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

from base.paths import ROOT


def load_training_pairs(data_dir: Path, split_file: Path) -> tuple[list[tuple[str, list[str]]], dict[str, str]]:
    """(query, relevant doc ids) pairs and the embedding text of every document in the demo store."""
    from loaders import load_file
    from services.knowledge import expand_paths
    from vectorstore.store import embedding_text

    doc_text: dict[str, str] = {}
    for path in expand_paths([data_dir]):
        for doc in load_file(path):
            doc_text.setdefault(doc.metadata["doc_id"], embedding_text(doc))
    pairs = []
    for line in split_file.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        rel = [r for r in item["relevant"] if r in doc_text]
        if rel:
            pairs.append((item["query"], rel))
    return pairs, doc_text


def train(
    out_dir: Path,
    base_dir: Path,
    pairs: list[tuple[str, list[str]]],
    doc_text: dict[str, str],
    *,
    epochs: int = 2,
    batch_size: int = 32,
    lr: float = 3e-5,
    scale: float = 20.0,
    refresh_every: int = 10,
    seed: int = 13,
) -> str:
    """Fine-tune and save; returns the model id written to model_id.txt.

    Every query is scored against EVERY document of the store (a full softmax, so each step sees all the
    hard negatives). Back-propagating through ~400 long documents per step is too slow on 2 cores, so the
    negatives come from a no-grad cache of document embeddings refreshed every `refresh_every` steps, while
    the batch's positive documents are re-embedded with gradients: both sides of the match still adapt.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import torch.nn.functional as F
    from sentence_transformers import SentenceTransformer

    random.seed(seed)
    torch.manual_seed(seed)
    model = SentenceTransformer(str(base_dir), device="cpu")
    model.max_seq_length = 128
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    docs = sorted(doc_text)
    index = {d: n for n, d in enumerate(docs)}
    steps_per_epoch = (len(pairs) + batch_size - 1) // batch_size
    total = steps_per_epoch * epochs
    warmup = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / max(1, total - warmup))
    )

    def embed(texts: list[str]) -> torch.Tensor:
        return F.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=-1)

    def doc_cache() -> torch.Tensor:
        model.eval()
        with torch.no_grad():
            out = torch.cat([embed([doc_text[d] for d in docs[i : i + 64]]) for i in range(0, len(docs), 64)])
        model.train()
        return out

    step = 0
    t0 = time.time()
    cache = doc_cache()
    for epoch in range(epochs):
        order = pairs[:]
        random.shuffle(order)
        for start in range(0, len(order), batch_size):
            if step and step % refresh_every == 0:
                cache = doc_cache()
            batch = order[start : start + batch_size]
            positives = sorted({d for _, rel in batch for d in rel})
            q = embed([query for query, _ in batch])
            p = embed([doc_text[d] for d in positives])
            pos_cols = torch.tensor([index[d] for d in positives])
            keep = torch.ones(len(docs), dtype=torch.bool)
            keep[pos_cols] = False
            candidates = torch.cat([p, cache[keep]])  # positives (with grad) first, then the cached rest
            logits = scale * q @ candidates.T
            mask = torch.zeros_like(logits, dtype=torch.bool)
            col = {d: n for n, d in enumerate(positives)}
            for row, (_, rel) in enumerate(batch):
                for d in rel:
                    mask[row, col[d]] = True
            loss = (torch.logsumexp(logits, dim=1) - torch.logsumexp(logits.masked_fill(~mask, -1e4), dim=1)).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 10 == 0 or step == total:
                print(
                    f"  epoch {epoch + 1}/{epochs} step {step}/{total} loss {loss.item():.3f} "
                    f"({time.time() - t0:.0f}s)",
                    file=sys.stderr,
                    flush=True,
                )
    model.eval()
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    digest = hashlib.sha256((tmp / "model.safetensors").read_bytes()).hexdigest()[:12]
    model_id = f"{out_dir.name}-{digest}"
    (tmp / "model_id.txt").write_text(model_id + "\n", encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return model_id


def main() -> None:
    from base.settings import get_settings
    from providers.embeddings import wheel_minilm_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=get_settings().adapted_model_dir)
    ap.add_argument("--split-file", type=Path, default=ROOT / "eval/sets/train.jsonl")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--if-missing", action="store_true", help="do nothing when the model already exists")
    args = ap.parse_args()
    if args.if_missing and (args.out / "model.safetensors").exists():
        print(f"adapted embedder present: {args.out}")
        return
    pairs, doc_text = load_training_pairs(ROOT / "data", args.split_file)
    print(f"training on {len(pairs)} queries against {len(doc_text)} documents", file=sys.stderr)
    t0 = time.time()
    model_id = train(args.out, wheel_minilm_dir(), pairs, doc_text, epochs=args.epochs, lr=args.lr)
    print(f"saved {model_id} to {args.out} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
