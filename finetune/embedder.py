"""Adapt the offline MiniLM embedder to customer-service language (runs on CPU in a few minutes).

Real customers write "i wanna cancel order 1234 how do i do it", FAQs say "How do I cancel my order?".
The wheel's all-MiniLM-L6-v2 ranks the right FAQ entry first for ~75% of such utterances; contrastive
training on the TRAIN split of eval/sets (Bitext utterances of the train intents -> the FAQ entries that
answer them, product questions of the train products -> the product) teaches it that mapping. The split is by
template family within each intent, so dev and test hold new phrasings of the same intents, not unseen intents
(eval/sets/README.md). Loss: multi-positive softmax over the batch's positives plus sampled
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
    from vectorstore.views import embedding_text

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
    lora_rank: int = 0,
    delta_out: Path | None = None,
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
    lora = add_lora(model, lora_rank) if lora_rank else []
    params = [p for layer in lora for p in (layer.a, layer.b)] if lora else list(model.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0 if lora else 0.01)
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
            torch.nn.utils.clip_grad_norm_(params, 1.0)
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
    if lora:
        merge_lora(model, lora, delta_out)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    digest = hashlib.sha256((tmp / "model.safetensors").read_bytes()).hexdigest()[:12]
    model_id = f"{out_dir.name}-{digest}"
    (tmp / "model_id.txt").write_text(model_id + "\n", encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return model_id


def add_lora(model, rank: int) -> list:
    """Freeze the model and put a trainable low-rank update (B @ A, B starting at 0) beside every linear layer
    of its transformer; returns the wrappers."""
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear, name: str) -> None:
            super().__init__()
            self.base, self.name = base, name
            self.a = torch.nn.Parameter(torch.randn(rank, base.in_features) / base.in_features**0.5)
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x):
            return self.base(x) + (x @ self.a.T) @ self.b.T

    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear) and ".encoder." in f".{name}.":
                layer = LoRALinear(child, f"{name}.{child_name}")
                setattr(module, child_name, layer)
                wrapped.append(layer)
    return wrapped


def merge_lora(model, wrapped: list, delta_out: Path | None) -> None:
    """Fold each B @ A into its linear layer (the saved model is a plain MiniLM) and, with `delta_out`, save the
    factors in finetune/delta.py's format (`<weight>.u` = B, `<weight>.v` = A)."""
    import torch

    factors = {}
    names = {id(m): n for n, m in model.named_modules()}
    parents = {id(c): (m, cn) for m in model.modules() for cn, c in m.named_children()}
    with torch.no_grad():
        for layer in wrapped:
            layer.base.weight += layer.b @ layer.a
            parent, child_name = parents[id(layer)]
            setattr(parent, child_name, layer.base)
            key = f"{names[id(layer)]}.weight"
            factors[f"{key}.u"] = layer.b.detach().half().contiguous()
            factors[f"{key}.v"] = layer.a.detach().half().contiguous()
    if delta_out is not None:
        from safetensors.torch import save_file

        tmp = delta_out.with_suffix(".tmp")
        save_file(factors, str(tmp))
        os.replace(tmp, delta_out)


def main() -> None:
    from base.settings import get_settings
    from providers.embeddings import wheel_minilm_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=get_settings().adapted_model_dir)
    ap.add_argument("--split-file", type=Path, default=ROOT / "eval/sets/train.jsonl")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--if-missing", action="store_true", help="do nothing when the model already exists")
    ap.add_argument("--lora-rank", type=int, default=0, help="train a low-rank update only (0: every weight)")
    ap.add_argument("--delta-out", type=Path, help="with --lora-rank: also write the update (finetune/delta.py)")
    args = ap.parse_args()
    if args.if_missing and (args.out / "model.safetensors").exists():
        print(f"adapted embedder present: {args.out}")
        return
    pairs, doc_text = load_training_pairs(ROOT / "data", args.split_file)
    print(f"training on {len(pairs)} queries against {len(doc_text)} documents", file=sys.stderr)
    t0 = time.time()
    model_id = train(args.out, wheel_minilm_dir(), pairs, doc_text, epochs=args.epochs, lr=args.lr,
                     lora_rank=args.lora_rank, delta_out=args.delta_out)  # fmt: skip
    print(f"saved {model_id} to {args.out} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
