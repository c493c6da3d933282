"""What a tighter gate bound would trade: screen decisions changed against pieces embedded (prints a table).

The semantic screen embeds a piece only when its cues, the bias and `embedding_bound` could reach the threshold
(loaders/semantic_screen.py). The margin rule (eval.injection_screen) sets the bound to the largest embedding term
seen on the training pieces plus 1.0, which changes no decision there by construction. A smaller bound embeds fewer
pieces (a faster catalogue ingest) but lets through a piece whose embedding term is larger than the bound. For each
candidate bound this prints the decisions that flip (flagged -> not flagged; a gate can only lower a score) on the
training and selection sets, and the pieces embedded per 1,000 generated catalogue products
(bench/catalogue_scale.py `generate`). The fresh set is not read: it stays for a final check of the bound chosen.

Choosing a bound from this table should be followed by one read of the fresh set at that bound.

Usage: .venv/bin/python -m eval.screen_gate_sweep [--products 2000] [--out FILE]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from base.settings import ROOT
from eval.injection_screen import EMBEDDING_MARGIN, _Cached, _written, embedding_bound, load_bank, ordinary

RESULTS = ROOT / "eval" / "results" / "screen_gate_sweep.txt"


def _flips(screen, rows: list, exact: np.ndarray) -> tuple[int, int]:
    """(decisions the gated screen makes differently from `exact`, how many of those texts are hostile)."""
    gated = np.array([f.score >= screen.threshold for f in screen.scores([r[0] for r in rows], gate=True)])
    flipped = exact != gated
    return int(flipped.sum()), int(sum(1 for r, f in zip(rows, flipped, strict=True) if f and r[1] == 1))


def main() -> int:
    from base.settings import Settings
    from bench.catalogue_scale import generate
    from loaders import load_file
    from loaders.semantic_screen import ScreenWeights, SemanticScreen, pieces
    from providers.embeddings import wheel_minilm
    from services.knowledge import screen_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--per-source", type=int, default=600, help="as eval.injection_screen")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    shipped = ScreenWeights.load()  # its bound plays no part: scores below are exact or gated by each candidate
    plain = ordinary(args.per_source)
    sets = {
        "training": [(t, 1, "bank") for t in load_bank()] + _written("dev") + _written("train") + plain["dev"],
        "selection": _written("select") + plain["test"],
    }
    embeddings = _Cached(wheel_minilm())
    margin_rule = embedding_bound(shipped, embeddings, sets["training"])  # eval.injection_screen's bound
    largest = margin_rule - EMBEDDING_MARGIN  # the largest embedding term on the training pieces
    bounds = [margin_rule, largest, 8.0, 7.0, 6.0, 5.0]
    exact_screen = SemanticScreen(embeddings, weights=shipped)
    exact = {name: np.array([f.score >= shipped.threshold for f in exact_screen.scores([r[0] for r in rows])])
             for name, rows in sets.items()}  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalogue.csv"
        generate(path, args.products)
        docs = load_file(path, Settings(store_dir=Path(tmp) / "s").parse_limits())
    catalogue = list(dict.fromkeys(p for d in docs for p in pieces(screen_text(d))))
    threshold_logit = np.log(shipped.threshold / (1.0 - shipped.threshold))
    needed = threshold_logit - shipped.cue_logits(catalogue)  # the embedding term each piece would need

    lines = [f"# python -m eval.screen_gate_sweep --products {args.products} --per-source {args.per_source}",
             f"# {time.strftime('%Y-%m-%d')}; margin rule's bound {margin_rule:.2f} (largest training term "
             f"{largest:.2f} + {EMBEDDING_MARGIN}); threshold {shipped.threshold:.4f}; the fresh set is not read",
             f"{'bound':>6}  {'training flips (hostile)':>26}  {'selection flips (hostile)':>27}  "
             f"pieces embedded per 1,000 products ({len(catalogue)} distinct pieces in {len(docs)})"]  # fmt: skip
    for bound in bounds:
        weights = ScreenWeights(shipped.embedding, shipped.weights, shipped.bias, shipped.threshold, bound)
        cells = []
        for name, rows in sets.items():
            flips, hostile = _flips(SemanticScreen(embeddings, weights=weights), rows, exact[name])
            cells.append(f"{flips} of {len(rows)} ({hostile})")
        embedded = int((needed <= bound).sum()) * 1000 / len(docs)
        lines.append(f"{bound:6.2f}  {cells[0]:>26}  {cells[1]:>27}  {embedded:.0f}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
